"""The spreadsheet of one benchmark sequence: on the fake Sheets API server or in an xlsx file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.sheets_server import READ_KINDS, WRITE_KINDS, BenchSheetsServer
from bench.workbook import INPUT_TABS, changed_actuals

OUTPUT_TABS = ("Summary", "Leaderboard", "Sync Errors")


class Sheet:
    """Where the input tabs are, how to change them as reps do, how API calls are counted."""

    def __init__(self, tabs: dict[str, list[list[object]]], name: str, workdir: Path,
                 server: BenchSheetsServer | None) -> None:
        """A new spreadsheet ``name`` holding ``tabs``: on ``server``, or (None) an xlsx file in
        ``workdir``."""
        self.tabs, self.name, self.server = tabs, name, server
        self.path = workdir / f"{name}.xlsx"
        if server is not None:
            # Each tab exactly as big as its data (rows=1, columns=1 are minimums), as a trimmed book would
            # be: at 26 columns the largest benchmark book would pass Google's 10,000,000-cell limit.
            server.create_spreadsheet(name, tabs, rows=1, columns=1)
            server.prime(name, INPUT_TABS)
        else:
            from sheets.xlsx import create_workbook

            create_workbook(self.path, tabs)

    @property
    def backend(self) -> str:
        """``google`` or ``xlsx``."""
        return "google" if self.server is not None else "xlsx"

    def settings(self) -> dict[str, Any]:
        """The ``sheets`` section of the config."""
        if self.server is not None:
            return {"backend": "google", "spreadsheet_id": self.name, "api_endpoint": self.server.url}
        return {"backend": "xlsx", "xlsx_path": str(self.path)}

    def change(self, fraction: float, seed: int) -> int:
        """Change ``fraction`` of the Actuals rows (a new Signups value); return the cells changed."""
        changes = changed_actuals(self.tabs, fraction, seed=seed)
        if self.server is not None:
            from sheets.inputs import column_letter

            for row, column, value in changes:
                cell = f"{column_letter(column)}{row + 1}"
                self.server.set_values(self.name, "Actuals", [[value]], start=cell)
            self.server.prime(self.name, INPUT_TABS)
        else:
            # A person editing the workbook and saving it: the input tabs with the new values, the
            # output tabs as they were (their formatting is rewritten by the next write anyway).
            from sheets.xlsx import XlsxBackend, create_workbook

            outputs = XlsxBackend(self.path).read_tabs(list(OUTPUT_TABS))
            create_workbook(self.path, {**self.tabs, **{t: g for t, g in outputs.items() if g is not None}})
        return len(changes)

    def start_counting(self) -> None:
        """Forget the API requests so far."""
        if self.server is not None:
            self.server.clear_requests()

    def calls(self) -> dict[str, int] | None:
        """API requests by kind since ``start_counting``; None for an xlsx file."""
        return self.server.calls() if self.server is not None else None

    def server_seconds(self) -> float | None:
        """Time the fake server spent answering since ``start_counting``; None for an xlsx file."""
        return self.server.server_seconds if self.server is not None else None


def reads_and_writes(calls: dict[str, int]) -> tuple[int, int]:
    """(reads, writes) among API calls by kind."""
    return (sum(n for kind, n in calls.items() if kind in READ_KINDS),
            sum(n for kind, n in calls.items() if kind in WRITE_KINDS))
