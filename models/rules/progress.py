"""Progress percentages and completion, as the database trigger computes them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from models.rules._exact import Number, round_half_up, to_fraction

HUNDRED = Fraction(100)


def goal_value(goal: Number | None) -> Fraction | None:
    """The goal as an exact Fraction when it is set (present and > 0), else None."""
    if goal is None:
        return None
    value = to_fraction(goal)
    return value if value > 0 else None


def goal_is_set(goal: Number | None) -> bool:
    """A goal counts only when it is present and greater than zero."""
    return goal_value(goal) is not None


def progress_percent(actual: Number | None, goal: Number | None) -> Decimal | None:
    """``actual / goal × 100`` rounded half-up to two decimals, never capped; None when the goal
    is None or 0. Computed exactly before the one rounding, like ``round(numeric, 2)``."""
    target = goal_value(goal)
    if target is None:
        return None
    value = to_fraction(actual or 0) / target * HUNDRED
    return round_half_up(value, 2)


def is_complete(
    signup_pct: Number | None,
    signup_goal: Number | None,
    revenue_pct: Number | None,
    revenue_goal: Number | None,
) -> bool:
    """True when at least one goal is set (> 0) and every set goal is at ≥ 100 %.

    A set goal whose percent is missing counts as not met.
    """
    metrics = [(pct, goal) for pct, goal in ((signup_pct, signup_goal), (revenue_pct, revenue_goal))
               if goal_is_set(goal)]
    if not metrics:
        return False
    return all(pct is not None and to_fraction(pct) >= HUNDRED for pct, _ in metrics)
