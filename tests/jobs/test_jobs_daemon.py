"""The daemon as cron or systemd runs it: ``python -m sync run`` in its own process.

It keeps time from ``--now``, sends the 09:00 reminders when its clock passes
09:00, stops on SIGTERM within a few seconds whether it is sleeping or in the
middle of a cycle, and survives a database that is not there yet.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from models.engine import make_engine
from models.store import Store
from tests.jobs.helpers import Book, rows
from tests.jobs.mailbox import Mailbox

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_SECONDS = 5.0


class Daemon:
    """A ``python -m sync run`` process whose log lines can be awaited."""

    def __init__(self, config: Path, now: str, *extra_args: str, env: dict[str, str] | None = None) -> None:
        environment = {k: v for k, v in os.environ.items() if k not in {"GOALS_DATABASE_URL", "NOTIFY_SOCKET"}}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sync", "run", "--config", str(config), "--now", now, *extra_args],
            cwd=ROOT, env={**environment, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.arrived: list[float] = []
        """When each of ``lines`` arrived (``time.monotonic``)."""
        self.exited_at = 0.0
        self._queue: queue.Queue[tuple[float, str] | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put((time.monotonic(), line.rstrip("\n")))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Block until a log line containing ``text`` appears; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None:
                break
            line = self._keep(item)
            if text in line:
                return line
        raise AssertionError(f"no log line with {text!r}; the log was:\n" + "\n".join(self.lines))

    def stop(self, signum: int = signal.SIGTERM, *, twice: bool = False) -> tuple[int, float]:
        """Send ``signum`` (twice if asked); return the exit code and the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signum)
        if twice:
            time.sleep(0.05)
            self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        self.exited_at = time.monotonic()
        while (item := self._queue.get(timeout=5)) is not None:
            self._keep(item)
        return code, self.exited_at - started

    def _keep(self, item: tuple[float, str]) -> str:
        arrived, line = item
        self.arrived.append(arrived)
        self.lines.append(line)
        return line

    def kill(self) -> None:
        """Make sure the process is gone (test clean-up)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def daemon(config: Path, now: str, *extra_args: str, env: dict[str, str] | None = None) -> Iterator[Daemon]:
    """A running daemon (``extra_args`` after ``run``; ``env`` on top of ours), killed at the end
    whatever happens."""
    started = Daemon(config, now, *extra_args, env=env)
    try:
        yield started
    finally:
        started.kill()


@pytest.fixture
def daemon_config(write_config: Callable[..., Path]) -> Callable[..., Path]:
    """``daemon_config(database_url, **sections)``: a config with a 1 s poll and DEBUG logs (the
    tests read the log)."""

    def write(database_url: str, **sections: Any) -> Path:
        return write_config(database_url, **{"sync": {"poll_seconds": 1}, "logging": {"level": "DEBUG"},
                                              **sections})

    return write


def _reps(count: int) -> dict[str, list[list[Any]]]:
    return {
        "Reps": [[f"rep{i}@example.com", f"Rep {i}", "Team", True, 10, 120] for i in range(count)],
        "Actuals": [[f"rep{i}@example.com", 2026, 11, i % 12, 500] for i in range(count)],
    }


def _consistent(url: str, *, aborted: bool = False) -> Store:
    store = Store(make_engine(url))
    assert rows(store, "SELECT count(*) FROM job_runs WHERE status = 'running'") == [(0,)]
    # An aborted cycle may be logged as failed (it was); anything else means a step went wrong.
    allowed = ("success", "partial", "failed") if aborted else ("success", "partial")
    assert rows(store, "SELECT count(*) FROM sheets_sync_log WHERE NOT (status = ANY(:ok))", ok=list(allowed)) == [
        (0,)]
    return store


def test_the_daemon_follows_its_clock_and_stops_while_sleeping(
        daemon_config: Callable[..., Path], fresh_db_url: str, smtp: Mailbox, tmp_path: Path) -> None:
    Book(tmp_path / "goals.xlsx", _reps(3))
    config = daemon_config(fresh_db_url, notifications={"email_url": smtp.url()})
    with daemon(config, "2026-11-03T08:59:56") as process:
        process.wait_for("daemon started")
        line = process.wait_for("job reminders (scheduled 2026-11-03 09:00 UTC) done", timeout=30)
        assert "sent=3" in line
        process.wait_for("sync cycle starting")
        time.sleep(0.6)  # a small workbook syncs fast: the daemon is asleep now
        code, seconds = process.stop()
    assert code == 0 and seconds < STOP_WITHIN_SECONDS, (code, seconds, process.lines)
    assert any("daemon stopped" in line for line in process.lines)
    assert sorted(mail.to[0] for mail in smtp.take()) == [f"rep{i}@example.com" for i in range(3)]
    store = _consistent(fresh_db_url)
    assert rows(store, "SELECT count(*) FROM goal_deadline_reminders WHERE sent") == [(3,)]
    store.dispose()


def test_sigterm_mid_cycle_finishes_the_cycle_then_exits(
        daemon_config: Callable[..., Path], fresh_db_url: str, tmp_path: Path) -> None:
    Book(tmp_path / "goals.xlsx", _reps(1500))  # big enough that a cycle takes a second or more
    config = daemon_config(fresh_db_url)
    with daemon(config, "2026-11-10T12:00:00") as process:
        process.wait_for("sync cycle starting")
        time.sleep(0.3)
        code, seconds = process.stop()
    assert code == 0, (code, seconds, process.lines)
    finished = [i for i, line in enumerate(process.lines) if "cycle success" in line]
    assert finished, process.lines  # the step finished...
    # ...and the daemon left soon after it; how long the cycle itself took depends on the machine's load.
    after_cycle = process.exited_at - process.arrived[finished[0]]
    assert after_cycle < STOP_WITHIN_SECONDS, (after_cycle, process.lines)
    assert not any(" done in " in line for line in process.lines[finished[0]:])  # ...and no new one began
    store = _consistent(fresh_db_url)
    assert rows(store, "SELECT count(*) FROM rep_monthly_goals") == [(1500,)]
    store.dispose()


def test_a_second_signal_stops_at_once_and_rolls_back(
        daemon_config: Callable[..., Path], fresh_db_url: str, tmp_path: Path) -> None:
    Book(tmp_path / "goals.xlsx", _reps(1500))
    config = daemon_config(fresh_db_url)
    with daemon(config, "2026-11-10T12:00:00") as process:
        process.wait_for("sync cycle starting")
        time.sleep(0.3)
        code, seconds = process.stop(twice=True)
    assert code == 0 and seconds < STOP_WITHIN_SECONDS, (code, seconds, process.lines)
    store = _consistent(fresh_db_url, aborted=True)
    # All or nothing: either the cycle committed before the second signal, or nothing of it is there.
    [(logged,)] = rows(store, "SELECT count(*) FROM sheets_sync_log WHERE status = 'success'")
    assert rows(store, "SELECT count(*) FROM rep_monthly_goals") == [(1500 * logged,)]
    store.dispose()


def test_the_daemon_waits_for_a_missing_database_and_recovers(
        daemon_config: Callable[..., Path], database_server_url: str, _template_database: str,
        tmp_path: Path) -> None:
    name = f"{_template_database.removesuffix('template')}late"
    server = make_url(database_server_url)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    url = server.set(database=name).render_as_string(hide_password=False)
    Book(tmp_path / "goals.xlsx", _reps(2))
    config = daemon_config(url)
    try:
        with daemon(config, "2026-11-10T12:00:00") as process:
            process.wait_for("turn failed")  # the database does not exist yet
            process.wait_for("turn failed")  # ... and the daemon keeps trying
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(_template_database)))
            process.wait_for("cycle success", timeout=30)
            code, _ = process.stop(signal.SIGINT)
        assert code == 0
        store = _consistent(url)
        assert rows(store, "SELECT count(*) FROM sales_reps") == [(2,)]
        store.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _cli(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "sync", *args, "--config", str(config)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cron_runs_the_due_jobs_once(daemon_config: Callable[..., Path], fresh_db_url: str, smtp: Mailbox,
                                     tmp_path: Path) -> None:
    Book(tmp_path / "goals.xlsx", _reps(2))
    config = daemon_config(fresh_db_url, notifications={"email_url": smtp.url()}, logging={"level": "INFO"})
    first = _cli("run", "--once", "--now", "2026-11-03T09:02", config=config)
    assert first.returncode == 0, first.stderr
    assert "job reminders (scheduled 2026-11-03 09:00 UTC) done" in first.stderr and "sent=2" in first.stderr
    again = _cli("run", "--once", "--now", "2026-11-03T09:07", config=config)  # cron, five minutes later
    assert again.returncode == 0 and "job reminders" not in again.stderr and "job snapshot" not in again.stderr
    by_hand = _cli("jobs", "reminders", "--now", "2026-11-03T09:10", config=config)
    assert by_hand.returncode == 0, by_hand.stderr
    assert "reminders at 2026-11-03 09:10 UTC: success — created=0 sent=0" in by_hand.stdout
    assert sorted(mail.to[0] for mail in smtp.take()) == ["rep0@example.com", "rep1@example.com"]


def test_a_daemon_started_with_now_keeps_real_time_across_the_clock_change(
        daemon_config: Callable[..., Path], fresh_db_url: str, tmp_path: Path) -> None:
    """Issue 11, item 6: three seconds before the autumn change in New York (01:59:57 EDT) the
    daemon's cycles must read 01:59:5x EDT, then 01:00:0x EST: seconds later, never an hour."""
    Book(tmp_path / "goals.xlsx", _reps(1))
    config = daemon_config(fresh_db_url, timezone="America/New_York")
    with daemon(config, "2026-11-01T01:59:57") as process:
        for _ in range(4):
            process.wait_for("cycle success")
        time.sleep(3.5)  # past 02:00 EDT on the wall clock
        process.wait_for("cycle success")
        code, _ = process.stop()
    assert code == 0
    store = _consistent(fresh_db_url)
    cycles = [moment for (moment,) in rows(store, "SELECT cycle_now FROM sheets_sync_log ORDER BY id")]
    store.dispose()
    start = datetime(2026, 11, 1, 5, 59, 57, tzinfo=UTC)
    assert cycles[-1] > datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC), cycles  # the change was crossed...
    assert all(start <= moment < start + timedelta(minutes=2) for moment in cycles), cycles  # ...without a jump
