"""The ``--now`` clock keeps absolute time across a clock change (issue 11, item 6); ``--clock-rate``
with ``--clock-origin`` is one fast pretend clock for several processes (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.errors import ConfigError
from sync import clock as clock_module
from sync.clock import Clock, parse_now, parse_origin

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


def test_a_fast_pretend_clock_with_an_origin_reads_the_same_in_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # --clock-rate 600 --clock-origin: a pretend minute per real 0.1 s, read off the wall clock,
    # so two processes (two Clock objects here) started at different moments agree.
    wall = [1_800_000_000.0]
    monkeypatch.setattr(clock_module.time, "time", lambda: wall[0])
    start = parse_now("2026-11-01T01:59:00", NEW_YORK)
    origin = datetime.fromtimestamp(1_800_000_000.0 - 1.0, UTC)  # one real second ago
    first = Clock.create(NEW_YORK, start, 600, origin)
    assert first.now().astimezone(UTC) == start.astimezone(UTC) + timedelta(minutes=10)
    wall[0] += 0.5
    second = Clock.create(NEW_YORK, start, 600, origin)  # started later
    assert first.now() == second.now()
    assert second.now().astimezone(UTC) == start.astimezone(UTC) + timedelta(minutes=15)
    assert f"{second.now():%H:%M %Z}" == "01:14 EST"  # absolute time across the clock change


@pytest.mark.parametrize(("start", "rate", "origin", "message"), [
    (None, 600.0, None, "need --now"),
    (None, 1.0, datetime(2026, 1, 1, tzinfo=UTC), "need --now"),
    (datetime(2026, 1, 1, tzinfo=UTC), 0.0, None, "positive"),
])
def test_clock_rate_and_origin_are_refused_without_a_start_or_a_positive_rate(
        start: datetime | None, rate: float, origin: datetime | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Clock.create(NEW_YORK, start, rate, origin)


def test_the_clock_origin_needs_an_offset() -> None:
    with pytest.raises(ConfigError, match="with an offset"):
        parse_origin("2026-11-28T08:30")
    assert parse_origin("2026-11-28T08:30Z") == datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
