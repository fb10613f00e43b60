"""Helpers for end-to-end tests of the sync cycle through the command line (``write_config`` is
a root fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, config: Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sync ARGS --config CONFIG`` in a fresh process, as cron would."""
    environment = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sync", *args, "--config", str(config)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False,
    )


def run_clis(commands: Sequence[Sequence[str]], *, config: Path, env: dict[str, str] | None = None,
             timeout: float = 120) -> list[subprocess.CompletedProcess[str]]:
    """``run_cli`` for each of several independent commands, all started at once (each its own fresh
    process): the results in the order of ``commands``, in about the time of the longest on two cores."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: run_cli(*args, config=config, env=env, timeout=timeout), commands))
