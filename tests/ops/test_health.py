"""``/healthz``'s rule, on a clock the test moves: healthy while a cycle succeeded within the last
three poll intervals; the reason says what happened."""

from __future__ import annotations

from datetime import UTC, datetime

from models.values import CycleResult
from sync.health import Health

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cycle(status: str, error: str | None = None) -> CycleResult:
    return CycleResult(status=status, now=NOW, error=error)


def test_unhealthy_until_the_first_cycle_succeeds() -> None:
    clock = Clock()
    health = Health(poll_seconds=60, clock=clock)
    assert health.verdict().healthy is False and health.verdict().reason.startswith("starting:")
    health.record(_cycle("failed", "Google Sheets is unavailable"))
    verdict = health.verdict()
    assert not verdict.healthy
    assert verdict.reason == ("no sync cycle has succeeded since the start; "
                              "last cycle failed: Google Sheets is unavailable")
    health.record(_cycle("partial"))  # synced, with rejected cells: the daemon works
    assert health.verdict().healthy


def test_failures_turn_it_unhealthy_once_three_poll_intervals_passed_without_success() -> None:
    clock = Clock()
    health = Health(poll_seconds=60, clock=clock)
    health.record(_cycle("success"))
    for _ in range(2):
        clock.now += 60
        health.record(_cycle("failed", "database down"))
        assert health.verdict().healthy  # one or two failed polls are tolerated
    clock.now += 60
    health.record(_cycle("failed", "database down"))
    verdict = health.verdict()
    assert not verdict.healthy
    assert verdict.reason == ("no successful sync cycle for 180 s (limit: 3 poll intervals = 180 s); "
                              "last cycle failed: database down")


def test_a_hung_turn_or_a_lock_that_never_frees_is_unhealthy() -> None:
    clock = Clock()
    health = Health(poll_seconds=10, clock=clock)
    health.record(_cycle("success"))
    clock.now += 29
    assert health.verdict().healthy
    health.record(_cycle("skipped"))  # another process held the lock: not a success
    clock.now += 1
    assert not health.verdict().healthy and "last cycle skipped" in health.verdict().reason
