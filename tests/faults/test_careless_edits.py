"""One careless edit costs only its own cells (issue 16), through ``python -m sync run --once``.

Each test starts from a clean first cycle, then makes the edit a person really makes
(a row filled down thousands of times, pasted control characters, garbage rows, a
renamed header, an invisible character in an email, a date typed in a number cell)
together with an ordinary edit elsewhere. The command must report the bad input on
Sync Errors with its tab and cell, sync every other row in the same cycle, keep what
was stored for the bad cells, and leave the Summary agreeing with the database.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cycle.conftest import run_cli
from tests.faults.support import GoogleSheet, monthly, query, workbook

FIRST, SECOND = "2026-11-03T09:00", "2026-11-03T10:00"


def sync_once(config: Path, now: str = SECOND) -> subprocess.CompletedProcess[str]:
    """``python -m sync run --once`` at ``now``."""
    return run_cli("run", "--once", "--now", now, config=config)


def started(google_sheet: GoogleSheet, cli_config: Callable[..., Path], **sections: Any) -> Path:
    """A config on the clean workbook, after a first clean cycle (ann 4 signups, ben 6.5, cat 9)."""
    config = cli_config(**sections)
    first = sync_once(config, FIRST)
    assert first.returncode == 0, first.stdout + first.stderr
    return config


def errors(google_sheet: GoogleSheet) -> list[dict[str, str]]:
    """The Sync Errors rows as dicts (header → value)."""
    header, *rows = google_sheet.output("Sync Errors")
    return [dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True)) for row in rows]


def summary(google_sheet: GoogleSheet) -> dict[str, dict[str, Any]]:
    """email → the Summary row as a dict."""
    header, *rows = google_sheet.output("Summary")
    return {row[1]: dict(zip(header, row, strict=False)) for row in rows}


def assert_sheet_agrees_with_database(google_sheet: GoogleSheet, url: str) -> None:
    """Every active rep's Signups, Revenue and goals on the Summary equal what the database holds."""
    stored = monthly(url)
    shown = summary(google_sheet)
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
