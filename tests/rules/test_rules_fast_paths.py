"""The goal rules on integer ratios give exactly what their Fraction statements give (tests/oracles.py):
pace (every field of the result), the bare indicator, needed per day, yearly pace, the sparkline,
competition ranks and rounding, on generated numbers of every kind the rules accept (ints, Decimals
of any exponent and sign, Fractions, floats read by their repr), ties and boundaries included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from models.rules._exact import Number, ratio, round_half_up, round_ratio_half_up, to_fraction
from models.rules.pace import expected_fraction, needed_per_day, pace, pace_indicator, yearly_pace
from models.rules.ranking import competition_ranks
from models.rules.sparkline import sparkline
from models.settings import PaceSettings
from tests.oracles import (
    fraction_competition_ranks,
    fraction_needed_per_day,
    fraction_pace,
    fraction_round_half_up,
    fraction_sparkline,
    fraction_yearly_pace,
)
from tests.profiles import scaled

_SMALL = st.integers(min_value=-300, max_value=300)
decimals = st.builds(lambda units, exponent: Decimal(units).scaleb(exponent),
                     st.integers(min_value=-10**7, max_value=10**7), st.integers(min_value=-6, max_value=2))
"""Stored numbers: 12, 12.5, 1234.56, 0.000001, -3E+2 …"""
numbers: st.SearchStrategy[Number] = st.one_of(
    _SMALL, decimals, st.sampled_from([Decimal("0.00"), Decimal("-0"), Decimal("100.00"), Decimal("56.67")]),
    st.fractions(min_value=-400, max_value=400, max_denominator=60),
    st.floats(min_value=-400, max_value=400, allow_nan=False),
)
maybe_numbers = st.one_of(st.none(), numbers)
thresholds = st.sampled_from([Decimal("0"), Decimal("0.80"), Decimal("0.95"), Decimal("1.00"), Decimal("1.10"),
                              Decimal("1.5"), Decimal("0.333")])


@st.composite
def pace_settings(draw: st.DrawFn) -> PaceSettings:
    limits = sorted(draw(st.lists(thresholds, min_size=3, max_size=3)), reverse=True)
    minimum = draw(st.sampled_from([Decimal(0), Decimal(10), Decimal("6.67"), Decimal(50), Decimal(100)]))
    return PaceSettings(min_elapsed_percent=minimum, ahead=limits[0], on_track=limits[1], behind=limits[2])


expected_shares = st.one_of(
    st.builds(Fraction, st.integers(min_value=0, max_value=31), st.integers(min_value=1, max_value=31)),
    st.builds(lambda day: expected_fraction(date(2026, 11, day), "calendar"), st.integers(1, 30)),
)


@settings(max_examples=scaled(600), deadline=None)
@given(maybe_numbers, maybe_numbers, maybe_numbers, maybe_numbers, expected_shares, pace_settings())
def test_pace_is_the_fraction_rule(signup_pct, signup_goal, revenue_pct, revenue_goal, expected, limits):
    want = fraction_pace(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected, settings=limits)
    got = pace(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected, settings=limits)
    assert got == want
    assert (got.ratio is None) == (want.ratio is None) and str(got.ratio) == str(want.ratio)  # same digits
    assert pace_indicator(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected,
                          settings=limits) == want.indicator


@settings(max_examples=scaled(100), deadline=None)
@given(st.integers(min_value=0, max_value=400), st.integers(min_value=1, max_value=30), pace_settings())
def test_pace_at_every_threshold_exactly(goal, day, limits):
    """A percent exactly at threshold × expected (ratio == threshold) is judged at that threshold."""
    expected = Fraction(day, 30)
    for threshold in (limits.ahead, limits.on_track, limits.behind):
        pct = to_fraction(threshold) * expected * 100
        exact = Decimal(pct.numerator) / Decimal(pct.denominator) if 10**12 % pct.denominator == 0 else pct
        for value in {exact, pct}:
            want = fraction_pace(value, goal, None, None, expected=expected, settings=limits)
            assert pace(value, goal, None, None, expected=expected, settings=limits) == want


@settings(max_examples=scaled(400), deadline=None)
@given(maybe_numbers, maybe_numbers, st.integers(min_value=-3, max_value=31))
def test_needed_per_day_is_the_fraction_rule(goal, actual, days):
    got, want = needed_per_day(goal, actual, days), fraction_needed_per_day(goal, actual, days)
    assert got == want and str(got) == str(want)


@settings(max_examples=scaled(400), deadline=None)
@given(maybe_numbers, maybe_numbers, st.integers(min_value=1, max_value=12))
def test_yearly_pace_is_the_fraction_rule(actual, target, month):
    assert yearly_pace(actual, target, month) == fraction_yearly_pace(actual, target, month)


@settings(max_examples=scaled(400), deadline=None)
@given(st.lists(maybe_numbers, max_size=20), st.integers(min_value=-1, max_value=16))
def test_sparkline_is_the_fraction_rule(values, width):
    assert sparkline(values, width) == fraction_sparkline(values, width)


@settings(max_examples=scaled(300), deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.sampled_from([Decimal("50.0"), Decimal(50), 50, Fraction(100, 2),
                                                                  50.0, Decimal("49.99"), 0.1, Fraction(1, 10)]),
                                    numbers),
                          maybe_numbers), max_size=30))
def test_competition_ranks_are_the_fraction_rule(keys):
    assert competition_ranks(keys) == fraction_competition_ranks(keys)


@given(st.fractions(min_value=-10**6, max_value=10**6), st.integers(min_value=0, max_value=6),
       st.integers(min_value=1, max_value=50))
def test_rounding_a_ratio_is_rounding_its_fraction(value, places, factor):
    want = fraction_round_half_up(value, places)
    assert str(round_half_up(value, places)) == str(want)
    assert str(round_ratio_half_up(value.numerator * factor, value.denominator * factor, places)) == str(want)


@given(numbers)
def test_a_ratio_is_the_number_to_fraction_reads(value):
    numerator, denominator = ratio(value)
    assert denominator > 0 and Fraction(numerator, denominator) == to_fraction(value)
