"""Exact conversion of the numbers the rules accept (int, Decimal, Fraction, float)."""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Number = int | Decimal | Fraction | float


def to_fraction(value: Number) -> Fraction:
    """``value`` as an exact Fraction; a float is taken by its shortest repr (0.1 → 1/10),
    which is what a person typed, not its binary approximation."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(value, Decimal) and not value.is_finite():
        return Fraction(value)  # raises, as it always did (a signalling NaN cannot even be hashed)
    return _fraction(value)


@functools.lru_cache(maxsize=1 << 16)
def _fraction(value: Number) -> Fraction:
    # The achievement job and the pace rules convert the same few thousand goals and actuals
    # again and again (some 170,000 conversions for 2,000 reps × 24 months); Fraction(Decimal)
    # is slow. Equal keys give equal Fractions (Decimal('1.0') and 1 are both 1), and a Fraction
    # is immutable, so sharing one is safe.
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def ratio(value: Number) -> tuple[int, int]:
    """``value`` as ``(numerator, denominator)`` with ``denominator > 0``, exactly the number
    ``to_fraction`` reads (not always in lowest terms).

    The rules compare and combine these integers instead of Fractions: the stored numbers are
    ints and finite Decimals, whose ratio is one C call, and integer cross-multiplication is
    exact and several times cheaper than Fraction arithmetic (which normalises every result).
    """
    kind = type(value)
    if kind is int:
        return value, 1  # type: ignore[return-value]
    if kind is Decimal and value.is_finite():  # type: ignore[union-attr]
        return value.as_integer_ratio()  # type: ignore[union-attr]
    exact = to_fraction(value)
    return exact.numerator, exact.denominator


def is_positive(value: Number) -> bool:
    """``to_fraction(value) > 0``, without building a Fraction for an int or a finite Decimal."""
    kind = type(value)
    if kind is int or (kind is Decimal and value.is_finite()):  # type: ignore[union-attr]
        return value > 0
    return to_fraction(value) > 0


def truncate(value: Fraction, places: int) -> Decimal:
    """``value`` cut (not rounded) to ``places`` decimals, toward zero: never more than it is."""
    scale = 10**places
    scaled = abs(value) * scale
    sign = -1 if value < 0 else 1
    return (Decimal(sign * (scaled.numerator // scaled.denominator)) / Decimal(scale)).quantize(
        Decimal(1).scaleb(-places))


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals (PostgreSQL's round(numeric, n))."""
    return round_ratio_half_up(value.numerator, value.denominator, places)


def round_ratio_half_up(numerator: int, denominator: int, places: int) -> Decimal:
    """``numerator / denominator`` (``denominator > 0``, any common factor) rounded half away from
    zero to ``places`` decimals: ``round_half_up`` without building the Fraction first."""
    scale = 10**places
    scaled = abs(numerator) * scale
    rounded = (scaled * 2 + denominator) // (denominator * 2)
    sign = -1 if numerator < 0 else 1
    return (Decimal(sign * rounded) / Decimal(scale)).quantize(_quantum(places), ROUND_HALF_UP)


@functools.cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)
