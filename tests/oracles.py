"""Plain Python statements of rules the product decides elsewhere (SQL, vectorised plans):
the oracles tests compare the product with. Nothing in the product imports this module."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from models.rules._exact import Number, to_fraction
from models.rules.pace import NOT_JUDGED, Indicator, Metric, PaceResult, YearlyPace
from models.rules.sparkline import BARS, GAP, MIDDLE_BAR
from models.rules.tiers import bonus_basis_value
from models.settings import BonusSettings, PaceSettings, Tier


@dataclass(frozen=True, slots=True)
class BonusOutcome:
    """The bonus result of one month: tier reached, its name and amount (not cumulative),
    and whether the bonus triggers (tier ≥ 1 and tier ≥ the rep's tier goal)."""

    tier: int
    tier_name: str
    amount: Decimal
    triggered: bool


def tier_reached(value: Number | None, tiers: Sequence[Tier]) -> int:
    """The highest tier whose threshold is ≤ ``value`` (0 for None or anything below tier 1).

    A tier covers [its threshold, the next tier's threshold): reaching a threshold exactly
    reaches that tier, and half credit (14.5 signups) never falls in a gap.
    """
    if value is None:
        return 0
    exact = to_fraction(value)
    reached = 0
    for index, tier in enumerate(tiers):
        if exact >= to_fraction(tier.threshold):
            reached = index
    return reached


def bonus_outcome(
    signups: Number | None,
    signup_pct: Number | None,
    tier_goal: int | None,
    bonus: BonusSettings,
) -> BonusOutcome:
    """The month's bonus: tier on ``bonus.basis``, that tier's amount, and the trigger flag."""
    tier = tier_reached(bonus_basis_value(signups, signup_pct, bonus.basis), bonus.tiers)
    return BonusOutcome(
        tier=tier,
        tier_name=bonus.tiers[tier].name,
        amount=bonus.tiers[tier].amount,
        triggered=tier >= 1 and tier >= (tier_goal or 0),
    )


# --- The goal rules as plain Fraction arithmetic (their first statement). The product computes them
# --- on integer ratios (models/rules/_exact.ratio); tests/rules/test_rules_fast_paths.py holds them equal.

_HUNDRED = Fraction(100)


def _goal_value(goal: Number | None) -> Fraction | None:
    if goal is None:
        return None
    value = to_fraction(goal)
    return value if value > 0 else None


def fraction_round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals."""
    scale = 10**places
    scaled = abs(value) * scale
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    sign = -1 if value < 0 else 1
    return (Decimal(sign * rounded) / Decimal(scale)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def fraction_pace(signup_pct: Number | None, signup_goal: Number | None, revenue_pct: Number | None,
                  revenue_goal: Number | None, *, expected: Fraction, settings: PaceSettings) -> PaceResult:
    """``models.rules.pace.pace``: the weaker metric's progress over the expected percent, judged
    against the thresholds with ``>=``, in Fractions."""
    candidates: tuple[tuple[Metric, Number | None, Number | None], ...] = (
        ("signups", signup_pct, signup_goal), ("revenue", revenue_pct, revenue_goal),
    )
    metrics: list[tuple[Metric, Fraction]] = [
        (name, to_fraction(pct) if pct is not None else Fraction(0))
        for name, pct, goal in candidates
        if _goal_value(goal) is not None
    ]
    if not metrics:
        return NOT_JUDGED
    expected_pct = to_fraction(expected) * _HUNDRED
    if expected_pct <= 0 or expected_pct < to_fraction(settings.min_elapsed_percent):
        return PaceResult(ratio=None, indicator="too_early", on_pace=None)
    metric, weakest = min(metrics, key=lambda item: item[1])
    ratio = weakest / expected_pct
    indicator: Indicator
    if ratio >= to_fraction(settings.ahead):
        indicator = "ahead"
    elif ratio >= to_fraction(settings.on_track):
        indicator = "on_track"
    elif ratio >= to_fraction(settings.behind):
        indicator = "behind"
    else:
        indicator = "critical"
    return PaceResult(ratio=fraction_round_half_up(ratio, 4), indicator=indicator,
                      on_pace=indicator in ("ahead", "on_track"), ratio_exact=ratio, metric=metric)


def fraction_needed_per_day(goal: Number | None, actual: Number | None, days_remaining: int) -> Decimal | None:
    """``models.rules.pace.needed_per_day`` in Fractions."""
    target = _goal_value(goal)
    if target is None:
        return None
    missing = target - to_fraction(actual or 0)
    if missing <= 0:
        return None
    return fraction_round_half_up(missing / max(days_remaining, 1), 2)


def fraction_yearly_pace(ytd_actual: Number | None, monthly_target: Number | None,
                         current_month: int) -> YearlyPace | None:
    """``models.rules.pace.yearly_pace`` in Fractions."""
    target = _goal_value(monthly_target)
    if target is None:
        return None
    return "On Pace" if to_fraction(ytd_actual or 0) >= target * current_month else "Behind Pace"


def fraction_sparkline(values: Sequence[Number | None], width: int = 14) -> str:
    """``models.rules.sparkline.sparkline`` in Fractions."""
    window = list(values)[-width:] if width > 0 else []
    numbers = [to_fraction(v) for v in window if v is not None]
    if not numbers:
        return GAP * len(window)
    low, high = min(numbers), max(numbers)
    top = len(BARS) - 1
    chars = []
    for value in window:
        if value is None:
            chars.append(GAP)
        elif high == low:
            chars.append(MIDDLE_BAR)
        else:
            share = (to_fraction(value) - low) / (high - low)
            chars.append(BARS[math.floor(share * top)])
    return "".join(chars)


def fraction_competition_ranks(keys: Sequence[tuple[Number | None, ...]]) -> list[int]:
    """``models.rules.ranking.competition_ranks`` with every value read as a Fraction."""
    normalised = [tuple((value is None, -to_fraction(value) if value is not None else 0) for value in key)
                  for key in keys]
    order = sorted(range(len(keys)), key=lambda i: normalised[i])
    ranks = [0] * len(keys)
    for position, index in enumerate(order):
        previous = order[position - 1] if position else None
        if previous is not None and normalised[previous] == normalised[index]:
            ranks[index] = ranks[previous]
        else:
            ranks[index] = position + 1
    return ranks
