"""Fixtures of the many-sources tests: worker processes stopped at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sources.processes import Worker


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """``start_worker(config, name, *args, env=...)``: a worker process, stopped (SIGTERM) afterwards."""
    started: list[Worker] = []

    def start(config: Path, name: str, *extra: str, env: dict[str, str] | None = None) -> Worker:
        worker = Worker(config, name, tmp_path, *extra, env=env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
