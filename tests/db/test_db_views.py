"""The three views, with the clock set through goals.now and the company time zone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.rules.pace import expected_fraction, pace
from models.settings import PaceSettings


def _current(sql, rep_id):
    return sql("SELECT * FROM v_current_month_goals WHERE sales_rep_id = :id", id=rep_id).mappings().one()


def test_the_month_follows_the_company_time_zone(sql, add_rep, add_month, configure, set_now):
    rep = add_rep()
    add_month(rep, year=2026, month=11, signup_goal=10, signups_actual=10)
    set_now("2026-12-01T02:00:00Z")

    configure(timezone="America/New_York")  # still 21:00 on 30 November there
    row = _current(sql, rep)
    assert (row["goal_year"], row["goal_month"], row["today"]) == (2026, 11, date(2026, 11, 30))
    assert row["goal_id"] is not None
    assert (row["days_left"], row["expected_percent"]) == (0, Decimal("100.00"))
    assert row["health_status"] == "on_track"  # 100 % done of 100 % expected

    configure(timezone="UTC")  # already December: no goal row yet
    row = _current(sql, rep)
    assert (row["goal_month"], row["goal_id"], row["health_status"]) == (12, None, None)
    assert row["days_left"] == 30


@pytest.mark.parametrize(
    ("signups", "revenue", "status"),
    [
        (None, 550, "ahead"),  # 55 % of an expected 50 %: ratio exactly 1.10
        (None, 549, "on_track"),
        (None, 475, "on_track"),  # exactly 0.95
        (None, 474, "behind"),
        (None, 400, "behind"),  # exactly 0.80
        (None, 399, "critical"),
        (10, 399, "critical"),  # the weaker metric decides
        (4, 900, "behind"),
    ],
)
def test_health_status_mid_month(sql, add_rep, add_month, configure, set_now, signups, revenue, status):
    configure(timezone="America/New_York")
    set_now("2026-11-15T17:00:00Z")  # 15 November, 15 of 30 days elapsed
    rep = add_rep()
    add_month(
        rep,
        signup_goal=10 if signups is not None else None,
        signups_actual=signups or 0,
        revenue_goal=1000,
        revenue_actual=revenue,
    )
    row = _current(sql, rep)
    assert row["expected_percent"] == Decimal("50.00")
    assert row["health_status"] == status


def test_no_health_status_without_a_goal(sql, add_rep, add_month, set_now):
    set_now("2026-11-15T12:00:00Z")
    without_row = add_rep("Bo")
    without_goal = add_rep("Cy")
    add_month(without_goal, signups_actual=4)
    assert _current(sql, without_row)["health_status"] is None
    assert _current(sql, without_goal)["health_status"] is None


@pytest.mark.parametrize(("day", "status"), [(1, "too_early"), (2, "too_early"), (3, "on_track")])
def test_too_early_until_ten_percent_of_the_month(sql, add_rep, add_month, set_now, day, status):
    set_now(f"2026-11-{day:02d}T12:00:00Z")
    rep = add_rep()
    add_month(rep, signup_goal=30, signups_actual=day)
    assert _current(sql, rep)["health_status"] == status


def test_business_calendar_skips_weekends_and_holidays(sql, add_rep, add_month, configure, set_now):
    rep = add_rep()
    add_month(rep, signup_goal=10, signups_actual=5)
    set_now("2026-11-13T12:00:00Z")  # Friday: 10 of November's 21 weekdays
    configure(pace_calendar="business")
    assert _current(sql, rep)["expected_percent"] == Decimal("47.62")
    configure(holidays=[date(2026, 11, 26)])  # Thanksgiving: 10 of 20
    row = _current(sql, rep)
    assert (row["expected_percent"], row["health_status"]) == (Decimal("50.00"), "on_track")

    set_now("2026-11-01T12:00:00Z")  # a Sunday: no business day has elapsed yet
    configure(min_elapsed_percent=0)
    assert _current(sql, rep)["health_status"] == "too_early"


@pytest.mark.parametrize("calendar", ["calendar", "business"])
def test_health_status_agrees_with_the_pure_pace_rule(
    sql, add_rep, add_month, configure, set_now, calendar
):
    holidays = [date(2026, 11, 11), date(2026, 11, 26)]
    configure(pace_calendar=calendar, holidays=holidays)
    settings = PaceSettings(calendar=calendar, holidays=holidays)
    actuals = [Decimal(0), Decimal("3.3"), Decimal(5), Decimal("7.5"), Decimal(10)]
    reps = {add_rep(f"rep{i}"): actual for i, actual in enumerate(actuals)}
    for rep, actual in reps.items():
        add_month(rep, signup_goal=10, signups_actual=actual)
    for day in range(1, 31):
        today = date(2026, 11, 1) + timedelta(days=day - 1)
        set_now(f"{today.isoformat()}T12:00:00Z")
        rows = sql("SELECT * FROM v_current_month_goals").mappings().all()
        expected = expected_fraction(today, calendar, holidays)
        for row in rows:
            result = pace(row["signup_progress_percent"], 10, None, None, expected=expected, settings=settings)
            assert row["health_status"] == result.indicator, (today, row["signups_actual"])


def test_deadline_status_through_the_month(sql, add_rep, add_month, configure, set_now):
    configure(timezone="America/New_York")  # deadline: 7 November 00:00 New York = 05:00 UTC
    on_time, not_set, _no_row, late = (add_rep(name) for name in ("Ana", "Bo", "Cy", "Di"))
    add_month(on_time, signup_goal=10, goal_set_at="2026-11-02T10:00:00Z", set_by_deadline=True)
    add_month(not_set, signup_goal=10)
    add_month(late, signup_goal=10, goal_set_at="2026-11-09T10:00:00Z", set_by_deadline=False)

    def statuses():
        rows = sql("SELECT rep_name, deadline_status, days_until_deadline FROM v_goals_needing_setup")
        return {name: (status, days) for name, status, days in rows}

    set_now("2026-11-04T12:00:00Z")
    assert statuses() == {"Bo": ("pending", 3), "Cy": ("not_set", 3), "Di": ("pending", 3)}
    set_now("2026-11-07T05:00:00Z")  # the deadline instant itself: not passed yet
    assert statuses() == {"Bo": ("pending", 0), "Cy": ("not_set", 0), "Di": ("pending", 0)}
    set_now("2026-11-07T05:00:01Z")
    assert statuses() == {"Bo": ("overdue", 0), "Cy": ("overdue", 0), "Di": ("overdue", 0)}
    set_now("2026-11-20T12:00:00Z")
    assert statuses()["Cy"] == ("overdue", -13)

    current = sql("SELECT rep_name, deadline_status FROM v_current_month_goals").all()
    assert dict(current) == {"Ana": "complete", "Bo": "overdue", "Cy": "overdue", "Di": "overdue"}
    deadline = sql("SELECT DISTINCT deadline FROM v_goals_needing_setup").scalar_one()
    assert deadline.isoformat() == "2026-11-07T05:00:00+00:00"


def test_inactive_reps_are_left_out(sql, add_rep, set_now):
    set_now("2026-11-04T12:00:00Z")
    add_rep("Ana", is_active=False)
    for view in ("v_current_month_goals", "v_yearly_goals_summary", "v_goals_needing_setup"):
        assert sql(f"SELECT count(*) FROM {view}").scalar_one() == 0


def test_yearly_pace_status(sql, add_rep, set_now):
    set_now("2026-11-15T12:00:00Z")
    rows = {
        "On": (120, Decimal(110)),
        "Behind": (120, Decimal("109.5")),
        "Zero": (0, Decimal(5)),
    }
    for name, (goal, actual) in rows.items():
        sql(
            "INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal, yearly_signups_actual) "
            "VALUES (:rep, 2026, :goal, :actual)",
            rep=add_rep(name),
            goal=goal,
            actual=actual,
        )
    add_rep("Nobody")
    result = {
        row["rep_name"]: row
        for row in sql("SELECT * FROM v_yearly_goals_summary").mappings()
    }
    assert {name: row["pace_status"] for name, row in result.items()} == {
        "On": "On Pace",
        "Behind": "Behind Pace",
        "Zero": None,
        "Nobody": None,
    }
    assert result["On"]["expected_signups_by_now"] == Decimal("110.00")
    assert (result["On"]["current_month"], result["On"]["months_remaining"]) == (11, 1)
    assert result["On"]["yearly_signup_progress_percent"] == Decimal("91.66")  # 91.666…, cut
