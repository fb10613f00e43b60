"""Pick the spreadsheet backend the config asks for (imports only that backend's library)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models.settings import SheetsSettings
from sheets.backend import SpreadsheetBackend


def open_backend(settings: SheetsSettings, *, gate: Callable[[str], None] | None = None) -> SpreadsheetBackend:
    """The configured backend; nothing is read or connected until it is used. ``gate(account)``
    runs before every Google API request (the quota shared through the database)."""
    if settings.backend == "google":
        from sheets.google import GoogleSheetsBackend

        return GoogleSheetsBackend(settings, gate=gate)
    from sheets.xlsx import XlsxBackend

    return XlsxBackend(Path(settings.xlsx_path), tabs=settings.tabs)


def output_target(settings: SheetsSettings) -> str:
    """A stable name for where the output tabs go (keys the change-detection state)."""
    if settings.backend == "google":
        return f"google:{settings.summary_spreadsheet_id or settings.spreadsheet_id}"
    return f"xlsx:{Path(settings.xlsx_path).resolve()}"
