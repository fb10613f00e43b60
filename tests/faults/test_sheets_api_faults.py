"""Sheets API faults around a whole cycle (real gspread, fake Sheets server, real PostgreSQL).

Each fault either recovers within the retry budget (the cycle succeeds and the
sheet's edits land) or fails the cycle: status ``failed`` / exit code 1, a
``failed`` row in ``sheets_sync_log`` with a message a person can act on, and
the database exactly as it was. The next cycle after the fault is gone syncs
the edits that were waiting.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.faults.conftest import InProcess
from tests.faults.support import GoogleSheet, dump, edited_workbook, monthly, sync_log
from tests.sheets_api.server import FakeSheetsServer

# Short and bounded: every request times out after 0.3 s, three attempts, 3 s in all.
FAST_RETRY = {"timeout_seconds": 0.3, "max_attempts": 3, "max_total_seconds": 3,
              "backoff_base_seconds": 0.02, "backoff_max_seconds": 0.1}
EDITED_ANN = {"signup_goal": 11, "revenue_goal": Decimal("20000.00"), "signups": Decimal("7.0"),
              "revenue": Decimal("14000.00")}
PLAIN_TEXT_FORBIDDEN = ("Traceback", "File \"", "Error(", "object at 0x")


@pytest.fixture
def synced(in_process: Callable[..., InProcess], google_sheet: GoogleSheet, fresh_db_url: str) -> InProcess:
    """A database after one clean cycle, and the sheet edited since (edits waiting to sync)."""
    run = in_process(sheets={"retry": FAST_RETRY})
    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    return run


def assert_failed_cleanly(run: InProcess, url: str, before: dict[str, list[str]], now: str,
                          *fragments: str) -> str:
    """Run a cycle that must fail: exit 1, a failed log row with a plain message, nothing changed."""
    result = run.cycle(now)
    assert result.status == "failed" and result.exit_code == 1, result
    message = result.error or ""
    for fragment in fragments:
        assert fragment in message, message
    assert not any(bad in message for bad in PLAIN_TEXT_FORBIDDEN), message
    assert sync_log(url)[-1] == ("failed", message)
    assert dump(url) == before, "a failed cycle changed the database"
    return message


def assert_recovers(run: InProcess, url: str, now: str) -> None:
    """The next cycle succeeds and the edits that waited are stored."""
    result = run.cycle(now)
    assert result.status == "success", result
    assert sync_log(url)[-1] == ("success", None)
    assert monthly(url)["ann@example.com"] == EDITED_ANN
    assert "dan@example.com" in monthly(url)


TRANSIENT = [
    pytest.param({"status": 429, "retry_after": 0, "times": 2}, id="429-retry-after-0"),
    pytest.param({"status": 503, "times": 2}, id="503"),
    pytest.param({"status": 500, "html": True, "times": 2}, id="html-500-page"),
    pytest.param({"status": 200, "html": True, "times": 1}, id="html-200-page"),
    pytest.param({"delay": 1.0, "times": 1}, id="hang-past-timeout"),
    pytest.param({"close": True, "times": 1}, id="dropped-connection"),
]


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_passing_fault_is_retried_and_the_cycle_succeeds(synced: InProcess, sheets_server: FakeSheetsServer,
                                                          fresh_db_url: str, fault: dict[str, Any]) -> None:
    sheets_server.clear_requests()
    sheets_server.inject(kind="values.batchGet", **fault)

    assert_recovers(synced, fresh_db_url, "2026-11-03T10:00")
    assert sheets_server.count("values.batchGet") == fault["times"] + 1


def test_retry_after_is_honoured_within_the_budget(synced: InProcess, sheets_server: FakeSheetsServer,
                                                   fresh_db_url: str) -> None:
    sheets_server.inject(429, retry_after=1, kind="values.batchGet")
    started = time.monotonic()

    assert_recovers(synced, fresh_db_url, "2026-11-03T10:00")
    # The backoff alone is at most 0.1 s: only the server's Retry-After explains the wait.
    assert time.monotonic() - started >= 1.0


PERSISTENT = [
    pytest.param({"status": 429, "retry_after": 0}, ("Google Sheets", "HTTP 429", "next cycle"), id="429-forever"),
    pytest.param({"status": 503}, ("Google Sheets", "HTTP 503", "next cycle"), id="503-forever"),
    pytest.param({"status": 502, "html": True}, ("Google Sheets", "non-JSON", "next cycle"), id="html-forever"),
    pytest.param({"delay": 5.0}, ("Google Sheets", "timeout", "next cycle"), id="hang-forever"),
    pytest.param({"close": True}, ("Google Sheets", "connection", "next cycle"), id="dropped-forever"),
    pytest.param({"status": 404}, ("was not found", "sheets.spreadsheet_id"), id="404"),
    pytest.param({"status": 400, "message": "Request contains an invalid argument."},
                 ("HTTP 400", "invalid argument"), id="400"),
]


@pytest.mark.parametrize(("fault", "fragments"), PERSISTENT)
def test_a_lasting_read_fault_fails_the_cycle_and_changes_nothing(
        synced: InProcess, sheets_server: FakeSheetsServer, fresh_db_url: str, fault: dict[str, Any],
        fragments: tuple[str, ...]) -> None:
    before = dump(fresh_db_url)
    sheets_server.inject(kind="values.batchGet", times=None, **fault)
    started = time.monotonic()

    assert_failed_cleanly(synced, fresh_db_url, before, "2026-11-03T10:00", *fragments)
    assert time.monotonic() - started < 4.5, "the retry budget (3 s) was not respected"

    sheets_server.clear_faults()
    assert_recovers(synced, fresh_db_url, "2026-11-03T10:05")


@pytest.mark.parametrize("kind", ["values.batchUpdate", "spreadsheets.get"])
def test_a_failed_write_rolls_the_database_back(synced: InProcess, google_sheet: GoogleSheet,
                                                sheets_server: FakeSheetsServer, fresh_db_url: str,
                                                kind: str) -> None:
    """The write happens inside the transaction: when it fails, the edits are not stored
    either, so the database never claims what the Summary does not show."""
    if kind == "spreadsheets.get":
        # Metadata is only fetched when a tab must be created: delete the Summary tab.
        sheets_server.delete_tab(google_sheet.id, "Summary")
    before = dump(fresh_db_url)
    summary_before = google_sheet.output("Leaderboard")
    sheets_server.inject(503, kind=kind, times=None)

    assert_failed_cleanly(synced, fresh_db_url, before, "2026-11-03T10:00", "next cycle",
                          kind.rsplit(".", maxsplit=1)[-1])
    assert google_sheet.output("Leaderboard") == summary_before

    sheets_server.clear_faults()
    assert_recovers(synced, fresh_db_url, "2026-11-03T10:05")
    summary = google_sheet.output("Summary")
    assert [row[1] for row in summary[1:]] == ["ann@example.com", "dan@example.com", "ben@example.com",
                                               "cat@example.com"]


def test_a_formatting_call_that_fails_rolls_back_too(synced: InProcess, google_sheet: GoogleSheet,
                                                     sheets_server: FakeSheetsServer, fresh_db_url: str) -> None:
    sheets_server.delete_tab(google_sheet.id, "Summary")
    before = dump(fresh_db_url)
    sheets_server.inject(500, kind="spreadsheets.batchUpdate", times=None)

    assert_failed_cleanly(synced, fresh_db_url, before, "2026-11-03T10:00", "next cycle")
    assert "Summary" not in sheets_server.tab_titles(google_sheet.id)

    sheets_server.clear_faults()
    assert_recovers(synced, fresh_db_url, "2026-11-03T10:05")
    assert google_sheet.output("Summary")[0][0] == "Rep"


def test_connection_refused_fails_the_cycle_with_a_plain_message(
        in_process: Callable[..., InProcess], fresh_db_url: str) -> None:
    run = in_process(sheets={"retry": FAST_RETRY})
    assert run.cycle("2026-11-03T09:00").status == "success"
    before = dump(fresh_db_url)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = in_process(sheets={"retry": FAST_RETRY, "api_endpoint": f"http://127.0.0.1:{closed}"})

    message = assert_failed_cleanly(refused, fresh_db_url, before, "2026-11-03T10:00", "next cycle",
                                    "connection")
    assert "Connection refused" in message or "refused" in message.lower()


def test_403_names_the_service_account_to_share_with(in_process: Callable[..., InProcess],
                                                     sheets_server: FakeSheetsServer, google_sheet: GoogleSheet,
                                                     sheets_service_account: Any, fresh_db_url: str) -> None:
    run = in_process(sheets={"retry": FAST_RETRY, "credentials_file": str(sheets_service_account.path)})
    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    before = dump(fresh_db_url)
    sheets_server.unshare(google_sheet.id)

    message = assert_failed_cleanly(run, fresh_db_url, before, "2026-11-03T10:00", "HTTP 403",
                                    sheets_service_account.email, "Share the spreadsheet")
    for line in sheets_service_account.private_key.splitlines()[1:-1]:
        assert line not in message
    assert sheets_server.count("values.batchGet") == 2  # a refusal is not retried

    sheets_server.share(google_sheet.id)
    assert_recovers(run, fresh_db_url, "2026-11-03T10:05")


def test_an_input_tab_deleted_between_cycles_is_reported_and_deletes_nothing(
        synced: InProcess, google_sheet: GoogleSheet, sheets_server: FakeSheetsServer, fresh_db_url: str) -> None:
    actuals_before = {email: (row["signups"], row["revenue"]) for email, row in monthly(fresh_db_url).items()}
    sheets_server.delete_tab(google_sheet.id, "Actuals")

    result = synced.cycle("2026-11-03T10:00")

    assert result.status == "partial" and result.exit_code == 3, result
    rows = monthly(fresh_db_url)
    assert {email: (row["signups"], row["revenue"]) for email, row in rows.items()
            if email in actuals_before} == actuals_before, "actuals were lost with the tab"
    assert rows["ann@example.com"]["signup_goal"] == 11  # the other tabs still synced
    errors = google_sheet.output("Sync Errors")
    assert [row[0] for row in errors[1:]] == ["Actuals"]
    assert "Actuals" in errors[1][4]
    assert sync_log(fresh_db_url)[-1][0] == "partial"


def test_an_output_tab_deleted_between_cycles_comes_back(synced: InProcess, google_sheet: GoogleSheet,
                                                         sheets_server: FakeSheetsServer,
                                                         fresh_db_url: str) -> None:
    """Output tabs are rewritten when their content changes; a deleted one is recreated then."""
    sheets_server.delete_tab(google_sheet.id, "Leaderboard")

    assert synced.cycle("2026-11-03T10:00").status == "success"

    leaderboard = google_sheet.output("Leaderboard")
    assert leaderboard[0][:3] == ["Rank", "Rep", "Team"]
    assert len(leaderboard) == 5
