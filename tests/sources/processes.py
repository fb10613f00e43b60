"""Worker processes for the tests: ``python -m sync worker`` started, waited for and stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sources.test_sources_cli import rows

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """``python -m sync worker`` in its own process, its log in a file."""

    def __init__(self, config: Path, name: str, log_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.log = log_dir / f"worker-{name}.log"
        environment = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"} | (env or {})
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sync", "worker", "--config", str(config), "--name", name, *extra],
                cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def text(self) -> str:
        """Everything the worker logged so far."""
        return self.log.read_text()

def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """``condition()``'s first true value, polled every 0.2 s; fails the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def cycles(url: str, source: str) -> list[tuple[float, float, str]]:
    """(started, finished, status) of every logged cycle of ``source``, oldest first (epoch seconds)."""
    return rows(url, f"""SELECT extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8,
                                status FROM source_{source}.sheets_sync_log ORDER BY started_at""")




def first_worker_id(url: str) -> int:
    """The Procrastinate id of the first worker to register (waits up to 60 s for it)."""
    return int(wait_for(lambda: rows(url, "SELECT to_regclass('procrastinate.procrastinate_workers')")[0][0]
                        and rows(url, "SELECT min(id) FROM procrastinate.procrastinate_workers")[0][0],
                        60, "the first worker to register"))


def kill_in_a_turn(url: str, worker: Worker, worker_id: int, timeout: float) -> tuple[str, float]:
    """SIGKILL ``worker`` as soon as it is in a source's turn; (that source, the kill's epoch time)."""
    busy = wait_for(lambda: rows(url, f"""SELECT args->>'source' FROM procrastinate.procrastinate_jobs
                                         WHERE status = 'doing' AND task_name = 'goals.turn'
                                           AND worker_id = {worker_id}"""), timeout, "the worker to be in a turn")
    os.kill(worker.process.pid, signal.SIGKILL)
    killed_at = time.time()
    worker.process.wait()
    return str(busy[0][0]), killed_at
