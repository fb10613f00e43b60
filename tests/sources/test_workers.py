"""``python -m sync worker`` as real processes on one database and the local Sheets API server.

Three sources, two workers: every source is synced, one source's cycles never overlap, jobs
and emails happen once; a worker killed with SIGKILL has its source picked up by the other
within two poll intervals; the Sheets quota holds across both processes.
"""

from __future__ import annotations

import itertools
import signal
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.jobs.mailbox import Mailbox, free_port
from tests.sheets_api.server import FakeSheetsServer
from tests.sources.processes import Worker, cycles, first_worker_id, kill_in_a_turn, wait_for
from tests.sources.test_sources_cli import rows

SOURCES = ("north", "south", "west")
POLL = 5.0


def sheet(index: int) -> dict[str, list[list[Any]]]:
    """One source's tabs: two reps of its own; the first has met this month's goal."""
    a, b = f"a{index}@example.com", f"b{index}@example.com"
    return {
        "Reps": [["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
                 [a, f"Ann {index}", "T", "AE", True, 5, 60], [b, f"Ben {index}", "T", "AE", True, 5, 60]],
        "Monthly Goals": [["Email", "Year", "Month", "Signup Goal", "Revenue Goal"]],
        "Yearly Goals": [["Email", "Year", "Signup Goal", "Revenue Goal"]],
        "Actuals": [["Email", "Year", "Month", "Signups", "Revenue"]],
    }


@pytest.fixture
def workers_config(sheets_server: FakeSheetsServer, fresh_db_url: str, smtp: Mailbox,
                   write_config: Callable[..., Path]) -> Callable[..., Path]:
    """Three sources on the local Sheets server (anonymous), email to the local SMTP server."""
    today = time.gmtime()
    for index, name in enumerate(SOURCES):
        tabs = sheet(index)
        tabs["Actuals"].append([f"a{index}@example.com", today.tm_year, today.tm_mon, 7, 100])
        sheets_server.create_spreadsheet(name, tabs)

    def make(**sheets: Any) -> Path:
        return write_config(
            fresh_db_url,
            sheets={"backend": "google", "api_endpoint": sheets_server.url,
                    "retry": {"timeout_seconds": 10, "max_attempts": 2, "max_total_seconds": 20}, **sheets},
            sync={"poll_seconds": POLL},
            sources=[{"name": name, "spreadsheet_id": name} for name in SOURCES],
            notifications={"email_url": smtp.url()},
            logging={"level": "INFO"},
        )
    return make


def test_two_workers_share_three_sources_and_take_over_from_a_killed_one(
        workers_config: Callable[..., Path], start_worker: Callable[..., Worker],
        sheets_server: FakeSheetsServer, fresh_db_url: str, smtp: Mailbox) -> None:
    config = workers_config()
    sheets_server.inject(delay=1.0, kind="values.batchGet", times=None)  # a turn takes a while
    first = start_worker(config, "a")
    first_id = first_worker_id(fresh_db_url)
    port = free_port()
    second = start_worker(config, "b", "--metrics-port", str(port))

    # Every source is synced, by both workers between them.
    wait_for(lambda: all(len(cycles(fresh_db_url, s)) >= 2 for s in SOURCES), 90, "two cycles of every source")

    # Kill worker a in the middle of a source's turn.
    source, killed_at = kill_in_a_turn(fresh_db_url, first, first_id, 60)
    taken = wait_for(lambda: [c for c in cycles(fresh_db_url, source) if c[0] > killed_at], 4 * POLL,
                     f"worker b to sync {source} after the kill")
    assert taken[0][0] - killed_at <= 2 * POLL, f"{source} picked up {taken[0][0] - killed_at:.1f}s after the kill"
    # The others keep going too.
    wait_for(lambda: all(any(c[0] > killed_at for c in cycles(fresh_db_url, s)) for s in SOURCES), 4 * POLL,
             "every source synced after the kill")
    # Worker b serves metrics labelled by source.
    scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    for name in SOURCES:
        assert f'goals_sync_cycles_total{{source="{name}",status="success"}}' in scraped
    second.stop()
    assert second.process.returncode == 0, second.text()[-3000:]

    for name in SOURCES:
        logged = cycles(fresh_db_url, name)
        assert {status for *_, status in logged} == {"success"}, logged
        for (_, finished, _), (started, _, _) in itertools.pairwise(logged):
            assert finished <= started, f"two cycles of {name} overlapped: {logged}"
        # Jobs ran once per source: one snapshot per rep today, one achievement of its own kind.
        schema = f"source_{name}"
        snapshots = f"SELECT count(*), count(DISTINCT sales_rep_id) FROM {schema}.goal_progress_snapshots"
        assert rows(fresh_db_url, snapshots + " WHERE snapshot_type = 'daily'") in ([(0, 0)], [(2, 2)])
        achievements = rows(fresh_db_url, f"SELECT r.email, a.achievement_type FROM {schema}.goal_achievements a "
                                          f"JOIN {schema}.sales_reps r ON r.id = a.sales_rep_id")
        assert achievements and len(achievements) == len(set(achievements))
    mails = smtp.take()
    assert mails, "no email was sent"
    assert len({(m.to, m.subject, m.body) for m in mails}) == len(mails), "an email went out twice"
    assert {m.to[0] for m in mails} >= {f"a{i}@example.com" for i in range(len(SOURCES))}


def test_the_sheets_quota_holds_across_two_workers(
        workers_config: Callable[..., Path], start_worker: Callable[..., Worker],
        sheets_server: FakeSheetsServer, fresh_db_url: str) -> None:
    limit = 8
    config = workers_config(requests_per_minute=limit)
    started = time.time()
    workers = [start_worker(config, "a"), start_worker(config, "b")]
    # Three sources polled every 5 s want far more than 8 requests a minute.
    wait_for(lambda: sheets_server.count() >= limit, 60, f"{limit} Sheets requests")
    time.sleep(12)
    sent = sorted(r.received_at for r in sheets_server.requests if r.kind != "token")
    window = [t for t in sent if t - sent[0] < 60]
    assert len(window) == limit, f"{len(window)} requests in the first 60 s (limit {limit})"
    assert sent[-1] - started < 60
    for worker in workers:  # a turn waiting for the quota does not hold up a stop
        began = time.monotonic()
        worker.stop()
        assert worker.process.returncode == 0 and time.monotonic() - began < 15, worker.text()[-2000:]
    turns = [worker.text().count("turn of source") for worker in workers]
    assert all(turns), f"each worker should have taken turns: {turns}"


@pytest.mark.parametrize("poll", [1, 5, 60, 3600])
def test_a_killed_workers_source_is_due_again_within_two_polls_by_construction(poll: float) -> None:
    from sync.worker import Timing

    timing = Timing.for_poll(poll)
    assert 60 % timing.tick_seconds == 0
    assert timing.stalled_seconds >= 3 * timing.heartbeat_seconds  # a slow beat is not a death
    assert timing.stalled_seconds + timing.tick_seconds + timing.fetch_seconds <= max(2 * poll, 8)


def test_the_worker_speaks_the_systemd_notify_protocol(
        workers_config: Callable[..., Path], start_worker: Callable[..., Worker], tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(90)
        worker = start_worker(workers_config(), "n", env={"NOTIFY_SOCKET": address})
        first = listener.recv(4096).decode()
        assert first.startswith("READY=1") and "3 source(s)" in first
        worker.process.send_signal(signal.SIGTERM)
        messages = []
        while not any(m.startswith("STOPPING=1") for m in messages):
            messages.append(listener.recv(4096).decode())
        assert worker.process.wait(timeout=60) == 0
