"""The benchmark's child processes: the daemon-like worker, the launcher of cron commands, their config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def write_config(path: Path, database_url: str, sheets: dict[str, Any]) -> Path:
    """A config file for the benchmark: company time zone UTC, default goals, warnings only."""
    config = {"timezone": "UTC", "database": {"url": database_url}, "sheets": sheets,
              "logging": {"level": "WARNING"}}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def child_environment() -> dict[str, str]:
    """The children's environment: the config alone says where the database and spreadsheet are."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"GOALS_DATABASE_URL", "GOOGLE_APPLICATION_CREDENTIALS"}}
    env.setdefault("NO_GCE_CHECK", "true")  # anonymous on the local server: no metadata-server probe
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def help_argv() -> list[str]:
    """``python -m sync --help``: the cost of starting the command line at all."""
    return [sys.executable, "-m", "sync", "--help"]


CYCLE_LIBRARIES = ("pandas", "sqlalchemy", "psycopg", "gspread", "google.auth.transport.requests", "pydantic", "yaml")
"""What a ``run --once`` over a changed sheet cannot do without (``tests/cycle/test_lean_start.py``
holds it to what such a run imports): pandas to parse, SQLAlchemy and psycopg to store, gspread
and google-auth for the Sheets API, pydantic and PyYAML for the settings."""


def imports_argv() -> list[str]:
    """A bare interpreter importing ``CYCLE_LIBRARIES`` and nothing of ours: the part of a cron
    run's start-up no change to the product can remove. It leaves as ``python -m sync`` does
    (``os._exit``, see ``sync/__main__.py``): tearing these modules down would add some 0.3 s
    that no cron run pays."""
    return [sys.executable, "-c", f"import os, {', '.join(CYCLE_LIBRARIES)}; os._exit(0)"]


def compile_project() -> None:
    """Write the project's bytecode (``__pycache__``), as an installed package or a checkout that
    ran once has it; with ``PYTHONDONTWRITEBYTECODE`` set every command would compile it again."""
    import compileall

    for package in ("sync", "models", "sheets", "jobs"):
        compileall.compile_dir(ROOT / package, quiet=1)


def run_once_argv(config: Path, now: datetime, label: str = "run") -> list[str]:
    """The cron command: ``python -m sync run --once --config CONFIG --now NOW``; under cProfile,
    writing ``LABEL.prof`` into the directory ``BENCH_PROFILE`` names, when it is set."""
    command = ["-m", "sync", "run", "--once", "--config", str(config), "--now", now.isoformat()]
    profiles = os.environ.get("BENCH_PROFILE")
    if profiles:
        command = ["-m", "cProfile", "-o", str(Path(profiles) / f"process-{label}.prof"), *command]
    return [sys.executable, *command]


class _Child:
    """A child process that answers one JSON line per JSON line it is sent."""

    def __init__(self, argv: list[str], stderr: Any = None) -> None:
        self._label = " ".join(argv[1:3])  # "-m bench.worker": which child, for an error
        self.process = subprocess.Popen(argv, cwd=ROOT, env=child_environment(), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=stderr, text=True)

    def ask(self, message: dict[str, Any] | None) -> dict[str, Any]:
        """Send ``message`` (None: only read) and return the answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        if message is not None:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark child {self._label} stopped (exit {self.process.poll()})")
        return json.loads(line)

    def close(self) -> None:
        """Close its stdin and wait for it to finish."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Worker(_Child):
    """A running ``bench.worker``: cycles in one long-lived process, as the daemon runs them."""

    def __init__(self, config: Path, log: Path) -> None:
        self._log = log.open("w", encoding="utf-8")
        began = time.perf_counter()
        super().__init__([sys.executable, "-m", "bench.worker", str(config)], stderr=self._log)
        self.ready = self.ask(None)
        self.startup_seconds = time.perf_counter() - began
        """From starting the process to its answer that it is ready (imports, database, backend)."""

    def cycle(self, now: datetime) -> dict[str, Any]:
        """Run one cycle at ``now``; the worker's answer (seconds, counters, peak memory)."""
        return self.ask({"now": now.isoformat()})

    def close(self) -> None:
        """Stop the worker."""
        super().close()
        self._log.close()


class Launcher(_Child):
    """A running ``bench.launcher``: starts commands from a small process (see its docstring)."""

    def __init__(self) -> None:
        super().__init__([sys.executable, "-m", "bench.launcher"])

    def run(self, argv: list[str], log: Path) -> dict[str, Any]:
        """Run ``argv`` (output appended to ``log``); return seconds, exit code and peak memory."""
        return self.ask({"argv": argv, "env": child_environment(), "cwd": str(ROOT), "log": str(log)})
