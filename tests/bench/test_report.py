"""The benchmark's target check: what counts as one API write."""

from __future__ import annotations

from bench.measure import Figures, Run
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
