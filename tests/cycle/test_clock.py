"""The ``--now`` clock keeps absolute time across a clock change (issue 11, item 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sync import clock as clock_module
from sync.clock import Clock, parse_now

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("start", "elapsed", "expected_utc"), [
    ("2026-11-01T01:59:58", 4, datetime(2026, 11, 1, 6, 0, 2, tzinfo=UTC)),  # autumn: 01:00:02 EST, not 02:00:02
    ("2026-03-08T01:59:58", 4, datetime(2026, 3, 8, 7, 0, 2, tzinfo=UTC)),  # spring: 03:00:02 EDT
    ("2026-11-01T01:30:00-04:00", 3600, datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),  # one real hour later
])
def test_the_pretend_clock_runs_in_absolute_time(monkeypatch: pytest.MonkeyPatch, start: str, elapsed: float,
                                                 expected_utc: datetime) -> None:
    ticks = iter([1000.0, 1000.0 + elapsed])
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: next(ticks))
    clock = Clock.create(NEW_YORK, parse_now(start, NEW_YORK))
    # (Compared in UTC: Python compares and subtracts two times of one zone by their wall clocks.)
    first = clock.now()
    assert first.astimezone(UTC) == parse_now(start, NEW_YORK).astimezone(UTC)
    later = clock.now()
    assert later.astimezone(UTC) == expected_utc
    assert later.timestamp() - first.timestamp() == elapsed
    assert later.tzinfo == NEW_YORK
