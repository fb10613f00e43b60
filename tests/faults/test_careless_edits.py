"""One careless edit costs only its own cells (issue 16), through ``python -m sync run --once``.

Each test starts from a clean first cycle, then makes the edit a person really makes
(a row filled down thousands of times, pasted control characters, garbage rows, a
renamed header, an invisible character in an email, a date typed in a number cell)
together with an ordinary edit elsewhere. The command must report the bad input on
Sync Errors with its tab and cell, sync every other row in the same cycle, keep what
was stored for the bad cells, and leave the Summary agreeing with the database.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sheets.xlsx import XlsxBackend, create_workbook
from tests.cycle.conftest import run_cli
from tests.faults.support import GoogleSheet, monthly, query, workbook
from tests.sheets_api.server import FakeSheetsServer

FIRST, SECOND = "2026-11-03T09:00", "2026-11-03T10:00"


def sync_once(config: Path, now: str = SECOND) -> subprocess.CompletedProcess[str]:
    """``python -m sync run --once`` at ``now``."""
    return run_cli("run", "--once", "--now", now, config=config)


def started(google_sheet: GoogleSheet, cli_config: Callable[..., Path], **sections: Any) -> Path:
    """A config on the clean workbook, after a first clean cycle (ann 4 signups, ben 6.5, cat 9)."""
    # A patient request timeout: these sheets are large, and the machine may be busy.
    retry = {"timeout_seconds": 30, "max_attempts": 3, "max_total_seconds": 90}
    sheets = {"retry": retry, **sections.pop("sheets", {})}
    config = cli_config(sheets=sheets, **sections)
    first = sync_once(config, FIRST)
    assert first.returncode == 0, first.stdout + first.stderr
    return config


class XlsxSheet:
    """The workbook of an xlsx config, read back as the Google sheet's tests read theirs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def output(self, tab: str) -> list[list[Any]]:
        grid = XlsxBackend(self.path).read_tabs([tab])[tab]
        assert grid is not None, f"tab {tab} was not written"
        return [["" if value is None else value for value in row] for row in grid]


Sheet = GoogleSheet | XlsxSheet


def errors(sheet: Sheet) -> list[dict[str, str]]:
    """The Sync Errors rows as dicts (header → value)."""
    header, *rows = sheet.output("Sync Errors")
    return [dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True)) for row in rows]


def summary(sheet: Sheet) -> dict[str, dict[str, Any]]:
    """email → the Summary row as a dict."""
    header, *rows = sheet.output("Summary")
    return {row[1]: dict(zip(header, row, strict=False)) for row in rows if len(row) > 1 and row[1]}


def assert_sheet_agrees_with_database(sheet: Sheet, url: str) -> None:
    """Every active rep's Signups, Revenue and goals on the Summary equal what the database holds."""
    stored = monthly(url)
    shown = summary(sheet)
    active = {email for (email,) in query(url, "SELECT email FROM sales_reps WHERE is_active")}
    assert set(shown) == active
    for email in active:
        row, want = shown[email], stored[email]
        assert float(row["Signups"]) == float(want["signups"]), email
        assert float(row["Revenue"]) == float(want["revenue"]), email
        assert (row["Signup Goal"] or None) == want["signup_goal"], email


def log_row(url: str) -> tuple[str, int, list[dict[str, str]]]:
    """(status, rows_rejected, problems) of the last sync-log row."""
    status, rejected, problems = query(url, "SELECT status, rows_rejected, problems::text FROM sheets_sync_log "
                                            "ORDER BY id DESC LIMIT 1")[0]
    return status, rejected, json.loads(problems)


# --- 1. a row filled down ------------------------------------------------------------------------

def test_a_row_filled_down_thousands_of_times_is_one_problem_and_the_rest_syncs(
        google_sheet: GoogleSheet, cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    config = started(google_sheet, cli_config)
    tabs = workbook()
    tabs["Actuals"][1][3] = 99  # ann's row, changed, then dragged down over 5,000 rows
    tabs["Actuals"][2][3] = 7  # an ordinary edit: ben
    tabs["Actuals"] = [tabs["Actuals"][0], *[list(tabs["Actuals"][1]) for _ in range(5000)], *tabs["Actuals"][2:]]
    google_sheet.put({"Actuals": tabs["Actuals"]})

    result = sync_once(config)

    assert result.returncode == 3, result.stdout + result.stderr
    [problem] = errors(google_sheet)
    assert problem["Cell"] == "Actuals!A2" and problem["Email"] == "ann@example.com"
    assert problem["Problem"].startswith("Duplicate: ann@example.com for November 2026 is on 5,000 rows of "
                                         "Actuals (rows 2, 3, 4, 5, 6 and 4,995 more)")
    stored = monthly(fresh_db_url)
    assert stored["ann@example.com"]["signups"] == 4  # kept
    assert stored["ben@example.com"]["signups"] == 7  # synced in the same cycle
    assert stored["cat@example.com"]["signups"] == 9
    status, rejected, logged = log_row(fresh_db_url)
    assert (status, rejected, len(logged)) == ("partial", 1, 1)
    assert_sheet_agrees_with_database(google_sheet, fresh_db_url)


# --- 4. a sheet of garbage -----------------------------------------------------------------------

def test_garbage_rows_give_a_capped_sync_errors_tab_with_the_total(
        google_sheet: GoogleSheet, cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    config = started(google_sheet, cli_config, sheets={"max_error_rows": 100})
    tabs = workbook()
    tabs["Actuals"][2][3] = 7  # ben
    garbage = [[f"junk {i}", "year?", "month?", "lots", "#REF!"] for i in range(4000)]  # 5 problems a row
    google_sheet.put({"Actuals": [*tabs["Actuals"], *garbage]})

    result = sync_once(config)

    assert result.returncode == 3, result.stdout + result.stderr
    total, *listed = errors(google_sheet)
    assert total["Tab"] == "(all tabs)"
    assert total["Problem"].startswith("20,000 problems in all; only the first 100 are listed below")
    assert len(listed) == 100
    assert listed[0]["Cell"] == "Actuals!A5" and listed[-1]["Cell"] == "Actuals!E24"
    status, rejected, logged = log_row(fresh_db_url)
    assert (status, rejected, len(logged)) == ("partial", 20_000, 100)  # the log row is bounded too
    assert monthly(fresh_db_url)["ben@example.com"]["signups"] == 7
    assert_sheet_agrees_with_database(google_sheet, fresh_db_url)
    status_line = run_cli("status", "--now", SECOND, config=config).stdout
    assert "20000 problems" in status_line


# --- 3. pasted control characters ----------------------------------------------------------------

def test_nul_control_characters_and_lone_surrogates_cost_only_their_cells(
        google_sheet: GoogleSheet, cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    config = started(google_sheet, cli_config)
    tabs = workbook()
    tabs["Actuals"][1][3] = "7\x00"  # ann's Signups
    tabs["Actuals"][3][3] = 11  # an ordinary edit: cat
    tabs["Reps"][2][1] = "Ben\x00 Booth"  # ben's Name
    tabs["Reps"][3][2] = "North \ud83d"  # cat's Team: half of an emoji
    tabs["Reps"][1][3] = "AE\x1b[2J"  # ann's Title: a terminal escape
    tabs["Reps"].append(["dan@example.com\x00", "Dan Drew", "East", "AE", True, 9, 108])
    google_sheet.put({"Reps": tabs["Reps"], "Actuals": tabs["Actuals"]})

    result = sync_once(config)

    assert result.returncode == 3, result.stdout + result.stderr
    reported = {row["Cell"]: row for row in errors(google_sheet)}
    assert set(reported) == {"Actuals!D2", "Reps!B3", "Reps!C4", "Reps!D2", "Reps!A5"}
    assert reported["Actuals!D2"]["Value"] == "7\u2400"
    assert reported["Reps!B3"]["Problem"].startswith("Name contains an invisible control character (U+0000), "
                                                     "which cannot be stored")
    assert reported["Reps!C4"]["Problem"].startswith("Team contains a broken character")
    reps = {email: (name, team, title) for email, name, team, title in query(
        fresh_db_url, "SELECT email, name, team, title FROM sales_reps")}
    assert reps == {"ann@example.com": ("Ann Archer", "East", "AE"), "ben@example.com": ("Ben Booth", "West", "AE"),
                    "cat@example.com": ("Cat Cole", "West", "SDR")}  # kept; dan's row refused
    stored = monthly(fresh_db_url)
    assert stored["ann@example.com"]["signups"] == 4  # kept
    assert stored["cat@example.com"]["signups"] == 11  # synced in the same cycle
    status, rejected, logged = log_row(fresh_db_url)
    assert (status, rejected) == ("partial", 5)
    assert "7\u2400" in {p["value"] for p in logged}  # the log (jsonb) holds the problem, made printable
    assert_sheet_agrees_with_database(google_sheet, fresh_db_url)
    again = sync_once(config, "2026-11-03T11:00")  # and the next cycle is just the same
    assert again.returncode == 3, again.stdout + again.stderr


# --- 7. invisible characters in keys -------------------------------------------------------------

def test_invisible_characters_in_emails_never_make_a_second_rep(
        google_sheet: GoogleSheet, cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    config = started(google_sheet, cli_config)
    tabs = workbook()
    tabs["Reps"][1][0:2] = ["ann@example.com\u200b", "Ann A. Archer"]  # a zero-width space after a paste
    tabs["Reps"][2][0] = "\ufeffben@example.com"  # a CSV import's byte-order mark
    tabs["Reps"].append(["dan@example.com\u2060", "Dan Drew", "East", "AE", True, 9, 108])
    tabs["Actuals"][3][0:4] = ["cat@example.com\u00a0", 2026, 11, 12]  # a no-break space
    tabs["Actuals"][1][0:4] = ["ann@exam\u00adple.com", 2026, 11, "\u200b5"]  # a soft hyphen; 5 signups
    tabs["Actuals"].append(["dan@example.com", 2026, 11, 2, 300])
    google_sheet.put({"Reps": tabs["Reps"], "Actuals": tabs["Actuals"]})

    result = sync_once(config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert errors(google_sheet) == []
    reps = dict(query(fresh_db_url, "SELECT email, name FROM sales_reps"))
    assert reps == {"ann@example.com": "Ann A. Archer", "ben@example.com": "Ben Booth",
                    "cat@example.com": "Cat Cole", "dan@example.com": "Dan Drew"}
    stored = monthly(fresh_db_url)
    assert (stored["ann@example.com"]["signups"], stored["cat@example.com"]["signups"],
            stored["dan@example.com"]["signups"]) == (5, 12, 2)
    assert_sheet_agrees_with_database(google_sheet, fresh_db_url)


# --- 6. a renamed or merged header ---------------------------------------------------------------

def test_a_renamed_or_merged_header_is_reported_by_the_cycle_and_by_check(
        google_sheet: GoogleSheet, cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    config = started(google_sheet, cli_config)
    tabs = workbook()
    tabs["Actuals"][0][3] = "Signup"  # renamed
    tabs["Actuals"][2][3:5] = [7, 13000]  # ben: the Signups edit cannot sync, the Revenue edit does
    tabs["Monthly Goals"][0][4] = "Revenue Goal ($)"
    tabs["Yearly Goals"][0] = ["Email", "Year", "Signup Goal"]  # "Signup Goal" merged over C1:D1
    google_sheet.put({"Actuals": tabs["Actuals"], "Monthly Goals": tabs["Monthly Goals"],
                      "Yearly Goals": tabs["Yearly Goals"]})

    result = sync_once(config)

    assert result.returncode == 3, result.stdout + result.stderr
    reported = {row["Cell"]: row["Problem"] for row in errors(google_sheet)}
    assert set(reported) == {"Actuals!D1", "Monthly Goals!E1", "Yearly Goals!D1"}
    assert "did you mean Signups?" in reported["Actuals!D1"]
    assert "did you mean Revenue Goal?" in reported["Monthly Goals!E1"]
    assert "merged header cell" in reported["Yearly Goals!D1"] and "'Revenue Goal'" in reported["Yearly Goals!D1"]
    stored = monthly(fresh_db_url)["ben@example.com"]
    assert (stored["signups"], stored["revenue"]) == (6.5, 13000)  # kept; synced in the same cycle
    assert_sheet_agrees_with_database(google_sheet, fresh_db_url)

    check = run_cli("check", "--now", SECOND, config=config)
    assert check.returncode == 1, check.stdout + check.stderr
    fixes = [line for line in check.stdout.splitlines() if line.startswith("FIX")]
    assert len(fixes) == 3, check.stdout
    assert any("Actuals!D1" in line and "did you mean Signups?" in line for line in fixes), check.stdout


# --- 8. a date typed in a number cell ------------------------------------------------------------

DATE_PROBLEM = ("Signups must be a number like 14 or 14.5 (at most one decimal, 0 to 100,000); got '1/5/2026', "
                "which is a date or time: the cell is formatted as a date.")


def test_a_date_typed_in_a_number_cell_is_refused_not_stored_as_a_number(
        google_sheet: GoogleSheet, sheets_server: FakeSheetsServer, cli_config: Callable[..., Path],
        fresh_db_url: str) -> None:
    config = started(google_sheet, cli_config)
    tabs = workbook()
    tabs["Actuals"][2][3] = 7  # ben
    google_sheet.put({"Actuals": tabs["Actuals"]})
    # Typing 1/5/2026 into ann's Signups: Sheets stores the serial 46,027 with a date format.
    sheets_server.set_cell(google_sheet.id, "Actuals", "D2", 46027, number_format={"type": "DATE"})

    result = sync_once(config)

    assert result.returncode == 3, result.stdout + result.stderr
    [problem] = errors(google_sheet)
    assert (problem["Cell"], problem["Value"]) == ("Actuals!D2", "1/5/2026")
    assert problem["Problem"].startswith(DATE_PROBLEM)
    stored = monthly(fresh_db_url)
    assert stored["ann@example.com"]["signups"] == 4  # not 46,027
    assert stored["ben@example.com"]["signups"] == 7
    assert_sheet_agrees_with_database(google_sheet, fresh_db_url)


def test_a_date_in_a_number_cell_of_an_xlsx_workbook_is_refused_too(
        write_config: Callable[..., Path], fresh_db_url: str, tmp_path: Path) -> None:
    config = write_config(fresh_db_url)  # the xlsx backend, tmp_path/goals.xlsx
    book = tmp_path / "goals.xlsx"
    create_workbook(book, workbook())
    assert sync_once(config, FIRST).returncode == 0
    tabs = workbook()
    tabs["Actuals"][1][3] = dt.date(2026, 1, 5)  # openpyxl stores a date-formatted cell
    tabs["Actuals"][2][3] = 7
    create_workbook(book, tabs)

    result = sync_once(config)

    assert result.returncode == 3, result.stdout + result.stderr
    sheet = XlsxSheet(book)
    [problem] = errors(sheet)
    assert (problem["Cell"], problem["Value"]) == ("Actuals!D2", "1/5/2026")
    assert problem["Problem"].startswith(DATE_PROBLEM)
    stored = monthly(fresh_db_url)
    assert (stored["ann@example.com"]["signups"], stored["ben@example.com"]["signups"]) == (4, 7)
    assert_sheet_agrees_with_database(sheet, fresh_db_url)
