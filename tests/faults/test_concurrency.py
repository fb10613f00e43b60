"""Several processes on one database: cron overlapping itself, several daemons at once.

The advisory lock lets one cycle through (the other exits 75); the jobs' own
locks and unique constraints keep every snapshot, achievement and reminder
single, and every email is sent once.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from jobs.channels import ApprisePoster
from jobs.runner import AFTER_CYCLE, BEFORE_CYCLE, run_due
from models.engine import make_engine
from models.locks import CYCLE_LOCK_KEY
from models.settings import Settings
from models.store import Store
from sheets.google import GoogleSheetsBackend
from sync.clock import parse_now
from sync.cycle import run_cycle
from tests.faults.support import (
    Databases,
    GoogleSheet,
    dump,
    libpq,
    monthly,
    query,
    repo_root,
    sync_log,
    workbook,
)
from tests.jobs.mailbox import TEAM_ADDRESS, Mailbox
from tests.sheets_api.server import FakeSheetsServer


def spawn_once(config: Path, now: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    return subprocess.Popen([sys.executable, "-m", "sync", "run", "--once", "--now", now, "--config", str(config)],
                            cwd=repo_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_run_once_at_the_same_moment_one_runs_one_exits_75(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        fresh_db_url: str) -> None:
    # The first read is held 2 s, so whichever process takes the lock keeps it long enough
    # for the other to find it taken, however the two start-ups interleave.
    config = cli_config(sheets={"retry": {"timeout_seconds": 10, "max_attempts": 2, "max_total_seconds": 20}})
    sheets_server.inject(delay=2, kind="values.batchGet")

    processes = [spawn_once(config, "2026-11-03T09:00") for _ in range(2)]
    results = [(process.wait(60), *process.communicate()) for process in processes]

    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 75], results
    skipped = next(out + err for code, out, err in results if code == 75)
    assert "another sync cycle is running" in skipped
    assert sync_log(fresh_db_url) == [("success", None)]
    assert sheets_server.count("values.batchGet") == 1  # the skipped one never read the sheet
    assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 10


# --- several daemons for a simulated month -----------------------------------------

def _set(tab: list[list[Any]], email: str, values: dict[int, Any]) -> None:
    row = next(r for r in tab[1:] if r[0] == email)
    for column, value in values.items():
        row[column] = value


def month_of_edits() -> list[tuple[str, dict[str, list[list[Any]]]]]:
    """(moment, the sheet as it is then) for a November: goals set early, late and never;
    actuals growing until goals and bonus tiers are met; then the turn of the month."""
    tabs = workbook()
    tabs["Monthly Goals"] = [tabs["Monthly Goals"][0]]  # nobody has set November goals yet
    tabs["Actuals"] = [tabs["Actuals"][0]]
    tabs["Yearly Goals"] = [tabs["Yearly Goals"][0]]
    plan: list[tuple[str, dict[str, list[list[Any]]]]] = []

    def at(moment: str) -> None:
        plan.append((moment, {name: [list(row) for row in grid] for name, grid in tabs.items()}))

    at("2026-11-01T00:30")
    tabs["Monthly Goals"].append(["ann@example.com", 2026, 11, 10, 20000, 2])
    at("2026-11-02T09:10")
    at("2026-11-03T09:10")
    tabs["Monthly Goals"].append(["ben@example.com", 2026, 11, 12, 25000, 3])
    tabs["Actuals"].append(["ann@example.com", 2026, 11, 4, 6000])
    at("2026-11-05T13:10")
    at("2026-11-06T17:10")
    at("2026-11-07T09:10")
    _set(tabs["Actuals"], "ann@example.com", {3: 11, 4: 21000})
    tabs["Actuals"].append(["ben@example.com", 2026, 11, 6, 9000])
    at("2026-11-15T13:10")
    _set(tabs["Actuals"], "ben@example.com", {3: 12.5, 4: 26000})
    at("2026-11-30T17:10")
    at("2026-12-01T00:30")
    return plan


def _turn(settings: Settings, url: str, now: datetime, start_after: float, barrier: threading.Barrier) -> str:
    """One daemon turn, as ``sync.daemon`` runs it: the jobs due before the cycle (the midnight
    snapshot), the cycle, then the other due jobs unless the cycle failed or was skipped. Each
    daemon has its own engine and HTTP client."""
    store = Store(make_engine(url))
    try:
        backend = GoogleSheetsBackend(settings.sheets, environ={})
        notifier = ApprisePoster(settings.notifications)
        barrier.wait()
        time.sleep(start_after)
        outcomes = run_due(store, settings, notifier, now, jobs=BEFORE_CYCLE)
        result = run_cycle(settings, store, backend, now)
        if result.status not in ("failed", "skipped"):
            outcomes += run_due(store, settings, notifier, now, jobs=AFTER_CYCLE)
        failed = [o for o in outcomes if o.status == "failed"]
        assert not failed, failed
        return result.status
    finally:
        store.dispose()


def run_month(settings: Settings, url: str, sheet: GoogleSheet, daemons: int, seed: int) -> list[str]:
    """Every moment of the month: put the sheet, let ``daemons`` daemons take a turn together
    (with small random offsets, so cycles and jobs overlap in every way). Returns the statuses."""
    rng = random.Random(seed)
    statuses: list[str] = []
    for moment, tabs in month_of_edits():
        sheet.put(tabs)
        now = parse_now(moment, settings.tz)
        barrier = threading.Barrier(daemons)
        results: list[str] = [""] * daemons
        errors: list[BaseException] = []

        def worker(index: int, offset: float, now: datetime = now, barrier: threading.Barrier = barrier,
                   results: list[str] = results, errors: list[BaseException] = errors) -> None:
            try:
                results[index] = _turn(settings, url, now, offset, barrier)
            except BaseException as error:  # re-raised in the test thread
                errors.append(error)

        offsets = [rng.choice([0.0, 0.0, 0.03, 0.1, 0.25]) for _ in range(daemons)]
        threads = [threading.Thread(target=worker, args=(i, offsets[i])) for i in range(daemons)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        statuses += results
    return statuses


# Tables whose rows the jobs and cycles make; job_runs and the sync log record how many
# processes took part, which is the one thing allowed to differ.
COMPARED = ("sales_reps", "rep_monthly_goals", "rep_yearly_goals", "goal_progress_snapshots",
            "leaderboard_snapshots", "goal_achievements", "goal_deadline_reminders", "sheet_output_state")


@pytest.mark.slow
def test_three_daemons_for_a_month_do_what_one_daemon_does(
        settings_factory: Callable[..., Settings], fresh_db_url: str, databases: Databases,
        google_sheet: GoogleSheet, smtp: Mailbox) -> None:
    alone_url = databases.clone(1)  # a second empty, migrated database for the lone daemon
    notifications = {"email_url": smtp.url(), "team_urls": [smtp.url(TEAM_ADDRESS)]}

    def settings_for(url: str) -> Settings:
        return settings_factory(database={"url": url}, notifications=notifications,
                                sheets=google_sheet.sheets_config())

    lone = run_month(settings_for(alone_url), alone_url, google_sheet, daemons=1, seed=1)
    assert set(lone) == {"success"}
    lone_mail = Counter((mail.to, mail.subject) for mail in smtp.take())

    crowd = run_month(settings_for(fresh_db_url), fresh_db_url, google_sheet, daemons=3, seed=2)
    crowd_mail = Counter((mail.to, mail.subject) for mail in smtp.take())

    assert set(crowd) <= {"success", "skipped"}
    assert crowd.count("success") >= len(month_of_edits()), "every moment had at least one cycle"
    assert "failed" not in {status for status, _ in sync_log(fresh_db_url)}
    # The month really happened: the four deadline reminders of the rep who never set her goals,
    # one for the rep who set his on the 5th, announcements to reps and to the team.
    assert sum(count for (to, _), count in lone_mail.items() if to == ("cat@example.com",)) == 4
    assert any(to == (TEAM_ADDRESS,) for to, _ in lone_mail)
    assert set(lone_mail.values()) == {1}
    # Three daemons: the same emails, each once, and the same rows.
    assert crowd_mail == lone_mail
    assert dump(fresh_db_url, COMPARED, exact=False) == dump(alone_url, COMPARED, exact=False)
    for url in (fresh_db_url, alone_url):
        assert query(url, "SELECT count(*) FROM goal_deadline_reminders WHERE sent") == [(5,)]
        assert query(url, "SELECT count(*) FROM goal_achievements WHERE NOT recognized") == [(0,)]
    snapshot_days = query(fresh_db_url, "SELECT count(DISTINCT snapshot_date) FROM goal_progress_snapshots "
                                        "WHERE snapshot_type = 'daily'")[0][0]
    # One day ended before each moment; 31 October, before the first, had no goals to snapshot.
    assert snapshot_days == len(month_of_edits()) - 1


# --- the lock lives as long as the cycle ------------------------------------------------

def _lock_holder(url: str, timeout: float = 30) -> int:
    """The server pid of the session holding the cycle lock, once someone holds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(url, """
            SELECT pid FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND objid = %s AND classid = %s
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """, (CYCLE_LOCK_KEY & 0xFFFFFFFF, CYCLE_LOCK_KEY >> 32))
        if rows:
            return int(rows[0][0])
        time.sleep(0.05)
    raise AssertionError("no process took the cycle lock")


@pytest.mark.parametrize("how", ["pg_terminate_backend", "idle_session_timeout"])
def test_a_lost_lock_never_lets_two_cycles_run(cli_config: Callable[..., Path], sheets_server: FakeSheetsServer,
                                              fresh_db_url: str, how: str) -> None:
    config = cli_config(sheets={"retry": {"timeout_seconds": 300, "max_attempts": 2, "max_total_seconds": 400}})
    if how == "idle_session_timeout":  # a server that closes idle sessions after one second
        with psycopg.connect(libpq(fresh_db_url), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} SET idle_session_timeout = '1s'").format(
                sql.Identifier(conn.info.dbname)))
    # The first cycle's read is held until the second process has finished, however slow the machine.
    sheets_server.inject(delay=300, kind="values.batchGet")

    first = spawn_once(config, "2026-11-03T09:00")
    holder = _lock_holder(fresh_db_url)
    if how == "pg_terminate_backend":
        assert query(fresh_db_url, "SELECT pg_terminate_backend(%s)", (holder,)) == [(True,)]
    else:
        time.sleep(1.5)  # longer than the timeout, while the first cycle waits for the sheet
    second = spawn_once(config, "2026-11-03T09:00")
    second_output = second.communicate(timeout=300)
    sheets_server.release_delayed()
    first_output = first.communicate(timeout=300)
    results = [(first.returncode, *first_output), (second.returncode, *second_output)]

    statuses = [status for status, _ in sync_log(fresh_db_url)]
    assert statuses.count("success") == 1, (statuses, results)
    codes = [code for code, _, _ in results]
    if how == "pg_terminate_backend":  # the first cycle lost its lock and its work: it stops
        assert codes == [1, 0], results
        assert "could not" in results[0][2] and "database" in results[0][2]
    else:  # the lock is taken inside the cycle's transaction, which the idle timeout spares
        assert codes == [0, 75], results


# --- a person saving the workbook while the output tabs are written ---------------------------

def test_a_save_that_lands_during_the_xlsx_write_is_not_lost(write_config: Callable[..., Path], fresh_db_url: str,
                                                             tmp_path: Path) -> None:
    from bench.workbook import DEFAULT_NOW, Spec, generate
    from sheets.xlsx import XlsxBackend, create_workbook

    path = tmp_path / "goals.xlsx"
    tabs = generate(Spec(reps=2000, months=1), DEFAULT_NOW)  # a save of this takes seconds
    create_workbook(path, tabs)
    # The person's version: the same workbook with one actual changed, saved the way spreadsheet
    # apps save (a new file renamed over the old one) while the sync is writing its own save.
    tabs["Actuals"][1][3] = 77
    person = tmp_path / "person"
    person.mkdir()
    create_workbook(person / "goals.xlsx", tabs)
    config = write_config(fresh_db_url, sheets={"backend": "xlsx", "xlsx_path": str(path)})
    now = DEFAULT_NOW.strftime("%Y-%m-%dT%H:%M")

    writer = spawn_once(config, now)
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".goals.xlsx.*.tmp")):  # the sync's save has started
        assert writer.poll() is None and time.monotonic() < deadline, writer.communicate()
        time.sleep(0.005)
    os.replace(person / "goals.xlsx", path)
    _, err = writer.communicate(timeout=300)

    assert writer.returncode == 3, err  # the generated sheet has a few bad cells
    grids = XlsxBackend(path).read_tabs(["Actuals", "Summary"])
    assert grids["Actuals"] is not None and grids["Actuals"][1][3] == 77, "the person's save was discarded"
    assert grids["Summary"] is not None and len(grids["Summary"]) > 1900, "the output tabs were not written"
    assert "saved by someone else" in err
    # The next cycle stores what the person typed.
    second = spawn_once(config, now)
    assert second.communicate(timeout=300) and second.returncode == 3
    assert query(fresh_db_url, "SELECT signups_actual FROM rep_monthly_goals g JOIN sales_reps r "
                               "ON r.id = g.sales_rep_id WHERE r.email = 'rep00000@example.com'") == [(77,)]
