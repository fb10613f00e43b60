"""SIGKILL at any moment of ``run --once`` leaves the database as it was before the cycle or
as it is after it, never in between (one transaction per cycle).

The sheet holds edits waiting to sync. Each round clones the "before" database,
starts ``python -m sync run --once`` and kills it with SIGKILL at a moment spread
over its life: starting up, reading the sheet (held 0.3 s by the fake server),
inside the transaction while the output write is held (0.5 s), after the commit
while the jobs run. The cycle's tables must then equal either the "before" dump
or the dump of an uninterrupted run; the jobs' tables may only hold rows the
uninterrupted run also makes.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import InProcess
from tests.faults.support import CYCLE_TABLES, Databases, GoogleSheet, dump, edited_workbook, monthly, repo_root
from tests.sheets_api.server import FakeSheetsServer

COMPARED = (*CYCLE_TABLES, "sheets_sync_log")
JOB_TABLES = ("goal_progress_snapshots", "leaderboard_snapshots", "goal_achievements", "goal_deadline_reminders")
# Seconds after the sheet read arrives at the server; the first kill lands during start-up.
KILL_AFTER_READ = (0.0, 0.15, 0.45, 0.6, 0.75, 0.95, 1.3, 3.0)
NOW = "2026-11-04T09:30"


def start_cycle(config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    return subprocess.Popen([sys.executable, "-m", "sync", "run", "--once", "--now", NOW, "--config", str(config)],
                            cwd=repo_root(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def slow_sheet(server: FakeSheetsServer) -> None:
    """Hold the read and the write a little, so that kills land inside them."""
    server.clear_faults()
    server.clear_requests()
    server.inject(delay=0.3, kind="values.batchGet")
    server.inject(delay=0.5, kind="values.batchUpdate")


def wait_for_read(server: FakeSheetsServer, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not server.count("values.batchGet") and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def cycle_state(url: str) -> dict[str, list[str]]:
    return dump(url, COMPARED, exact=False)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_before_or_after(
        fresh_db_url: str, databases: Databases, google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        write_config: Callable[..., Path], in_process: Callable[..., InProcess]) -> None:
    from tests.cycle.conftest import run_cli

    setup = in_process()
    assert setup.cycle("2026-11-03T09:00").status == "success"
    setup.store.dispose()  # a template database must have no connections
    google_sheet.put(edited_workbook())
    before = cycle_state(fresh_db_url)
    jobs_before = dump(fresh_db_url, JOB_TABLES, exact=False)

    # The uninterrupted run, for the "after" state.
    reference = databases.clone(0)
    slow_sheet(sheets_server)
    done = run_cli("run", "--once", "--now", NOW,
                   config=write_config(reference, sheets=google_sheet.sheets_config()))
    assert done.returncode == 0, done.stderr
    after = cycle_state(reference)
    jobs_after = dump(reference, JOB_TABLES, exact=False)
    assert after != before, "the edits waiting in the sheet should change the database"

    rng = random.Random(20261104)
    outcomes: list[str] = []
    for index, delay in enumerate(KILL_AFTER_READ, start=1):
        url = databases.clone(index)
        config = write_config(url, sheets=google_sheet.sheets_config())
        slow_sheet(sheets_server)
        process = start_cycle(config)
        if index == 1:
            time.sleep(rng.uniform(0.2, 0.6))  # still importing or migrating
        else:
            wait_for_read(sheets_server, process)
            # A late kill may find the process already done: that round is an "after".
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(delay + rng.uniform(0, 0.1))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)

        state = cycle_state(url)
        if state == before:
            outcomes.append("before")
        elif state == after:
            outcomes.append("after")
        else:
            changed = {table for table in COMPARED if state[table] not in (before[table], after[table])}
            pytest.fail(f"round {index} (kill {delay}s after the read): tables {sorted(changed)} are in "
                        f"between; outcomes so far {outcomes}")
        jobs = dump(url, JOB_TABLES, exact=False)
        for table in JOB_TABLES:
            invented = set(jobs[table]) - set(jobs_after[table]) - set(jobs_before[table])
            assert not invented, f"round {index}: {table} holds rows no complete run makes: {sorted(invented)[:2]}"
        databases.drop_later(url)

    print(f"SIGKILL rounds: {outcomes}")
    assert "before" in outcomes and "after" in outcomes, outcomes


def test_sigkill_while_the_write_is_held_leaves_the_database_as_before(
        fresh_db_url: str, google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        write_config: Callable[..., Path], in_process: Callable[..., InProcess]) -> None:
    """The deterministic case: killed inside the transaction, with the sheet write in flight."""
    config = write_config(fresh_db_url, sheets=google_sheet.sheets_config())
    run = in_process()
    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    before = cycle_state(fresh_db_url)
    sheets_server.clear_requests()
    sheets_server.inject(delay=3, kind="values.batchUpdate")

    process = start_cycle(config)
    deadline = time.monotonic() + 30
    while not sheets_server.count("values.batchUpdate") and time.monotonic() < deadline:
        assert process.poll() is None, "the cycle ended before writing"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(10)

    assert cycle_state(fresh_db_url) == before  # (the midnight snapshot before the cycle may be taken)
    sheets_server.clear_faults()
    assert run.cycle(NOW).status == "success"
    assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 11
