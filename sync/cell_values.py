"""Stored values as JSON-ready cells, shared by every output tab. Pure."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

_HUNDRED = Decimal(100)


def number(value: Decimal | int | None) -> int | float | None:
    """A stored number as a JSON-ready cell: int when whole (12), else float (12.5, 1234.56)."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def fraction(percent: Decimal | None) -> float | None:
    """A 0-100 percentage as the fraction a percent number format expects (85.32 → 0.8532)."""
    if percent is None:
        return None
    return float(Decimal(percent) / _HUNDRED)


def expected_cell(expected: Fraction) -> float:
    """The elapsed share as a fraction with the precision of a two-decimal percentage (17/30 → 0.5667)."""
    percent = Decimal(expected.numerator) * _HUNDRED / Decimal(expected.denominator)
    return float(percent.quantize(Decimal("0.01"), ROUND_HALF_UP) / _HUNDRED)
