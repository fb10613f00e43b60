"""``python -m bench --sources N``: many spreadsheets served by Procrastinate workers.

N sources (default 40) × R reps (default 500) × M months (default 12), each its own
spreadsheet on the local Sheets API server, one database. Measured, as wall time from
"every source is due" until the queue is empty again (every source's turn *and* its jobs
done), in workers that already served one round (warm processes):

- one warm round with 1 worker and with 2 workers (nothing changed in any sheet);
- the Sheets quota's effect: a round in which every sheet changed (a read and a write
  each), with 2 workers, once with ``sheets.requests_per_minute`` out of the way and once
  at Google's 60 — plus the most requests any 60 s window saw.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml

from bench.database import fresh_database, server_url
from bench.processes import ROOT, child_environment
from bench.sheets_server import BenchSheetsServer, start
from bench.workbook import INPUT_TABS, Spec, changed_actuals, generate

UNLIMITED = 100_000


@dataclass(frozen=True)
class Round:
    """One measured round of every source."""

    label: str
    workers: int
    seconds: float
    requests: int
    busiest_minute: int


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _config(path: Path, url: str, server: BenchSheetsServer, names: list[str], per_minute: int) -> Path:
    config = {
        "timezone": "UTC", "database": {"url": url}, "logging": {"level": "WARNING"},
        "sheets": {"backend": "google", "api_endpoint": server.url, "requests_per_minute": per_minute},
        "sync": {"poll_seconds": 3600},  # turns only when the benchmark makes them due
        "sources": [{"name": name, "spreadsheet_id": name} for name in names],
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextlib.contextmanager
def _workers(config: Path, count: int, logs: Path) -> Iterator[None]:
    processes = []
    for index in range(count):
        with (logs / f"worker-{count}-{index}.log").open("w") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "sync", "worker", "--config", str(config), "--name", f"bench{index}"],
                cwd=ROOT, env=child_environment(), stdout=out, stderr=subprocess.STDOUT))
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()


def _round(url: str, names: list[str], timeout: float = 1800) -> float:
    """Make every source due now; return the seconds from the first turn's cycle start until
    each source has a new sync log row and no turn or jobs task is waiting or running (both
    moments on the database's clock, so the wait for the next tick is not counted).

    A turn that logged nothing (skipped on its lock, or its database connection refused) is
    made due again once the queue has been empty for five seconds, so a round always ends.
    """
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        started = time.perf_counter()
        marker = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        conn.execute("UPDATE goals_shared.source_turns SET due_at = now()")
        logs = " UNION ALL ".join(
            f"SELECT '{n}' AS s, min(started_at) AS t FROM source_{n}.sheets_sync_log WHERE started_at >= %(m)s"
            for n in names)
        idle_since: float | None = None
        while time.perf_counter() - started < timeout:
            pending = conn.execute("""SELECT count(*) FROM procrastinate.procrastinate_jobs
                                      WHERE status IN ('todo', 'doing') AND task_name <> 'goals.tick'""").fetchone()
            fresh = conn.execute(f"SELECT s, extract(epoch FROM now() - t) FROM ({logs}) l", {"m": marker}).fetchall()
            done = {name: seconds for name, seconds in fresh if seconds is not None}
            if pending == (0,) and len(done) == len(names):
                return float(max(done.values()))
            if pending == (0,):
                idle_since = idle_since or time.perf_counter()
                if time.perf_counter() - idle_since > 5:
                    missing = [n for n in names if n not in done]
                    conn.execute("UPDATE goals_shared.source_turns SET due_at = now() WHERE source = ANY(%s)",
                                 (missing,))
                    idle_since = None
            else:
                idle_since = None
            time.sleep(0.05)
    raise RuntimeError(f"the round did not finish within {timeout:g} s")


def _wait_registered(url: str, names: list[str], timeout: float = 300) -> None:
    """Until the workers' first tick has registered every source (their first round is then due)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.errors.UndefinedTable):
                if conn.execute("SELECT count(*) FROM goals_shared.source_turns").fetchone() == (len(names),):
                    return
            time.sleep(0.2)
    raise RuntimeError("the workers did not start")


def _busiest_minute(times: list[float]) -> int:
    times = sorted(times)
    best, low = 0, 0
    for high, moment in enumerate(times):
        while moment - times[low] >= 60:
            low += 1
        best = max(best, high - low + 1)
    return best


def run_sources(sources: int = 40, reps: int = 500, months: int = 12, *,
                progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Build the spreadsheets and the database, run the rounds, return the figures."""
    now = datetime.now(UTC)
    names = [f"s{index:02d}" for index in range(sources)]
    server = start()
    tabs = {}
    try:
        progress(f"generating {sources} spreadsheets of {reps} reps × {months} months")
        for index, name in enumerate(names):
            tabs[name] = generate(Spec(reps=reps, months=months, seed=index + 1), now)
            server.create_spreadsheet(name, dict(tabs[name].items()))  # type: ignore[arg-type]
            server.prime(name, INPUT_TABS)
        rows = sum(len(grid) - 1 for grid in tabs[names[0]].values())
        with fresh_database(server_url(), "sources") as url, tempfile.TemporaryDirectory() as workdir:
            logs = Path(workdir)
            config = _config(logs / "config.yaml", url, server, names, UNLIMITED)
            progress("cold: every source's first cycle (run --once, one process)")
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sync", "run", "--once", "--config", str(config)], cwd=ROOT,
                           env=child_environment(), check=False, capture_output=True)
            cold = time.perf_counter() - began
            progress(f"cold: {cold:.1f} s")
            rounds: list[Round] = []
            for count in (1, 2):
                progress(f"{count} worker(s): a warm-up round, then the measured round")
                with _workers(config, count, logs):
                    _wait_registered(url, names)
                    _round(url, names)  # the processes' first round: they fill their caches
                    server.clear_requests()
                    seconds = _round(url, names)
                    sent = [r.received_at for r in server.requests if r.kind != "token"]
                    rounds.append(Round("unchanged", count, seconds, len(sent), _busiest_minute(sent)))
                    progress(f"{rounds[-1]}")
            for per_minute in (UNLIMITED, 60):
                label = "every sheet changed" + ("" if per_minute == UNLIMITED else ", quota 60/min")
                progress(f"2 workers: {label}")
                config = _config(logs / "config.yaml", url, server, names, per_minute)
                with _workers(config, 2, logs):
                    _wait_registered(url, names)
                    _round(url, names)
                    if per_minute != UNLIMITED:
                        time.sleep(61)  # the warm-up round's reads leave the window first
                    for index, name in enumerate(names):
                        for row, column, value in changed_actuals(tabs[name], 0.01, seed=per_minute + index):
                            server.set_cell(name, "Actuals", f"{'ABCDEFGH'[column]}{row + 1}", value)
                    server.clear_requests()
                    seconds = _round(url, names)
                    sent = [r.received_at for r in server.requests if r.kind != "token"]
                    rounds.append(Round(label, 2, seconds, len(sent), _busiest_minute(sent)))
                    progress(f"{rounds[-1]}")
    finally:
        server.stop()
    return {"sources": sources, "reps": reps, "months": months, "rows_per_source": rows,
            "cold_seconds": cold, "rounds": rounds, "cores": os.cpu_count()}


def report(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [f"{figures['sources']} sources × {figures['reps']} reps × {figures['months']} months "
             f"({figures['rows_per_source']:,} rows each), {figures['cores']} cores",
             f"cold: every source's first cycle, one `run --once` process: {figures['cold_seconds']:.1f} s", "",
             "| round | workers | every source done | Sheets requests | most in any 60 s |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for item in figures["rounds"]:
        lines.append(f"| {item.label} | {item.workers} | {item.seconds:.1f} s | {item.requests} | "
                     f"{item.busiest_minute} |")
    return "\n".join(lines)
