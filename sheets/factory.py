"""Pick the spreadsheet backend the config asks for (imports only that backend's library)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models.settings import SheetsSettings
from sheets.backend import SpreadsheetBackend


def open_backend(settings: SheetsSettings, *, gate: Callable[[str], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> SpreadsheetBackend:
    """The configured backend; nothing is read or connected until it is used. ``gate(account)``
    runs before every Google API request (the quota shared through the database); ``stop()``
    turns true when the process should stop: a retry wait then ends and the call fails."""
    if settings.backend == "google":
        from sheets.google import GoogleSheetsBackend
        from sheets.http import stoppable_sleep

        if stop is None:
            return GoogleSheetsBackend(settings, gate=gate)
        return GoogleSheetsBackend(settings, gate=gate, sleep=stoppable_sleep(stop))
    from sheets.xlsx import XlsxBackend

    return XlsxBackend(Path(settings.xlsx_path), tabs=settings.tabs)


def output_target(settings: SheetsSettings) -> str:
    """A stable name for where the output tabs go (keys the change-detection state)."""
    if settings.backend == "google":
        return f"google:{settings.summary_spreadsheet_id or settings.spreadsheet_id}"
    return f"xlsx:{Path(settings.xlsx_path).resolve()}"
