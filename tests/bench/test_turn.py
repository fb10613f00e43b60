"""``python -m bench --turn`` at a small size: an unchanged worker turn costs what its cycle costs.

The turn runs the worker's two task bodies (``goals.turn``, ``goals.jobs``) after two warm-up
turns; with nothing changed no job may run, the turn reads the sheet once like the cycle, and
its jobs add only the due-job checks (two transactions of two statements each).
"""

from __future__ import annotations

import pytest

from bench.turn import report, run_turn_bench
from models.engine import ENV_URL


@pytest.mark.slow
def test_an_unchanged_turn_with_its_jobs_costs_its_cycle_plus_the_due_checks(
        database_server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_URL, database_server_url)  # the benchmark's fresh database on the test server
    figures = run_turn_bench(reps=60, months=3, rounds=3)
    steps = {step.step: step for step in figures["steps"]}
    cycle, turn = steps["cycle"], steps["turn"]
    assert turn.jobs_run == "-", "a job ran although nothing changed"
    assert turn.sheets_requests == cycle.sheets_requests == 1
    assert turn.sql_statements - cycle.sql_statements <= 4
    assert "worker turn" in report(figures)
