"""Plain Python statements of rules the product decides elsewhere (SQL, vectorised plans):
the oracles tests compare the product with. Nothing in the product imports this module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from models.rules._exact import Number, to_fraction
from models.rules.achievements import MonthState, streak_ending
from models.rules.periods import previous_month
from models.rules.tiers import bonus_basis_value
from models.settings import BonusSettings, Tier


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


def live_streak(months: Iterable[MonthState], year: int, month: int) -> int:
    """The streak the Summary shows for the current month: ending this month when it is already
    met, else ending last month (a month in progress does not break the streak yet). The product's
    owner of this rule is the standings read (``models.readings``, SQL);
    ``tests/agreement/test_plan_matches_triggers.py`` holds the two equal."""
    indexed = list(months)
    current = streak_ending(indexed, year, month)
    if current:
        return current
    return streak_ending(indexed, *previous_month(year, month))
