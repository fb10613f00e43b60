from decimal import Decimal

import pytest

from models.rules.progress import is_complete, progress_percent

D = Decimal  # short for the many literals below


@pytest.mark.parametrize(
    ("actual", "goal", "expected"),
    [
        (D("14.5"), 20, D("72.50")),
        (1, 3, D("33.33")),
        (2, 3, D("66.66")),  # cut, never rounded up: a percent never shows more than was done
        (1, 800, D("0.12")),  # 0.125
        (D("0"), 10, D("0.00")),
        (30, 20, D("150.00")),  # never capped
        (D("1234.56"), D("10000.00"), D("12.34")),  # 12.3456
        (999_950, 1_000_000, D("99.99")),  # issue 11: 99.995 is not 100.00
        (D("999.99"), 1000, D("99.99")),
        (D("2999.99"), 3000, D("99.99")),  # 99.9996
        (D("4999.99"), D("5000.00"), D("99.99")),
        (1_000_000, 1_000_000, D("100.00")),
        (D("1000000.01"), 1_000_000, D("100.00")),  # met, by a cent
    ],
)
def test_progress_percent(actual, goal, expected):
    result = progress_percent(actual, goal)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("goal", [None, 0, D("0.00")])
def test_no_percent_without_goal(goal):
    assert progress_percent(5, goal) is None


@pytest.mark.parametrize(
    ("signups", "signup_goal", "revenue", "revenue_goal", "complete"),
    [
        (D(10), 10, None, None, True),
        (D("9.5"), 10, None, None, False),
        (D(12), 10, D("5000"), D("5000"), True),
        (D(12), 10, D("4999.99"), D("5000"), False),  # 99.9998 %: compared exactly, not on a percent
        (D(12), 10, D("999950"), D("1000000"), False),
        (D(12), 10, None, D("0"), True),  # a revenue goal of 0 is not a goal
        (None, None, None, None, False),  # nothing set: never complete
        (D(15), 0, D(15), 0, False),
        (None, 10, None, None, False),  # a set goal without an actual is not met
        (None, None, D("5000"), D("5000"), True),
    ],
)
def test_is_complete(signups, signup_goal, revenue, revenue_goal, complete):
    assert is_complete(signups, signup_goal, revenue, revenue_goal) is complete


@pytest.mark.parametrize("goal", [1, 3, 7, 800, D("0.01"), D("12345.67"), 1_000_000, D("999999999.99")])
@pytest.mark.parametrize("offset", [D("-0.01"), D("-0.1"), D(0), D("0.01")])
def test_a_percent_of_100_means_the_goal_is_met(goal, offset):
    """The percent shown and completion never disagree: ≥ 100.00 exactly when actual ≥ goal."""
    actual = max(D(goal) + offset, D(0))
    assert (progress_percent(actual, goal) >= 100) is is_complete(actual, goal, None, None)
