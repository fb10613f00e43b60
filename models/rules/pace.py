"""Monthly pace (expected share of the month, pace ratio and indicator) and yearly pace.

Boundary semantics, shared with the SQL function ``goals_pace_indicator``:

- expected share: today counts as elapsed (day 1 of a 30-day month = 1/30);
- the pace is judged from the moment ``expected × 100 >= min_elapsed_percent``
  (day 3 of 30 = exactly 10 % → judged); below it the indicator is ``too_early``,
  and so it is whenever the expected share is 0 (business calendar, before the
  month's first business day), even with a minimum of 0;
- business calendar: weekdays minus holidays; a month without any business day
  falls back to the calendar share;
- ratio = progress % / expected %, per metric with a goal (> 0); the weaker
  (smaller) ratio is the rep's; a set goal with a missing percent counts as 0 %;
- indicator: ``ahead`` when ratio ≥ ahead, else ``on_track`` when ≥ on_track,
  else ``behind`` when ≥ behind, else ``critical``: every comparison is ``>=``
  and exact (fractions, no float, no rounding), so a ratio of exactly 1.10 is ahead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from models.rules._exact import Number, is_positive, ratio, round_ratio_half_up, to_fraction
from models.rules.periods import days_in_month
from models.rules.progress import HUNDRED
from models.settings import PaceSettings

Indicator = Literal["ahead", "on_track", "behind", "critical", "too_early"]
Metric = Literal["signups", "revenue"]
YearlyPace = Literal["On Pace", "Behind Pace"]

JUDGED_INDICATORS: tuple[Indicator, ...] = ("ahead", "on_track", "behind", "critical")


@dataclass(frozen=True, slots=True)
class PaceResult:
    """The pace of one rep's month.

    ``indicator`` is None when no goal is set and ``too_early`` before the
    minimum elapsed share (then ``ratio`` and ``on_pace`` are None too).
    ``ratio`` is the weaker metric's ratio rounded half-up to 4 decimals for
    display; the indicator is decided on ``ratio_exact``. ``metric`` names the
    weaker metric.
    """

    ratio: Decimal | None
    indicator: Indicator | None
    on_pace: bool | None
    ratio_exact: Fraction | None = None
    metric: Metric | None = None

    @property
    def judged(self) -> bool:
        """True when the indicator is one of ahead/on_track/behind/critical."""
        return self.indicator in JUDGED_INDICATORS

    @property
    def snapshot_indicator(self) -> Indicator | None:
        """The value for ``goal_progress_snapshots.pace_indicator`` (NULL when not judged)."""
        return self.indicator if self.judged else None


NOT_JUDGED = PaceResult(ratio=None, indicator=None, on_pace=None)


def _business_days(days: Iterable[date], holidays: frozenset[date]) -> int:
    return sum(1 for d in days if d.weekday() < 5 and d not in holidays)


def expected_fraction(today: date, calendar: str, holidays: Iterable[date] = ()) -> Fraction:
    """The elapsed share of ``today``'s month, 0-1, today counting as elapsed.

    ``calendar``: day of month / days in month. ``business``: weekdays that are
    not holidays, up to and including today / the same in the whole month (on
    a weekend or holiday, the business days before it). A month with no
    business day at all falls back to the calendar share.
    """
    total_days = days_in_month(today.year, today.month)
    if calendar == "calendar":
        return Fraction(today.day, total_days)
    if calendar != "business":
        raise ValueError(f"unknown pace calendar {calendar!r} (use calendar or business)")
    off = frozenset(holidays)
    first = today.replace(day=1)
    month_days = [first + timedelta(days=i) for i in range(total_days)]
    total = _business_days(month_days, off)
    if total == 0:
        return Fraction(today.day, total_days)
    return Fraction(_business_days(month_days[: today.day], off), total)


def days_left(today: date) -> int:
    """Days in the month minus the day of the month (0 on the last day)."""
    return days_in_month(today.year, today.month) - today.day


def needed_per_day(goal: Number | None, actual: Number | None, days_remaining: int) -> Decimal | None:
    """What is still needed per remaining day: ``(goal − actual) / max(days_remaining, 1)``,
    rounded half-up to 2 decimals; None when there is no goal (None or 0) or it is met."""
    if goal is None:
        return None
    goal_n, goal_d = ratio(goal)
    if goal_n <= 0:
        return None
    actual_n, actual_d = ratio(actual or 0)
    missing = goal_n * actual_d - actual_n * goal_d  # over goal_d × actual_d
    if missing <= 0:
        return None
    return round_ratio_half_up(missing, goal_d * actual_d * max(days_remaining, 1), 2)


@dataclass(frozen=True, slots=True)
class _Bounds:
    """What the indicator of one elapsed share and one set of thresholds is decided on: the
    expected percent and each threshold × the expected percent, as integer ratios (``weakest /
    expected ≥ threshold`` ⟺ ``weakest ≥ threshold × expected``, the expected percent being > 0)."""

    too_early: bool
    expected: tuple[int, int]
    limits: tuple[tuple[int, int, Indicator], ...]
    """(numerator, denominator, indicator) for ahead, on_track, behind, in that order."""


@functools.lru_cache(maxsize=256)
def _bounds(expected_n: int, expected_d: int, settings: tuple[Decimal, Decimal, Decimal, Decimal]) -> _Bounds:
    # Keyed on the share's integers (a Fraction computes its hash anew each time) and the thresholds.
    min_elapsed, ahead, on_track, behind = settings
    expected_pct = Fraction(expected_n, expected_d) * HUNDRED
    # An expected share of 0 (a month starting on a weekend, business calendar) cannot be judged.
    if expected_pct <= 0 or expected_pct < to_fraction(min_elapsed):
        return _Bounds(True, (0, 1), ())
    limits = []
    for threshold, indicator in ((ahead, "ahead"), (on_track, "on_track"), (behind, "behind")):
        bound = to_fraction(threshold) * expected_pct
        limits.append((bound.numerator, bound.denominator, indicator))
    return _Bounds(False, (expected_pct.numerator, expected_pct.denominator), tuple(limits))  # type: ignore[arg-type]


def _judge(signup_pct: Number | None, signup_goal: Number | None, revenue_pct: Number | None,
           revenue_goal: Number | None, *, expected: Fraction,
           settings: PaceSettings) -> tuple[Metric, int, int, Indicator, _Bounds] | Indicator | None:
    """The rule of ``pace``: None without a set goal, ``too_early``, or the weaker metric, its
    percent as an integer ratio, the indicator and the bounds it was judged on."""
    weakest: tuple[Metric, int, int] | None = None
    for name, pct, goal in (("signups", signup_pct, signup_goal), ("revenue", revenue_pct, revenue_goal)):
        if goal is None or not is_positive(goal):
            continue
        pct_n, pct_d = ratio(pct) if pct is not None else (0, 1)
        # Strictly smaller: on a tie the first metric stays the weaker one.
        if weakest is None or pct_n * weakest[2] < weakest[1] * pct_d:
            weakest = (name, pct_n, pct_d)  # type: ignore[assignment]
    if weakest is None:
        return None
    expected_n, expected_d = ((expected.numerator, expected.denominator) if type(expected) is Fraction
                              else ratio(expected))
    bounds = _bounds(expected_n, expected_d, (settings.min_elapsed_percent, settings.ahead, settings.on_track,
                                              settings.behind))
    if bounds.too_early:
        return "too_early"
    metric, pct_n, pct_d = weakest
    for bound_n, bound_d, indicator in bounds.limits:
        if pct_n * bound_d >= bound_n * pct_d:
            return metric, pct_n, pct_d, indicator, bounds
    return metric, pct_n, pct_d, "critical", bounds


def pace_indicator(
    signup_pct: Number | None,
    signup_goal: Number | None,
    revenue_pct: Number | None,
    revenue_goal: Number | None,
    *,
    expected: Fraction,
    settings: PaceSettings,
) -> Indicator | None:
    """``pace(...).indicator``, without the displayed ratio (what the Summary and Team tabs show)."""
    judged = _judge(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected, settings=settings)
    return judged[3] if isinstance(judged, tuple) else judged


def pace(
    signup_pct: Number | None,
    signup_goal: Number | None,
    revenue_pct: Number | None,
    revenue_goal: Number | None,
    *,
    expected: Fraction,
    settings: PaceSettings,
) -> PaceResult:
    """The rep's monthly pace; see the module docstring for the exact rule and its boundaries.

    ``*_pct`` are progress percentages (0-100+, as stored), ``expected`` the
    elapsed share 0-1 from :func:`expected_fraction`.
    """
    judged = _judge(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected, settings=settings)
    if judged is None:
        return NOT_JUDGED
    if not isinstance(judged, tuple):
        return PaceResult(ratio=None, indicator="too_early", on_pace=None)
    metric, pct_n, pct_d, indicator, bounds = judged
    expected_n, expected_d = bounds.expected
    ratio_exact = Fraction(pct_n * expected_d, pct_d * expected_n)
    return PaceResult(
        ratio=round_ratio_half_up(ratio_exact.numerator, ratio_exact.denominator, 4),
        indicator=indicator,
        on_pace=indicator in ("ahead", "on_track"),
        ratio_exact=ratio_exact,
        metric=metric,
    )


def yearly_pace(
    ytd_actual: Number | None, monthly_target: Number | None, current_month: int
) -> YearlyPace | None:
    """``On Pace`` when the year-to-date actual ≥ monthly target × current month number, else
    ``Behind Pace``; None without a yearly goal (target None or 0)."""
    if monthly_target is None:
        return None
    target_n, target_d = ratio(monthly_target)
    if target_n <= 0:
        return None
    actual_n, actual_d = ratio(ytd_actual or 0)
    return "On Pace" if actual_n * target_d >= target_n * current_month * actual_d else "Behind Pace"
