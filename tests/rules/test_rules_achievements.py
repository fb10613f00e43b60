from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from models.rules.achievements import (
    Achievement,
    MonthState,
    YearState,
    earned_achievements,
    reconcile,
    revocation_reason,
    streak_ending,
    streak_length,
    summary_streak,
)
from models.rules.periods import shift_month
from models.settings import BonusSettings

D = Decimal  # short for the many literals below
TODAY = date(2026, 11, 20)
MILESTONES = (3, 6, 12)
SET_EARLY = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("UTC"))


def month(year: int, number: int, signups="12", revenue="0", *, signup_goal=10, revenue_goal=None,
          tier=0, on_time=True) -> MonthState:
    return MonthState(
        year=year, month=number, signup_goal=signup_goal, signups_actual=D(signups),
        revenue_goal=None if revenue_goal is None else D(revenue_goal), revenue_actual=D(revenue),
        bonus_tier=tier, set_by_deadline=on_time, goal_set_at=SET_EARLY if on_time else None,
    )


def met_months(end: tuple[int, int], count: int) -> list[MonthState]:
    """``count`` consecutive met months ending with ``end``, oldest first."""
    return [month(*shift_month(*end, -back)) for back in range(count - 1, -1, -1)]


def earned(current, history=(), year_state=None, milestones=MILESTONES):
    return earned_achievements(
        7, current, year_state=year_state, history=list(history), milestones=milestones, today=TODAY
    )


def types(achievements: list[Achievement]) -> list[str]:
    return [a.achievement_type for a in achievements]


# --- monthly goals and perfect month -------------------------------------------------


def test_signup_goal_met_set_on_time_is_also_a_perfect_month():
    result = earned(month(2026, 11, "10"))
    assert types(result) == ["monthly_signup_goal", "perfect_month"]
    signup = result[0]
    assert signup == Achievement(
        7, "monthly_signup_goal", 2026, 11, TODAY,
        goal_value=D(10), actual_value=D("10"), percent_achieved=D("100.00"),
    )
    assert signup.key == (7, "monthly_signup_goal", 2026, 11, None, None)
    assert signup.achievement_month is not None


def test_goal_not_met_earns_nothing():
    assert earned(month(2026, 11, "9.5")) == []


def test_revenue_met_but_signups_not_is_no_perfect_month():
    result = earned(month(2026, 11, "8", "6000", revenue_goal="5000"))
    assert types(result) == ["monthly_revenue_goal"]
    assert result[0].percent_achieved == D("120.00")


def test_both_goals_met_late_is_no_perfect_month():
    result = earned(month(2026, 11, "10", "5000", revenue_goal="5000", on_time=False))
    assert types(result) == ["monthly_signup_goal", "monthly_revenue_goal"]


def test_revenue_goal_zero_is_ignored():
    result = earned(month(2026, 11, "11", "900", revenue_goal="0"))
    assert types(result) == ["monthly_signup_goal", "perfect_month"]


def test_no_goal_set_earns_nothing_even_with_actuals():
    assert earned(month(2026, 11, "40", "9000", signup_goal=None)) == []
    assert earned(month(2026, 11, "40", "9000", signup_goal=0, revenue_goal="0")) == []


def test_a_goal_is_met_by_its_actual_never_by_a_rounded_percent():
    # Issue 11: 999,950 of 1,000,000 is 99.995 %; even a stored 100.00 (as 0001 rounded it) earns nothing.
    state = MonthState(2026, 11, signup_goal=None, revenue_goal=D("1000000"), revenue_actual=D("999950"),
                       revenue_pct=D("100.00"), set_by_deadline=True, goal_set_at=SET_EARLY)
    assert earned(state) == []
    assert not state.complete
    met = MonthState(2026, 11, revenue_goal=D("1000000"), revenue_actual=D("1000000"),
                     set_by_deadline=True, goal_set_at=SET_EARLY)
    assert types(earned(met)) == ["monthly_revenue_goal", "perfect_month"]


# --- yearly goals ----------------------------------------------------------------------


def test_yearly_goals():
    year = YearState(2026, signup_goal=120, signups_actual=D("121.5"), revenue_goal=D("60000"),
                     revenue_actual=D("59990"))  # 99.98 %
    result = earned(month(2026, 11, "3"), year_state=year)
    assert types(result) == ["yearly_signup_goal"]
    assert result[0].achievement_month is None
    assert (result[0].achievement_year, result[0].percent_achieved) == (2026, D("101.25"))

    both = YearState(2026, signup_goal=120, signups_actual=D(120), revenue_goal=D("60000"),
                     revenue_actual=D("60000"))
    assert types(earned(month(2026, 11, "3"), year_state=both)) == ["yearly_signup_goal", "yearly_revenue_goal"]
    assert earned(month(2026, 11, "3"), year_state=YearState(2026, signups_actual=D(500))) == []


# --- bonus tiers -------------------------------------------------------------------------


def test_one_achievement_per_tier_reached_with_that_tiers_amount():
    result = earned(month(2026, 11, "15", signup_goal=20, tier=3))
    tiers = [a for a in result if a.achievement_type == "bonus_tier_unlocked"]
    assert [(a.bonus_tier, a.bonus_amount, a.goal_value) for a in tiers] == [
        (1, D(100), D(6)), (2, D(250), D(11)), (3, D(500), D(15)),
    ]
    assert all(a.actual_value == D(15) and a.achievement_month == 11 for a in tiers)
    assert earned(month(2026, 11, "5.9", signup_goal=20, tier=0)) == []


# --- streaks -------------------------------------------------------------------------------


def test_streak_length():
    assert streak_length([]) == 0
    assert streak_length([True, True, True]) == 3
    assert streak_length([True, False, True, True]) == 2
    assert streak_length([True, True, False]) == 0


def milestones_of(result: list[Achievement]) -> list[tuple[int, int, int]]:
    return [(a.milestone, a.achievement_year, a.achievement_month)
            for a in result if a.achievement_type == "streak_milestone"]


def test_third_month_in_a_row_is_milestone_three():
    history = met_months((2026, 10), 2)
    assert milestones_of(earned(month(2026, 11), history)) == [(3, 2026, 11)]
    assert milestones_of(earned(month(2026, 11), history[1:])) == []  # only two in a row


def test_seven_month_streak_holds_three_and_six_dated_when_reached():
    history = met_months((2026, 10), 6)  # May..Oct
    result = earned(month(2026, 11), history)
    assert milestones_of(result) == [(3, 2026, 7), (6, 2026, 10)]
    # A later cycle returns the very same rows: the unique key dedupes them.
    again = earned(month(2026, 11), history)
    assert {a.key for a in again} == {a.key for a in result}


def test_twelve_month_streak_across_new_year():
    history = met_months((2026, 10), 11)  # Dec 2025..Oct 2026
    assert milestones_of(earned(month(2026, 11), history)) == [(3, 2026, 2), (6, 2026, 5), (12, 2026, 11)]


def test_broken_streak_starts_again():
    history = [*met_months((2026, 5), 5), month(2026, 6, "4"), *met_months((2026, 10), 4)]
    # Jan..May met, June missed, July..Oct met, November met: 5 in a row.
    assert streak_ending([*history, month(2026, 11)], 2026, 11) == 5
    assert milestones_of(earned(month(2026, 11), history)) == [(3, 2026, 9)]
    # The earlier streak's milestone 3 is its own row (March), not this one.
    assert milestones_of(earned(month(2026, 5), history)) == [(3, 2026, 3)]


def test_month_without_goal_or_row_breaks_streak():
    no_goal = month(2026, 9, "20", signup_goal=None)
    assert streak_ending([*met_months((2026, 8), 4), no_goal, month(2026, 10), month(2026, 11)], 2026, 11) == 2
    gap = [*met_months((2026, 8), 4), month(2026, 10), month(2026, 11)]  # September has no row
    assert streak_ending(gap, 2026, 11) == 2


def test_current_month_not_met_has_no_milestone_but_the_summary_streak_shows_last_months():
    history = met_months((2026, 10), 5)
    current = month(2026, 11, "3")
    assert milestones_of(earned(current, history)) == []
    assert summary_streak([*history, current], 2026, 11) == 5
    assert summary_streak([*history, month(2026, 11)], 2026, 11) == 6
    assert summary_streak([], 2026, 11) == 0


def test_history_entry_for_current_month_is_replaced_by_current():
    stale = month(2026, 11, "2")
    assert milestones_of(earned(month(2026, 11), [*met_months((2026, 10), 2), stale])) == [(3, 2026, 11)]


def test_custom_milestones():
    history = met_months((2026, 10), 1)
    assert milestones_of(earned(month(2026, 11), history, milestones=(2, 2, 0))) == [(2, 2026, 11)]


# --- everything at once ----------------------------------------------------------------------


def test_all_seven_types_and_row_values():
    current = month(2026, 12, "20", "7000", revenue_goal="7000", signup_goal=15, tier=4)
    year = YearState(2026, signup_goal=100, signups_actual=D(180), revenue_goal=D(50000),
                     revenue_actual=D(70000))
    result = earned(current, met_months((2026, 11), 11), year)
    assert sorted(set(types(result))) == sorted([
        "monthly_signup_goal", "monthly_revenue_goal", "yearly_signup_goal", "yearly_revenue_goal",
        "bonus_tier_unlocked", "streak_milestone", "perfect_month",
    ])
    assert len({a.key for a in result}) == len(result)  # no duplicate rows within one call
    row = result[0].as_row()
    assert set(row) == {
        "sales_rep_id", "achievement_type", "achievement_year", "achievement_month", "achievement_date",
        "bonus_tier", "milestone", "goal_value", "actual_value", "percent_achieved", "bonus_amount",
    }
    assert all(a.achievement_date == TODAY and a.sales_rep_id == 7 for a in result)


# --- issue 11: goals lowered after the deadline, revocation ------------------------------------


def test_a_month_with_a_goal_lowered_after_the_deadline_earns_no_perfect_month_and_no_streak_credit():
    lowered = MonthState(2026, 11, signup_goal=5, signups_actual=D(6), set_by_deadline=False,
                         goal_set_at=SET_EARLY, lowered_after_deadline=True)
    history = met_months((2026, 10), 2)
    assert types(earned(lowered, history)) == ["monthly_signup_goal"]
    assert lowered.complete and not lowered.counts_for_streak
    assert streak_ending([*history, lowered], 2026, 11) == 0
    assert summary_streak([*history, lowered], 2026, 11) == 2
    december = month(2026, 12)
    assert streak_ending([*history, lowered, december], 2026, 12) == 1  # the lowered month broke it


def _key(kind: str, month_number: int | None = 11, tier: int | None = None) -> tuple:
    return (7, kind, 2026, month_number, tier, None)


def test_reconcile_records_only_recent_news_and_revokes_only_what_was_evaluated():
    held = {key: Achievement(*key[:4], TODAY, bonus_tier=key[4]) for key in (
        _key("monthly_signup_goal"), _key("bonus_tier_unlocked", tier=1), _key("monthly_signup_goal", 8))}
    recorded = {
        _key("bonus_tier_unlocked", tier=1): False,  # still held: kept
        _key("bonus_tier_unlocked", tier=2): False,  # November evaluated, no longer held: revoked
        _key("bonus_tier_unlocked", 5, tier=2): False,  # May not evaluated: kept
        _key("monthly_signup_goal", 8): True,  # revoked earlier, held again: reinstated
    }
    plan = reconcile(held, {_key("monthly_signup_goal"), _key("bonus_tier_unlocked", tier=1)}, recorded,
                     in_scope=lambda a: a.achievement_month in (8, 11), reason=lambda a: f"tier {a.bonus_tier}")
    assert plan.new == (_key("monthly_signup_goal"),)  # August's goal is held but not earnable (too old)
    assert plan.revoke == {_key("bonus_tier_unlocked", tier=2): "tier 2"}
    assert plan.reinstate == (_key("monthly_signup_goal", 8),)


def test_revocation_reasons_say_what_changed():
    bonus = BonusSettings()
    state = MonthState(2026, 11, signup_goal=20, signups_actual=D(10), set_by_deadline=True, goal_set_at=SET_EARLY)
    achievement = Achievement(7, "monthly_signup_goal", 2026, 11, TODAY)
    assert revocation_reason(achievement, state, None, bonus) == "signups are now 10 of 20"
    tier = Achievement(7, "bonus_tier_unlocked", 2026, 11, TODAY, bonus_tier=3)
    assert revocation_reason(tier, state, None, bonus) == "signups are now 10, below tier 3's threshold 15"
    late = MonthState(2026, 11, signup_goal=5, signups_actual=D(10), lowered_after_deadline=True)
    perfect = Achievement(7, "perfect_month", 2026, 11, TODAY)
    assert "set late" in revocation_reason(perfect, late, None, bonus)
    yearly = Achievement(7, "yearly_revenue_goal", 2026, None, TODAY)
    year = YearState(2026, revenue_goal=D(3000), revenue_actual=D("2999.99"))
    assert revocation_reason(yearly, None, year, bonus) == "revenue is now 2,999.99 of 3,000"
