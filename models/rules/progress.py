"""Progress percentages and completion, as the database trigger computes them.

Completion compares actual ≥ goal exactly, never a percent. The percent is cut to two
decimals, never rounded up, so it never shows more than was achieved: 999,950 of
1,000,000 is 99.99 %, and a percent ≥ 100 always means the goal is met.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TypeGuard

from models.rules._exact import Number, to_fraction, truncate

HUNDRED = Fraction(100)


def goal_value(goal: Number | None) -> Fraction | None:
    """The goal as an exact Fraction when it is set (present and > 0), else None."""
    if goal is None:
        return None
    value = to_fraction(goal)
    return value if value > 0 else None


def _plain(value: object) -> TypeGuard[int | Decimal]:
    # An int or a finite Decimal compares exactly with another one as it is: no Fraction needed.
    # (A bool, a float, a Fraction or a NaN goes the Fraction way, which decides or refuses those.)
    if type(value) is int:
        return True
    return type(value) is Decimal and value.is_finite()


def goal_is_set(goal: Number | None) -> bool:
    """A goal counts only when it is present and greater than zero."""
    if _plain(goal):
        return goal > 0
    return goal_value(goal) is not None


def progress_percent(actual: Number | None, goal: Number | None) -> Decimal | None:
    """``actual / goal × 100`` truncated to two decimals (never rounded up), never capped; None
    when the goal is None or 0. Exact, like the SQL ``div(actual × 10000, goal) / 100``."""
    target = goal_value(goal)
    if target is None:
        return None
    return truncate(to_fraction(actual or 0) / target * HUNDRED, 2)


def goal_met(actual: Number | None, goal: Number | None) -> bool:
    """True when the goal is set (> 0) and ``actual ≥ goal``, compared exactly."""
    if _plain(goal) and (actual is None or _plain(actual)):
        # The same exact comparison without Fractions (the achievement job makes ~100,000 of them).
        return goal > 0 and (actual or 0) >= goal
    target = goal_value(goal)
    return target is not None and to_fraction(actual or 0) >= target


def is_complete(
    signups: Number | None,
    signup_goal: Number | None,
    revenue: Number | None,
    revenue_goal: Number | None,
) -> bool:
    """True when at least one goal is set (> 0) and every set goal is met (actual ≥ goal, exact).

    The Bonus Tier Goal does not count: it decides whether the bonus pays, not whether the
    month's goals are met (docs/goal-rules.md).
    """
    signup_set, revenue_set = goal_is_set(signup_goal), goal_is_set(revenue_goal)
    return (signup_set or revenue_set) and (not signup_set or goal_met(signups, signup_goal)) and (
        not revenue_set or goal_met(revenue, revenue_goal))
