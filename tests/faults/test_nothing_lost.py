"""Nothing is lost: after any sequence of faults the database equals what applying the last
successfully read sheet gives, and an emptied or deleted input tab deletes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.faults.conftest import InProcess
from tests.faults.support import Databases, GoogleSheet, dump, edited_workbook, monthly, query, sync_log, workbook
from tests.sheets_api.server import FakeSheetsServer

RETRY = {"timeout_seconds": 2, "max_attempts": 2, "max_total_seconds": 4,
         "backoff_base_seconds": 0.02, "backoff_max_seconds": 0.05}
# Everything but the log of cycles (which records the failures) must match.
COMPARED_OUT = ("sheets_sync_log",)


def third_sheet() -> dict:
    """More typing after the faults: a correction, a deactivated rep, a yearly goal."""
    tabs = edited_workbook()
    tabs["Actuals"][2][3:5] = [8, 15000.5]
    tabs["Reps"][3][4] = False
    tabs["Yearly Goals"].append(["cat@example.com", 2026, 96, 100000])
    return tabs


def test_after_a_run_of_faults_the_database_equals_the_last_sheet_read(
        in_process: Callable[..., InProcess], databases: Databases, google_sheet: GoogleSheet,
        sheets_server: FakeSheetsServer, fresh_db_url: str) -> None:
    reference_url = databases.clone(1)  # still empty: the same history without the faults
    run = in_process(sheets={"retry": RETRY})

    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    sheets_server.inject(503, times=None, kind="values.batchGet")  # 1. the read fails
    assert run.cycle("2026-11-03T10:00").status == "failed"
    sheets_server.clear_faults()
    sheets_server.inject(500, times=None, kind="values.batchUpdate")  # 2. the write fails
    assert run.cycle("2026-11-03T11:00").status == "failed"
    sheets_server.clear_faults()

    # 3. the database drops the cycle's sessions while the write is in flight
    sheets_server.clear_requests()
    sheets_server.inject(delay=0.4, kind="values.batchUpdate")
    database = query(fresh_db_url, "SELECT current_database()")[0][0]

    def kill_sessions() -> None:
        deadline = time.monotonic() + 10
        while not sheets_server.count("values.batchUpdate"):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        query(fresh_db_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))

    killer = threading.Thread(target=kill_sessions)
    killer.start()
    assert run.cycle("2026-11-03T12:00").status == "failed"
    killer.join()
    sheets_server.clear_faults()

    google_sheet.put(third_sheet())
    sheets_server.inject(429, retry_after=0, times=1)  # 4. a passing quota hiccup
    assert run.cycle("2026-11-03T13:00").status == "success"
    assert [status for status, _ in sync_log(fresh_db_url)] == ["success", "failed", "failed", "failed", "success"]

    # The same sheets, read successfully at the same moments, without any fault.
    google_sheet.put(workbook())
    reference = in_process(database={"url": reference_url}, sheets={"retry": RETRY})
    assert reference.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(third_sheet())
    assert reference.cycle("2026-11-03T13:00").status == "success"

    faulted = dump(fresh_db_url, exact=False)
    clean = dump(reference_url, exact=False)
    assert faulted == clean
    assert monthly(fresh_db_url)["ben@example.com"]["revenue"] == 15000.5


def test_emptied_and_deleted_input_tabs_delete_nothing_and_are_reported(
        in_process: Callable[..., InProcess], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        fresh_db_url: str) -> None:
    run = in_process()
    assert run.cycle("2026-11-03T09:00").status == "success"
    stored = dump(fresh_db_url, ("sales_reps", "rep_monthly_goals", "rep_yearly_goals"), exact=False)

    tabs = workbook()
    tabs["Actuals"] = []  # every cell cleared, header too
    tabs["Monthly Goals"] = tabs["Monthly Goals"][:1]  # every row deleted, header kept
    google_sheet.put(tabs)
    sheets_server.delete_tab(google_sheet.id, "Reps")
    sheets_server.delete_tab(google_sheet.id, "Yearly Goals")

    result = run.cycle("2026-11-03T10:00")

    assert result.status == "partial" and result.exit_code == 3
    assert dump(fresh_db_url, ("sales_reps", "rep_monthly_goals", "rep_yearly_goals"), exact=False) == stored
    assert query(fresh_db_url, "SELECT count(*) FROM sales_reps WHERE is_active") == [(3,)]
    errors = google_sheet.output("Sync Errors")
    reported = {row[0] for row in errors[1:]}
    assert {"Actuals", "Yearly Goals"} <= reported
    # The optional Reps tab may be absent without a complaint, but never costs a rep.
    summary = google_sheet.output("Summary")
    assert {row[1] for row in summary[1:] if len(row) > 1 and row[1]} == {
        "ann@example.com", "ben@example.com", "cat@example.com"}
