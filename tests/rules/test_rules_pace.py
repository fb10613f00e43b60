from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.pace import days_left, expected_fraction, needed_per_day, pace, yearly_pace
from models.rules.periods import days_in_month
from models.settings import PaceSettings

D = Decimal  # short for the many literals below

DEFAULT = PaceSettings()
THANKSGIVING = date(2026, 11, 26)


def judge(signup_pct, signup_goal=10, revenue_pct=None, revenue_goal=None, *, expected, settings=DEFAULT):
    return pace(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected, settings=settings)


# --- expected share -----------------------------------------------------------------


def test_calendar_share_counts_today():
    assert expected_fraction(date(2026, 11, 1), "calendar") == Fraction(1, 30)
    assert expected_fraction(date(2026, 11, 3), "calendar") == Fraction(1, 10)
    assert expected_fraction(date(2026, 11, 30), "calendar") == 1
    assert expected_fraction(date(2024, 2, 29), "calendar") == 1
    assert expected_fraction(date(2026, 12, 10), "calendar") == Fraction(10, 31)


def test_business_share_with_holiday():
    # November 2026: 21 weekdays, minus Thanksgiving = 20 business days.
    holidays = [THANKSGIVING, date(2026, 11, 7), date(2026, 12, 25)]  # a Saturday and another month: no effect
    assert expected_fraction(date(2026, 11, 10), "business", holidays) == Fraction(7, 20)
    # On a weekend: the business days before it.
    assert expected_fraction(date(2026, 11, 8), "business", holidays) == Fraction(5, 20)
    # The holiday itself does not count, even as today.
    assert expected_fraction(date(2026, 11, 26), "business", holidays) == Fraction(18, 20)
    assert expected_fraction(date(2026, 11, 27), "business", holidays) == Fraction(19, 20)
    assert expected_fraction(date(2026, 11, 30), "business", holidays) == 1
    # Without the holiday the month has 21.
    assert expected_fraction(date(2026, 11, 10), "business") == Fraction(7, 21)


def test_business_share_before_first_business_day_is_zero_and_too_early():
    expected = expected_fraction(date(2026, 11, 1), "business")  # a Sunday
    assert expected == 0
    lenient = PaceSettings(min_elapsed_percent=D(0))
    assert judge(D(50), expected=expected, settings=lenient).indicator == "too_early"


def test_unknown_calendar_is_refused():
    with pytest.raises(ValueError, match="calendar"):
        expected_fraction(date(2026, 11, 3), "lunar")


# --- days left, needed per day ------------------------------------------------------


def test_days_left():
    assert days_left(date(2026, 11, 1)) == 29
    assert days_left(date(2026, 11, 30)) == 0
    assert days_left(date(2026, 2, 27)) == 1


@pytest.mark.parametrize(
    ("goal", "actual", "remaining", "needed"),
    [
        (20, D("14.5"), 10, D("0.55")),
        (20, D("14.5"), 0, D("5.50")),  # last day: divided by 1
        (10, 0, 3, D("3.33")),
        (10, D("9.5"), 4, D("0.13")),  # 0.125 half up
        (20, 20, 5, None),  # met
        (20, D("25"), 5, None),
        (None, 3, 5, None),
        (0, 3, 5, None),
    ],
)
def test_needed_per_day(goal, actual, remaining, needed):
    assert needed_per_day(goal, actual, remaining) == needed


# --- minimum elapsed share ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "indicator"),
    [(1, "too_early"), (2, "too_early"), (3, "ahead"), (4, "ahead")],
)
def test_pace_judged_from_ten_percent(day, indicator):
    expected = expected_fraction(date(2026, 11, day), "calendar")
    result = judge(D(50), expected=expected)
    assert result.indicator == indicator
    if indicator == "too_early":
        assert result.on_pace is None and result.ratio is None
        assert result.snapshot_indicator is None
    else:
        assert result.on_pace is True


def test_too_early_is_not_reported_without_goal():
    assert judge(None, None, expected=Fraction(1, 30)) == judge(None, None, expected=Fraction(1, 2))
    assert judge(None, None, expected=Fraction(1, 30)).indicator is None


# --- thresholds, exactly ----------------------------------------------------------------

HALF = Fraction(1, 2)  # day 15 of 30: 50 % expected


@pytest.mark.parametrize(
    ("pct", "indicator", "on_pace"),
    [
        (D("55.00"), "ahead", True),  # ratio exactly 1.10
        (D("54.99"), "on_track", True),
        (D("47.50"), "on_track", True),  # exactly 0.95
        (D("47.49"), "behind", False),
        (D("40.00"), "behind", False),  # exactly 0.80
        (D("39.99"), "critical", False),
        (D("0.00"), "critical", False),
        (D("250.00"), "ahead", True),
    ],
)
def test_threshold_boundaries(pct, indicator, on_pace):
    result = judge(pct, expected=HALF)
    assert (result.indicator, result.on_pace) == (indicator, on_pace)
    assert result.snapshot_indicator == indicator


@pytest.mark.parametrize(
    ("day", "pct", "indicator"),
    [
        # day 9 of 30: 30 % expected; in binary floats 28.5 / 30 and 0.95 need not agree.
        (9, D("33.00"), "ahead"),
        (9, D("28.50"), "on_track"),
        (9, D("24.00"), "behind"),
        (9, D("23.99"), "critical"),
        # day 20 of 30: 66.67 % (repeating); 73.33 % is just below 1.10, 73.34 just above.
        (20, D("73.33"), "on_track"),
        (20, D("73.34"), "ahead"),
    ],
)
def test_threshold_boundaries_other_days(day, pct, indicator):
    expected = expected_fraction(date(2026, 11, day), "calendar")
    assert judge(pct, expected=expected).indicator == indicator


def test_ratio_is_rounded_for_display_and_exact_for_judging():
    result = judge(D("73.33"), expected=Fraction(2, 3))
    assert result.ratio == D("1.1000")  # 1.09995 rounds up for display...
    assert result.ratio_exact == Fraction("1.09995")
    assert result.indicator == "on_track"  # ...but the indicator uses the exact value


def test_configured_thresholds():
    strict = PaceSettings(ahead=D("1.5"), on_track=D("1.0"), behind=D("0.5"), min_elapsed_percent=D(0))
    assert judge(D("75"), expected=HALF, settings=strict).indicator == "ahead"
    assert judge(D("74.99"), expected=HALF, settings=strict).indicator == "on_track"
    assert judge(D("25"), expected=HALF, settings=strict).indicator == "behind"
    assert judge(D("50"), expected=Fraction(1, 30), settings=strict).indicator == "ahead"


# --- which metric -------------------------------------------------------------------------


def test_weaker_metric_decides():
    result = judge(D("60"), 10, D("45"), D("5000"), expected=HALF)
    assert (result.indicator, result.metric, result.ratio) == ("behind", "revenue", D("0.9000"))
    result = judge(D("30"), 10, D("80"), D("5000"), expected=HALF)
    assert (result.indicator, result.metric) == ("critical", "signups")


def test_revenue_goal_zero_is_ignored():
    result = judge(D("60"), 10, None, D("0"), expected=HALF)
    assert (result.indicator, result.metric) == ("ahead", "signups")


def test_revenue_only_goal():
    result = judge(None, None, D("50"), D("5000"), expected=HALF)
    assert (result.indicator, result.metric) == ("on_track", "revenue")


def test_no_goal_no_pace():
    result = judge(D("80"), 0, D("80"), None, expected=HALF)
    assert (result.ratio, result.indicator, result.on_pace) == (None, None, None)


def test_set_goal_without_percent_counts_as_zero():
    assert judge(None, 10, expected=HALF).indicator == "critical"


# --- property: the same rule, cross-multiplied as SQL does it ----------------------------

percents = st.decimals(min_value=0, max_value=400, places=2, allow_nan=False, allow_infinity=False)
thresholds = st.decimals(min_value=0, max_value=3, places=2, allow_nan=False, allow_infinity=False)


@given(
    signup=st.none() | percents,
    revenue=st.none() | percents,
    signup_goal=st.sampled_from([None, 0, 5, 20]),
    revenue_goal=st.sampled_from([None, D(0), D("1000.00")]),
    day=st.integers(1, 31),
    month=st.integers(1, 12),
    limits=st.lists(thresholds, min_size=3, max_size=3).map(sorted),
    minimum=st.decimals(min_value=0, max_value=30, places=1),
)
def test_pace_matches_cross_multiplied_rule(*, signup, revenue, signup_goal, revenue_goal, day, month, limits,
                                               minimum):
    today = date(2026, month, min(day, 28 if month == 2 else 30))
    behind, on_track, ahead = limits
    settings = PaceSettings(ahead=ahead, on_track=on_track, behind=behind, min_elapsed_percent=minimum)
    expected = expected_fraction(today, "calendar")
    result = judge(signup, signup_goal, revenue, revenue_goal, expected=expected, settings=settings)

    set_pcts = [p or D(0) for p, g in ((signup, signup_goal), (revenue, revenue_goal)) if g]
    if not set_pcts:
        assert result.indicator is None
        return
    # elapsed % = 100·day/days; compare day·100 against minimum·days, all integers after scaling.
    days = days_in_month(today.year, today.month)
    if today.day * 100 < minimum * days:
        assert result.indicator == "too_early"
        return
    weakest = min(set_pcts)
    # ratio ≥ t  ⇔  pct · days ≥ t · 100 · day
    def at_least(t: D) -> bool:
        return weakest * days >= t * 100 * today.day

    want = ("ahead" if at_least(ahead) else "on_track" if at_least(on_track)
            else "behind" if at_least(behind) else "critical")
    assert result.indicator == want


@given(
    low=st.decimals(min_value=0, max_value=300, places=2),
    extra=st.decimals(min_value=0, max_value=300, places=2),
    day=st.integers(3, 30),
)
def test_more_progress_never_worse_pace(low, extra, day):
    order = ["critical", "behind", "on_track", "ahead"]
    expected = expected_fraction(date(2026, 11, day), "calendar")
    worse = judge(low, expected=expected).indicator
    better = judge(low + extra, expected=expected).indicator
    assert order.index(better) >= order.index(worse)


# --- yearly pace --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ytd", "target", "month", "status"),
    [
        (D("30"), D("10.00"), 3, "On Pace"),  # exactly on the line
        (D("29.9"), D("10.00"), 3, "Behind Pace"),
        (D("0"), D("10.00"), 1, "Behind Pace"),
        (D("100"), D("8.33"), 12, "On Pace"),  # 99.96 expected
        (D("100"), None, 5, None),
        (D("100"), D("0"), 5, None),
    ],
)

def test_yearly_pace(ytd, target, month, status):
    assert yearly_pace(ytd, target, month) == status
