"""The cell budget on the Summary side block (Google backend): how many of the spreadsheet's
10,000,000 cells are used, a warning above 80 %, and never a request or a write of its own.

Through the real command line (``run --once``, a fresh process as cron runs it) and in one
process (a daemon's backend kept across cycles), against the strict local Sheets server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sheets.google import GoogleSheetsBackend
from sync.output_tables import SUMMARY_COLUMNS
from tests.cycle.conftest import run_cli
from tests.faults.conftest import InProcess
from tests.faults.support import GoogleSheet, workbook
from tests.sheets_api.server import FakeSheetsServer

RUN = ("run", "--once", "--now")
SIDE = len(SUMMARY_COLUMNS) + 1
"""The side block starts two columns right of the Summary's last column."""


def side_block(sheet: GoogleSheet) -> list[list[Any]]:
    """The Summary's side block as Sheets shows it (label, value), down to its last non-empty row."""
    rows = [row[SIDE:SIDE + 2] for row in sheet.output("Summary")]
    rows = [row + [""] * (2 - len(row)) for row in rows]
    while rows and rows[-1] == ["", ""]:
        rows.pop()
    return rows


def cells_in(server: FakeSheetsServer, spreadsheet_id: str) -> int:
    """Rows × columns of every tab, as Google counts them."""
    return sum(server.tab(spreadsheet_id, t).row_count * server.tab(spreadsheet_id, t).column_count
               for t in server.tab_titles(spreadsheet_id))


def test_run_once_shows_the_cells_used_and_a_second_run_sends_one_read_and_no_write(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer) -> None:
    config = cli_config()

    first = run_cli(*RUN, "2026-11-03T09:00", config=config)

    assert first.returncode == 0, first.stdout + first.stderr
    cells = cells_in(sheets_server, google_sheet.id)  # 4 input tabs, Sheet1, 6 output tabs
    assert cells == 293_000
    assert side_block(google_sheet) == [
        ["Last change synced", "2026-11-03 09:00 UTC"],
        ["Rows read", 11],
        ["Problems", 0],
        ["Status", "success"],
        ["Cells used", "293,000 of 10,000,000 (2 %)"],
    ]
    assert sheets_server.count("spreadsheets.get") == 0  # the formatting call's answer gave the sizes

    # A new process (cron) has not seen the tabs' sizes: it neither writes to say so nor asks.
    sheets_server.clear_requests()
    second = run_cli(*RUN, "2026-11-03T09:05", config=config)

    assert second.returncode == 0, second.stdout + second.stderr
    assert sheets_server.count("values.batchGet") == 1 and sheets_server.count() == 1
    assert side_block(google_sheet)[4] == ["Cells used", "293,000 of 10,000,000 (2 %)"]

    # A rep's actuals change: the Summary is rewritten; the figure it cannot know is left in place.
    tabs = workbook()
    tabs["Actuals"][1][3:5] = [7, 14000]
    google_sheet.put({"Actuals": tabs["Actuals"]})
    sheets_server.clear_requests()
    third = run_cli(*RUN, "2026-11-03T09:10", config=config)

    assert third.returncode == 0, third.stdout + third.stderr
    assert sheets_server.count("values.batchUpdate") == 1 and sheets_server.count("spreadsheets.get") == 0
    assert side_block(google_sheet) == [
        ["Last change synced", "2026-11-03 09:10 UTC"],
        ["Rows read", 11],
        ["Problems", 0],
        ["Status", "success"],
        ["Cells used", "293,000 of 10,000,000 (2 %)"],
    ]


def test_above_80_percent_the_side_block_says_what_to_do(cli_config: Callable[..., Path],
                                                          google_sheet: GoogleSheet,
                                                          sheets_server: FakeSheetsServer) -> None:
    sheets_server.add_tab(google_sheet.id, "Archive 2024", rows=330_000, columns=26)  # 8,580,000 cells
    config = cli_config()

    result = run_cli(*RUN, "2026-11-03T09:00", config=config)
    check = run_cli("check", "--now", "2026-11-03T09:00", config=config)

    assert result.returncode == 0, result.stdout + result.stderr
    cells = cells_in(sheets_server, google_sheet.id)
    assert cells == 8_873_000
    advice = ("delete unused tabs, rows and columns (empty cells count), or move the output tabs to their "
              "own spreadsheet (sheets.summary_spreadsheet_id)")
    assert side_block(google_sheet)[4:] == [
        ["Cells used", "8,873,000 of 10,000,000 (88 %)"],
        ["Warning", f"Above 80 % of Google's limit of 10,000,000 cells: {advice}"],
    ]
    # check says the same in the same words (one function for both).
    warning = next(line for line in check.stdout.splitlines() if line.startswith("WARN"))
    assert warning.endswith(f"cells used 8,873,000 of 10,000,000 (88 %) — above 80 % of Google's limit of "
                            f"10,000,000 cells: {advice}")


def test_a_daemon_rewrites_the_summary_only_when_the_figure_moves(
        in_process: Callable[..., InProcess], google_sheet: GoogleSheet,
        sheets_server: FakeSheetsServer) -> None:
    daemon = in_process()
    backend = GoogleSheetsBackend(daemon.settings.sheets, environ={})
    assert daemon.cycle("2026-11-03T09:00", backend).status == "success"
    assert side_block(google_sheet)[4] == ["Cells used", "293,000 of 10,000,000 (2 %)"]

    sheets_server.clear_requests()
    warm = daemon.cycle("2026-11-03T09:01", backend)

    assert warm.status == "success"
    assert sheets_server.count("values.batchGet") == 1 and sheets_server.count() == 1  # one read, no write

    # A person adds 10 rows to Actuals (260 cells): the rounded figure is the same, nothing is written.
    sheets_server.set_values(google_sheet.id, "Actuals", [[""]], start="A1010")
    sheets_server.clear_requests()
    assert daemon.cycle("2026-11-03T09:02", backend).status == "success"
    assert sheets_server.count() == 1

    # ... then 2,000 more (52,000 cells): the read's answer shows the bigger grid; the Summary says so.
    sheets_server.set_values(google_sheet.id, "Actuals", [[""]], start="A3010")
    sheets_server.clear_requests()
    assert daemon.cycle("2026-11-03T09:03", backend).status == "success"

    assert cells_in(sheets_server, google_sheet.id) == 345_260
    assert side_block(google_sheet)[4] == ["Cells used", "345,000 of 10,000,000 (3 %)"]
    assert sheets_server.count("values.batchGet") == 1 and sheets_server.count("values.batchUpdate") == 1
    assert sheets_server.count() == 2
