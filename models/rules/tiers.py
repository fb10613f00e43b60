"""Bonus tiers: what a month's tier is compared on, the tier and bonus a month reaches, tier
names, the tiers a month unlocks.

A new month's tier is decided by the month plan (``changes.bonus_columns``, vectorised); a
stored month's by ``bonus_outcome`` (``models.derived.refresh_bonus_tiers``). Both are checked
against the plain rule in ``tests/oracles.py`` (a tier covers [its threshold, the next tier's
threshold)).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from models.rules._exact import Number, to_fraction
from models.settings import BonusSettings, Tier


class BonusResult(NamedTuple):
    """A month's bonus: the tier reached, its amount (not cumulative) and whether it pays."""

    tier: int
    amount: Decimal
    triggered: bool


def bonus_basis_value(signups: Number | None, signup_pct: Number | None, basis: str) -> Number | None:
    """The number the tiers are compared with: the month's signups, or its signup progress %."""
    if basis == "signups":
        return signups
    if basis == "percent":
        return signup_pct
    raise ValueError(f"unknown bonus basis {basis!r} (use signups or percent)")


def tier_name(tier: int, tiers: Sequence[Tier]) -> str:
    """The configured name of a tier number (e.g. 2 → Silver)."""
    return tiers[tier].name


def tiers_unlocked(tier: int) -> range:
    """The tiers a month has unlocked (one ``bonus_tier_unlocked`` achievement each): 1..tier."""
    return range(1, tier + 1)


def bonus_outcome(basis_value: Number | None, tier_goal: int | None, bonus: BonusSettings) -> BonusResult:
    """The tier a month reaches with ``basis_value`` (its signups or signup progress %, see
    ``bonus_basis_value``; none counts as 0): the last tier whose threshold is at most the
    value, compared exactly. The amount is that tier's; the bonus triggers when the tier is at
    least 1 and at least the rep's ``tier_goal`` (none counts as 0)."""
    value = to_fraction(basis_value if basis_value is not None else 0)
    tier = max((index for index, t in enumerate(bonus.tiers) if to_fraction(t.threshold) <= value), default=0)
    return BonusResult(tier, bonus.tiers[tier].amount, tier >= 1 and tier >= (tier_goal or 0))
