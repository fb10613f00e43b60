"""Bonus tiers: what a month's tier is compared on, tier names, the tiers a month unlocks.

Which tier a month reaches is decided where the month is stored; ``tests/oracles.py``
holds the plain rule (a tier covers [its threshold, the next tier's threshold)) it is
checked against.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.rules._exact import Number
from models.settings import Tier


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
