"""The daemon's Prometheus metrics as a monitoring system reads them (no server: the registry)."""

from __future__ import annotations

from datetime import UTC, datetime

from models.values import CycleResult, Problem
from sync.metrics import DaemonMetrics
from sync.turn import TurnResult


def test_the_problems_gauge_counts_every_problem_not_only_the_listed_ones() -> None:
    metrics = DaemonMetrics()
    listed = tuple(Problem("Actuals", f"Actuals!D{row}", "", "lots", "Signups must be a number") for row in range(2, 5))
    cycle = CycleResult(status="partial", now=datetime(2026, 11, 3, tzinfo=UTC), problems=listed,
                        more_problems=470_546)  # sheets.max_error_rows listed three of them
    metrics.record(TurnResult(cycle), requests=1, retries=0)
    assert metrics.registry.get_sample_value("goals_sync_problems", {"source": "default"}) == 470_549
