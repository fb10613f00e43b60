"""Faults seen from the command line: ``run --once`` exits 1 with a plain message, and the
daemon (``python -m sync run``) keeps running through Sheets and database outages and
syncs as soon as they are over; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import write_config_file
from tests.cycle.conftest import run_cli, run_clis
from tests.faults.conftest import InProcess
from tests.faults.support import (
    CYCLE_TABLES,
    DatabaseProxy,
    GoogleSheet,
    dump,
    edited_workbook,
    monthly,
    repo_root,
    sync_log,
)
from tests.sheets_api.server import FakeSheetsServer


def assert_plain(output: str) -> None:
    """No traceback or library repr reaches the person reading the output."""
    for bad in ("Traceback", 'File "', "object at 0x"):
        assert bad not in output, output


def test_run_once_fails_with_exit_1_a_plain_message_and_a_failed_row(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        fresh_db_url: str, in_process: Callable[..., InProcess]) -> None:
    config = cli_config()
    run = in_process()  # the cycles around the failing command run in this process (faster)
    assert run.cycle("2026-11-03T09:00").status == "success"
    google_sheet.put(edited_workbook())
    before = dump(fresh_db_url, CYCLE_TABLES)  # the jobs' midnight snapshot runs before the cycle
    sheets_server.inject(503, times=None)

    failed = run_cli("run", "--once", "--now", "2026-11-03T10:00", config=config)

    assert failed.returncode == 1, failed.stderr
    assert "error: Google Sheets" in failed.stdout + failed.stderr
    assert_plain(failed.stdout + failed.stderr)
    assert sync_log(fresh_db_url)[-1][0] == "failed"
    assert dump(fresh_db_url, CYCLE_TABLES) == before

    sheets_server.clear_faults()
    assert run.cycle("2026-11-03T10:05").status == "success"
    assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 11


def test_run_once_with_the_database_down_exits_1_with_a_plain_message(
        cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    proxy = DatabaseProxy(fresh_db_url)
    config = cli_config(database_url=proxy.url)
    proxy.down()

    result = run_cli("run", "--once", "--now", "2026-11-03T10:00", config=config)

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "database" in output and "PostgreSQL is running" in output
    assert_plain(output)
    assert sync_log(fresh_db_url) == []


class Daemon:
    """``python -m sync run`` in the background, its output in a file."""

    def __init__(self, config: Path, log_path: Path, now: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sync", "run", "--config", str(config), "--now", now],
            cwd=repo_root(), env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        """Everything it printed so far."""
        return self.log_path.read_text()

    def alive(self) -> bool:
        """Still running."""
        return self.process.poll() is None

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then wait for the clean exit."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Make sure it is gone (test clean-up)."""
        if self.alive():
            self.process.kill()
            self.process.wait(10)
        self._log.close()


@contextmanager
def daemon(config: Path, tmp_path: Path, now: str = "2026-11-03T09:00") -> Iterator[Daemon]:
    """A running daemon, killed at the end if the test did not stop it."""
    running = Daemon(config, tmp_path / "daemon.log", now)
    try:
        yield running
    finally:
        running.kill()


def wait_for(condition: Callable[[], bool], what: str, running: Daemon, timeout: float = 20) -> None:
    """Poll ``condition`` until true; fail with the daemon's output if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert running.alive(), f"the daemon died while waiting for {what}:\n{running.output()}"
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; daemon output:\n{running.output()[-4000:]}")


def statuses(url: str) -> list[str]:
    return [status for status, _ in sync_log(url)]


def test_daemon_rides_out_a_sheets_outage_and_syncs_when_it_ends(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        fresh_db_url: str, tmp_path: Path) -> None:
    config = cli_config(sync={"poll_seconds": 1})
    sheets_server.inject(503, times=None, kind="values.batchGet")

    with daemon(config, tmp_path) as running:
        wait_for(lambda: statuses(fresh_db_url).count("failed") >= 2, "two failed cycles", running)
        assert monthly(fresh_db_url) == {}
        sheets_server.clear_faults()
        wait_for(lambda: "success" in statuses(fresh_db_url), "a successful cycle", running)
        assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 10

        google_sheet.put(edited_workbook())
        wait_for(lambda: monthly(fresh_db_url).get("ann@example.com", {}).get("signup_goal") == 11,
                 "the edit to sync", running)
        assert running.stop() == 0

    log = statuses(fresh_db_url)
    first_success = log.index("success")
    assert set(log[:first_success]) == {"failed"} and set(log[first_success:]) == {"success"}
    errors = [error for status, error in sync_log(fresh_db_url) if status == "failed"]
    assert all(error and "HTTP 503" in error for error in errors)
    output = running.output()
    assert "the cycle failed" in output and "daemon stopped" in output
    assert "Traceback" not in output


def test_daemon_rides_out_a_database_outage(cli_config: Callable[..., Path], google_sheet: GoogleSheet,
                                            fresh_db_url: str, tmp_path: Path) -> None:
    proxy = DatabaseProxy(fresh_db_url)
    config = cli_config(database_url=proxy.url, sync={"poll_seconds": 1})
    try:
        with daemon(config, tmp_path) as running:
            wait_for(lambda: "success" in statuses(fresh_db_url), "the first cycle", running)
            proxy.down()
            google_sheet.put(edited_workbook())
            time.sleep(3)  # a few turns against a dead database
            assert running.alive(), running.output()
            assert monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 10
            proxy.up()
            wait_for(lambda: monthly(fresh_db_url)["ann@example.com"]["signup_goal"] == 11,
                     "the edit to sync after the outage", running)
            assert running.stop() == 0
    finally:
        proxy.down()

    output = running.output()
    assert "could not" in output and "PostgreSQL is running" in output
    assert "Traceback" not in output, output[-3000:]


def test_sigterm_during_a_long_retry_wait_stops_the_daemon_within_seconds(
        cli_config: Callable[..., Path], sheets_server: FakeSheetsServer, fresh_db_url: str, tmp_path: Path) -> None:
    config = cli_config(sheets={"retry": {"timeout_seconds": 5, "max_attempts": 5, "max_total_seconds": 600}})
    sheets_server.inject(429, retry_after=300, times=None, kind="values.batchGet")

    with daemon(config, tmp_path) as running:
        wait_for(lambda: "retrying in 300" in running.output(), "the first 429", running)
        started = time.monotonic()
        code = running.stop(timeout=30)
        took = time.monotonic() - started

    assert code == 0, running.output()
    assert took < 5, f"the daemon took {took:.1f} s to stop"
    output = running.output()
    assert "daemon stopped" in output and "Traceback" not in output, output
    assert statuses(fresh_db_url) == ["failed"], "the interrupted cycle is recorded as failed, nothing stored"
    assert monthly(fresh_db_url) == {}


BAD_PORT_COMMANDS = [("run", "--once"), ("status",), ("db", "upgrade")]


@pytest.fixture(scope="module")
def bad_port_results(tmp_path_factory: pytest.TempPathFactory
                     ) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """Each of ``BAD_PORT_COMMANDS`` run once on a config whose database port is not a number, the
    three started at once; each case below checks its own command's result."""
    config = write_config_file(tmp_path_factory.mktemp("bad-port"),
                               "postgresql://goals:Pa55-w0rd-3e@127.0.0.1:fivefourthreetwo/goals")
    return dict(zip(BAD_PORT_COMMANDS, run_clis(BAD_PORT_COMMANDS, config=config), strict=True))


@pytest.mark.process
@pytest.mark.parametrize("command", BAD_PORT_COMMANDS)
def test_a_database_port_that_is_not_a_number_is_a_config_error(
        bad_port_results: dict[tuple[str, ...], subprocess.CompletedProcess[str]], command: tuple[str, ...]) -> None:
    result = bad_port_results[command]

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "port" in output and "must be a number" in output
    assert_plain(output)
    assert "Pa55-w0rd-3e" not in output
