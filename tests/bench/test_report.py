"""The benchmark's target check: what counts as one API write."""

from __future__ import annotations

import pytest

from bench.measure import CHANGED, IMPORTS, Figures, Run, floors
from bench.report import misses


def _cold(calls: dict[str, int]) -> Run:
    writes = sum(n for kind, n in calls.items() if kind != "values.batchGet")
    figures = Figures(mode="daemon", cycle="cold", seconds=20.0, api_reads=1, api_writes=writes, sql_statements=41,
                      rows_upserted=1, peak_memory_mb=700.0, status="partial", api_calls=calls)
    return Run(backend="google", reps=20_000, months=12, rows=1, now="2026-06-15", figures=[figures])


def test_a_values_write_split_into_bodies_under_2_mb_is_one_write() -> None:
    split = {"values.batchGet": 1, "spreadsheets.batchUpdate": 1, "values.batchUpdate": 7}
    assert misses(_cold(split), scale=True) == []
    # Three formatting calls are three writes, however the values went out.
    assert misses(_cold(split | {"spreadsheets.batchUpdate": 3}), scale=True) == [
        "daemon cold: 4 API writes (target ≤ 2)"]


def _row(mode: str, cycle: str, seconds: float) -> Figures:
    return Figures(mode=mode, cycle=cycle, seconds=seconds, api_reads=1, api_writes=1, sql_statements=30,
                   rows_upserted=1, peak_memory_mb=200.0, status="-" if cycle == IMPORTS else "success")


def test_a_cron_run_below_its_floor_is_said_to_be() -> None:
    figures = [_row("process", IMPORTS, 0.7), _row("daemon", "cold", 2.0), _row("daemon", CHANGED, 0.9),
               _row("process", "cold", 4.0), _row("process", CHANGED, 1.5)]
    run = Run(backend="google", reps=2000, months=24, rows=1, now="2026-06-15", figures=figures)
    assert {cycle: floor.seconds for cycle, floor in floors(figures).items()} == pytest.approx(
        {"cold": 2.7, CHANGED: 1.6})
    # The cold target (3.0 s) is above its floor (2.7 s); the 1 % target (1.4 s) is below 1.6 s.
    assert misses(run) == ["process cold: 4.00 s (target ≤ 3.0 s)",
                           f"process {CHANGED}: 1.50 s (target ≤ 1.4 s, below its floor of 1.60 s)"]
    # Without the daemon's figures (--mode process) there is no floor to speak of.
    assert floors([f for f in figures if f.mode == "process"]) == {}
