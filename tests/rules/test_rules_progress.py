from decimal import Decimal

import pytest

from models.rules.progress import is_complete, progress_percent

D = Decimal  # short for the many literals below


@pytest.mark.parametrize(
    ("actual", "goal", "expected"),
    [
        (D("14.5"), 20, D("72.50")),
        (1, 3, D("33.33")),
        (2, 3, D("66.67")),
        (1, 800, D("0.13")),  # 0.125 rounds half up, not to even
        (D("0"), 10, D("0.00")),
        (30, 20, D("150.00")),  # never capped
        (D("1234.56"), D("10000.00"), D("12.35")),  # 12.3456
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
    ("signup_pct", "signup_goal", "revenue_pct", "revenue_goal", "complete"),
    [
        (D("100.00"), 10, None, None, True),
        (D("99.99"), 10, None, None, False),
        (D("120"), 10, D("100"), D("5000"), True),
        (D("120"), 10, D("99.99"), D("5000"), False),
        (D("120"), 10, None, D("0"), True),  # a revenue goal of 0 is not a goal
        (None, None, None, None, False),  # nothing set: never complete
        (D("150"), 0, D("150"), 0, False),
        (None, 10, None, None, False),  # a set goal without a percent is not met
        (None, None, D("100"), D("5000"), True),
    ],
)

def test_is_complete(signup_pct, signup_goal, revenue_pct, revenue_goal, complete):
    assert is_complete(signup_pct, signup_goal, revenue_pct, revenue_goal) is complete
