"""Standard competition ranking (1, 2, 2, 4) for the Leaderboard."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from models.rules._exact import Number, to_fraction

RankKey = tuple[Number | None, ...]


def _descending(key: RankKey) -> tuple[tuple[bool, object], ...]:
    # Larger numbers first, None after every number; values compared exactly, so
    # Decimal("50.0") and 50 tie.
    return tuple((value is None, _negated(value) if value is not None else 0) for value in key)


def _negated(value: Number) -> object:
    """``-value``, compared exactly with any other: ints and finite Decimals as they are (Python
    compares int, Decimal and Fraction exactly with each other; ``copy_negate`` never rounds),
    anything else as the Fraction the rules read it as (a float by its shortest repr)."""
    kind = type(value)
    if kind is int:
        return -value
    if kind is Decimal and value.is_finite():  # type: ignore[union-attr]
        return value.copy_negate()  # type: ignore[union-attr]
    return -to_fraction(value)


def competition_ranks(keys: Sequence[RankKey]) -> list[int]:
    """The rank of each key, in input order: keys sorted descending component by component
    (e.g. signup %, then revenue %), None last; equal keys share a rank and the next rank
    skips (1, 2, 2, 4). Ties are never broken silently."""
    normalised = [_descending(key) for key in keys]
    order = sorted(range(len(keys)), key=lambda i: normalised[i])
    ranks = [0] * len(keys)
    for position, index in enumerate(order):
        previous = order[position - 1] if position else None
        if previous is not None and normalised[previous] == normalised[index]:
            ranks[index] = ranks[previous]
        else:
            ranks[index] = position + 1
    return ranks
