"""The database going away during a cycle: the cycle fails and rolls back, the next one recovers.

"Down" is played two ways: a TCP proxy in front of PostgreSQL that cuts every
connection and closes its port (what clients see when the server stops or
crashes), and ``pg_terminate_backend`` on the cycle's own connections (an
administrator or a failover killing sessions while the server stays up).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.errors import StoreError
from tests.cycle.conftest import run_cli
from tests.faults.conftest import InProcess
from tests.faults.support import (
    CYCLE_TABLES,
    OUTPUT_TABS,
    REFUSE_SYNC_LOG,
    DatabaseProxy,
    GoogleSheet,
    dump,
    edited_workbook,
    execute,
    libpq,
    monthly,
    query,
    sync_log,
)
from tests.sheets_api.server import FakeSheetsServer

SLOW_WRITE_RETRY = {"timeout_seconds": 5, "max_attempts": 2, "max_total_seconds": 10,
                    "backoff_base_seconds": 0.02, "backoff_max_seconds": 0.1}


@pytest.fixture
def proxy(fresh_db_url: str) -> Iterator[DatabaseProxy]:
    """The fresh database behind a proxy that can play the server going down."""
    db_proxy = DatabaseProxy(fresh_db_url)
    yield db_proxy
    db_proxy.down()


def when_request_arrives(server: FakeSheetsServer, kind: str, action: Callable[[], None],
                         timeout: float = 10) -> threading.Thread:
    """Run ``action`` in a thread as soon as the server has received a request of ``kind``."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.count(kind):
                action()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_server_down_mid_transaction_rolls_back_and_the_next_cycle_recovers(
        in_process: Callable[..., InProcess], proxy: DatabaseProxy, google_sheet: GoogleSheet,
        sheets_server: FakeSheetsServer, fresh_db_url: str) -> None:
    run = in_process(database={"url": proxy.url}, sheets={"retry": SLOW_WRITE_RETRY})
    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    before = dump(fresh_db_url)
    log_before = sync_log(fresh_db_url)
    sheets_server.clear_requests()
    # The write to the sheet happens inside the database transaction: hold it, and stop the
    # database while it is held.
    sheets_server.inject(delay=0.5, kind="values.batchUpdate")
    watcher = when_request_arrives(sheets_server, "values.batchUpdate", proxy.down)

    result = run.cycle("2026-11-03T10:00")
    watcher.join()

    assert result.status == "failed" and result.exit_code == 1, result
    assert "could not" in (result.error or "") and "database" in (result.error or "")
    assert dump(fresh_db_url) == before, "the half-done cycle left rows behind"
    # The failure could not be logged: the database was down.
    assert sync_log(fresh_db_url) == log_before

    proxy.up()
    recovered = run.cycle("2026-11-03T10:05")
    assert recovered.status == "success", recovered
    assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 11
    assert "dan@example.com" in {row[1] for row in google_sheet.output("Summary")[1:]}


def test_sessions_killed_mid_transaction_roll_back_and_the_failure_is_logged(
        in_process: Callable[..., InProcess], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        fresh_db_url: str) -> None:
    run = in_process(sheets={"retry": SLOW_WRITE_RETRY})
    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    before = dump(fresh_db_url)
    sheets_server.clear_requests()
    sheets_server.inject(delay=0.5, kind="values.batchUpdate")
    database = query(fresh_db_url, "SELECT current_database()")[0][0]

    def terminate() -> None:
        query(fresh_db_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))

    watcher = when_request_arrives(sheets_server, "values.batchUpdate", terminate)
    result = run.cycle("2026-11-03T10:00")
    watcher.join()

    assert result.status == "failed" and result.exit_code == 1, result
    assert dump(fresh_db_url) == before
    status, error = sync_log(fresh_db_url)[-1]
    assert status == "failed" and error == result.error
    assert "database" in (error or "")

    recovered = run.cycle("2026-11-03T10:05")
    assert recovered.status == "success", recovered
    assert monthly(fresh_db_url)["ann@example.com"]["signups"] == 7


def test_database_down_before_the_cycle_fails_it_without_raising(
        in_process: Callable[..., InProcess], proxy: DatabaseProxy, fresh_db_url: str) -> None:
    run = in_process(database={"url": proxy.url})
    assert run.cycle("2026-11-03T09:00").status == "success"
    proxy.down()

    try:
        result = run.cycle("2026-11-03T10:00")
    except StoreError as error:  # pragma: no cover - the contract says a failure is returned
        pytest.fail(f"run_cycle raised instead of returning a failed cycle: {error}")

    assert result.status == "failed" and result.exit_code == 1
    assert "database" in (result.error or "")
    proxy.up()
    assert run.cycle("2026-11-03T10:05").status == "success"
    assert [status for status, _ in sync_log(fresh_db_url)] == ["success", "success"]


def test_proxy_really_cuts_connections(proxy: DatabaseProxy) -> None:
    """The tool the tests above rely on: down() breaks an open session, up() serves again."""
    import psycopg

    connection = psycopg.connect(libpq(proxy.url), autocommit=True)
    assert connection.execute("SELECT 1").fetchone() == (1,)
    proxy.down()
    with pytest.raises(psycopg.OperationalError):
        connection.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(libpq(proxy.url), connect_timeout=2)
    proxy.up()
    with psycopg.connect(libpq(proxy.url)) as again:
        assert again.execute("SELECT 1").fetchone() == (1,)


# --- the sheet is written only after every database statement succeeded -------------------

def test_a_failing_sync_log_insert_leaves_the_sheet_as_it_was(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, fresh_db_url: str) -> None:
    config = cli_config()
    assert run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config).returncode == 0
    google_sheet.put(edited_workbook())
    sheet_before = {tab: google_sheet.output(tab) for tab in OUTPUT_TABS}
    before = dump(fresh_db_url, CYCLE_TABLES)
    execute(fresh_db_url, REFUSE_SYNC_LOG)

    refused = run_cli("run", "--once", "--now", "2026-11-03T10:00", config=config)

    assert refused.returncode == 1, refused.stderr
    assert "the sync log refuses new rows" in refused.stderr
    # The Summary does not claim a sync the database rolled back.
    assert {tab: google_sheet.output(tab) for tab in OUTPUT_TABS} == sheet_before
    assert dump(fresh_db_url, CYCLE_TABLES) == before
    assert sync_log(fresh_db_url)[-1][0] == "failed"

    execute(fresh_db_url, "DROP TRIGGER refuse_sync_log ON sheets_sync_log")
    healed = run_cli("run", "--once", "--now", "2026-11-03T10:05", config=config)
    assert healed.returncode == 0, healed.stderr
    assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 11
    assert "dan@example.com" in {row[1] for row in google_sheet.output("Summary")[1:]}
