"""The daemon as an operator's monitoring sees it: Prometheus ``/metrics`` and ``/healthz`` served by
a running ``python -m sync run --metrics-port``, turning unhealthy when the spreadsheet fails and
healthy again when it is back; systemd's notify protocol read from a test ``NOTIFY_SOCKET``."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.support import GoogleSheet, workbook
from tests.jobs.helpers import Book
from tests.jobs.test_jobs_daemon import _reps, daemon
from tests.sheets_api.server import FakeSheetsServer

ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _health_becomes(base: str, status: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    seen = (0, "")
    while time.monotonic() < deadline:
        seen = _get(f"{base}/healthz")
        if seen[0] == status:
            return seen[1]
        time.sleep(0.2)
    raise AssertionError(f"/healthz never answered {status}; last: {seen}")


def _scrape(base: str) -> Samples:
    status, text = _get(f"{base}/metrics")
    assert status == 200
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset({"source": "default", **labels}.items()))]


def test_metrics_and_health_follow_the_spreadsheet(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer) -> None:
    # Patient timeouts (a loaded machine must not fail the healthy phase); 503s are answered at once.
    retry = {"timeout_seconds": 10, "max_attempts": 3, "max_total_seconds": 30, "backoff_base_seconds": 0.05,
             "backoff_max_seconds": 0.2}
    config = cli_config(sync={"poll_seconds": 1}, logging={"level": "DEBUG"}, sheets={"retry": retry})
    tabs = workbook()
    tabs["Actuals"][1][3] = "seven"  # one rejected cell: Sync Errors has one row
    google_sheet.put(tabs)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with daemon(config, "2026-11-03T10:00", "--metrics-port", str(port)) as process:
        process.wait_for(f"metrics at {base}/metrics")
        body = _health_becomes(base, 200)
        assert body.startswith("ok: last successful sync cycle")

        healthy = _scrape(base)
        synced = _value(healthy, "goals_sync_cycles_total", status="partial")
        assert synced >= 1 and _value(healthy, "goals_sync_cycles_total", status="success") == 0
        assert _value(healthy, "goals_sync_problems") == 1
        assert _value(healthy, "goals_sync_rows_read_total") >= 6  # the workbook's input rows, each cycle
        assert _value(healthy, "goals_sync_rows_stored_total") > 0
        assert _value(healthy, "goals_sync_sheets_requests_total") >= synced  # a read per cycle at least
        assert _value(healthy, "goals_sync_cycle_seconds_count") >= synced
        assert abs(_value(healthy, "goals_sync_last_success_timestamp_seconds") - time.time()) < 60
        assert _value(healthy, "goals_sync_job_runs_total", job="snapshot", status="success") == 1

        sheets_server.inject(503, times=None)  # Google answers 503 to everything from now on
        body = _health_becomes(base, 503, timeout=30)
        assert "no successful sync cycle for" in body and "last cycle failed: Google Sheets is unavailable" in body
        failing = _scrape(base)
        assert _value(failing, "goals_sync_cycles_total", status="failed") > \
            _value(healthy, "goals_sync_cycles_total", status="failed")
        assert _value(failing, "goals_sync_problems") == 1  # no failed cycle rewrote Sync Errors
        assert _value(failing, "goals_sync_sheets_retries_total") >= \
            _value(healthy, "goals_sync_sheets_retries_total") + 2  # 3 attempts per failed call
        assert _value(failing, "goals_sync_last_success_timestamp_seconds") == \
            pytest.approx(_value(healthy, "goals_sync_last_success_timestamp_seconds"), abs=10)

        sheets_server.clear_faults()
        assert _health_becomes(base, 200, timeout=30).startswith("ok:")
        assert _get(f"{base}/nothing-here")[0] == 404
        code, _ = process.stop()
    assert code == 0


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, Path]]:
    """A datagram socket standing in for systemd's (a short path: Unix socket names are limited)."""
    with tempfile.TemporaryDirectory(prefix="notify-", dir="/tmp") as folder:
        path = Path(folder) / "notify"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(path))
        try:
            yield listener, path
        finally:
            listener.close()


def _receive(listener: socket.socket, until: Callable[[list[tuple[float, dict[str, str]]]], bool],
             timeout: float = 60) -> list[tuple[float, dict[str, str]]]:
    """Datagrams as (arrival time, {KEY: value}) until ``until`` holds."""
    got: list[tuple[float, dict[str, str]]] = []
    deadline = time.monotonic() + timeout
    while not until(got):
        listener.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = listener.recv(4096)
        except TimeoutError:
            raise AssertionError(f"the expected notifications did not arrive; got {got}") from None
        got.append((time.monotonic(), dict(line.split("=", 1) for line in data.decode().splitlines())))
    return got


def test_the_daemon_speaks_the_systemd_notify_protocol(
        daemon_config: Callable[..., Path], fresh_db_url: str, tmp_path: Path,
        notify_socket: tuple[socket.socket, Path]) -> None:
    Book(tmp_path / "goals.xlsx", _reps(2))
    # A long poll: between the two turns only the idle loop can keep the 3 s watchdog fed.
    config = daemon_config(fresh_db_url, sync={"poll_seconds": 60})
    listener, path = notify_socket
    watchdog_usec = 3_000_000
    with daemon(config, "2026-11-03T10:00", env={"NOTIFY_SOCKET": str(path),
                                                 "WATCHDOG_USEC": str(watchdog_usec)}) as process:
        def three_idle_pings(got: list[tuple[float, dict[str, str]]]) -> bool:
            turn = next((i for i, (_, m) in enumerate(got) if m.get("STATUS", "").startswith("cycle")), None)
            return turn is not None and sum("WATCHDOG" in m for _, m in got[turn + 1:]) >= 3

        started = _receive(listener, three_idle_pings)
        code, _ = process.stop()
        stopping = _receive(listener, lambda got: any("STOPPING" in m for _, m in got), timeout=30)
    assert code == 0

    first = started[0][1]
    assert first["READY"] == "1" and first["STATUS"].startswith("started: a sync every 60 s")
    turn = next(m for _, m in started if m.get("STATUS", "").startswith("cycle"))
    assert turn["WATCHDOG"] == "1"
    assert turn["STATUS"].startswith("cycle success at 2026-11-03 10:00")
    assert turn["STATUS"].endswith("4 rows read, 0 problems")  # two reps, two actuals
    pings = [at for at, m in started if m.get("WATCHDOG") == "1"]
    assert max(b - a for a, b in itertools.pairwise(pings)) < watchdog_usec / 1e6
    assert stopping[-1][1] == {"STOPPING": "1", "STATUS": "stopping"}


@pytest.mark.process
def test_the_daemon_without_a_metrics_port_does_not_load_prometheus_client() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, sync.cli, sync.daemon; print('prometheus_client' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert probe.stdout.strip() == "False"


@pytest.mark.process
def test_a_metrics_port_in_use_stops_the_start_with_a_plain_message(write_config: Callable[..., Path]) -> None:
    config = write_config("postgresql://goals@127.0.0.1:1/goals")  # never reached: the port check comes first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "sync", "run", "--config", str(config), "--metrics-port",
                                 str(port)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert f"error: cannot serve metrics on 127.0.0.1:{port}: Address already in use; choose another port" \
        in result.stderr
    assert "Traceback" not in result.stderr
