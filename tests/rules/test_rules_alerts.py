"""Who gets a pace alert (``models.rules.alerts``): turned critical since yesterday's snapshot,
judged (past the too-early guard), at most once a week."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from models.rules.alerts import reps_to_alert, turned_critical
from models.settings import PaceSettings
from tests.output.test_output_tables import standing

PACE = PaceSettings()
HALF = Fraction(1, 2)  # half the month gone


def rep(rep_id: int, signup_pct: str | None, **overrides: Any) -> Any:
    return standing(f"Rep {rep_id}", rep_id=rep_id, revenue_goal=None, revenue_pct=None,
                    signup_pct=None if signup_pct is None else Decimal(signup_pct), **overrides)


@pytest.mark.parametrize("signup_pct, yesterday, alerted", [
    ("39.99", None, True),  # ratio 0.7998 < 0.80: critical, no snapshot yesterday
    ("39.99", "behind", True),  # was behind yesterday: turned critical today
    ("39.99", "critical", False),  # already critical yesterday: not news
    ("40.00", None, False),  # ratio exactly 0.80: behind, not critical
    (None, None, True),  # a set goal without a percent counts as 0 %
])
def test_a_rep_turns_critical_when_yesterday_said_otherwise(signup_pct: str | None, yesterday: str | None,
                                                            alerted: bool) -> None:
    reps = [rep(1, signup_pct)]
    turned = turned_critical(reps, yesterday={1: yesterday}, expected=HALF, settings=PACE)
    assert [s.rep_id for s in turned] == ([1] if alerted else [])


def test_too_early_or_without_a_goal_nobody_is_critical() -> None:
    early = Fraction(2, 30)  # 6.7 % of the month: below the 10 % minimum
    assert turned_critical([rep(1, "0")], yesterday={}, expected=early, settings=PACE) == []
    no_goal = rep(2, None, signup_goal=None)
    no_row = rep(3, None, has_goal_row=False)
    assert turned_critical([no_goal, no_row], yesterday={}, expected=HALF, settings=PACE) == []


def test_a_rep_already_alerted_this_week_is_not_alerted_again() -> None:
    reps = [rep(1, "0"), rep(2, "10"), rep(3, "90")]
    chosen = reps_to_alert(reps, yesterday={}, alerted_this_week={2}, expected=HALF, settings=PACE)
    assert [s.rep_id for s in chosen] == [1]
