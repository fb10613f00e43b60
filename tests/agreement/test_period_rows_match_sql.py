"""Default month and year rows and month/year close are decided in Python now
(``plan_default_months``, ``plan_default_years``, ``months_to_close``, ``years_to_close``);
the SQL that used to decide them is kept here as the oracle. On generated rosters and goal
rows, the rows the store writes equal what the old statements wrote, row for row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.derived import close_past_periods, ensure_period_rows
from tests.profiles import scaled

db_settings = settings(max_examples=scaled(100), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

ZONES = ["UTC", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"]
periods = st.tuples(st.integers(min_value=2025, max_value=2027), st.integers(min_value=1, max_value=12))
reps = st.lists(st.fixed_dictionaries({
    "active": st.booleans(), "goal": st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    "yearly": st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
    "months": st.lists(st.tuples(periods, st.sampled_from(["active", "missed", "completed"]),
                                 st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=10**6)),
                       max_size=4, unique_by=lambda m: m[0]),
    "years": st.lists(st.tuples(st.integers(min_value=2025, max_value=2027),
                                st.sampled_from(["active", "missed", "completed"])),
                      max_size=2, unique_by=lambda y: y[0]),
}), max_size=5)

OLD_MONTH_DEFAULTS = """
    INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, deadline)
    SELECT r.id, :year, :month, r.monthly_signup_goal,
           make_timestamptz(:year, :month, CAST(:deadline_day AS int) + 1, 0, 0, 0, CAST(:tz AS text))
    FROM sales_reps r
    WHERE r.is_active AND NOT EXISTS (
        SELECT 1 FROM rep_monthly_goals g
        WHERE g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
    )
    ON CONFLICT ON CONSTRAINT idx_monthly_goals_rep_period DO NOTHING
"""
OLD_YEAR_DEFAULTS = """
    WITH missing AS (
        SELECT DISTINCT g.sales_rep_id, g.goal_year
        FROM rep_monthly_goals g
        WHERE NOT EXISTS (
            SELECT 1 FROM rep_yearly_goals y WHERE y.sales_rep_id = g.sales_rep_id AND y.goal_year = g.goal_year
        )
    )
    INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal, yearly_signups_actual,
                                  yearly_revenue_actual, status)
    SELECT m.sales_rep_id, m.goal_year, r.yearly_signup_goal, s.signups, s.revenue,
           CASE WHEN m.goal_year < :year THEN 'missed' ELSE 'active' END
    FROM missing m
    JOIN sales_reps r ON r.id = m.sales_rep_id
    CROSS JOIN LATERAL (
        SELECT sum(g.signups_actual) AS signups, sum(g.revenue_actual) AS revenue
        FROM rep_monthly_goals g WHERE g.sales_rep_id = m.sales_rep_id AND g.goal_year = m.goal_year
    ) s
    ON CONFLICT ON CONSTRAINT uq_yearly_goals_rep_year DO NOTHING
"""
OLD_CLOSE = ["""
    UPDATE rep_monthly_goals SET status = 'missed'
    WHERE status = 'active' AND (goal_year * 12 + goal_month) < (:year * 12 + :month)
""", "UPDATE rep_yearly_goals SET status = 'missed' WHERE status = 'active' AND goal_year < :year"]


def _seed(connection: Connection, roster: list[dict[str, Any]]) -> None:
    for number, rep in enumerate(roster):
        rep_id = connection.execute(text(
            "INSERT INTO sales_reps (name, email, is_active, monthly_signup_goal, yearly_signup_goal) "
            "VALUES ('R', :email, :active, :goal, :yearly) RETURNING id"),
            {"email": f"r{number}@example.com", "active": rep["active"], "goal": rep["goal"], "yearly": rep["yearly"]}
        ).scalar_one()
        for (year, month), status, tenths, cents in rep["months"]:
            connection.execute(text(
                "INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline, status, signups_actual, "
                "revenue_actual) VALUES (:rep, :year, :month, make_timestamptz(:year, :month, 7, 0, 0, 0, 'UTC'), "
                ":status, :tenths * 0.1, :cents * 0.01)"),
                {"rep": rep_id, "year": year, "month": month, "status": status, "tenths": tenths, "cents": cents})
        for year, status in rep["years"]:
            connection.execute(text(
                "INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, status) VALUES (:rep, :year, :status)"),
                {"rep": rep_id, "year": year, "status": status})


def _outcome(connection: Connection, roster: list[dict[str, Any]], step: Callable[[], int]) -> tuple[Any, ...]:
    savepoint = connection.begin_nested()
    try:
        _seed(connection, roster)
        changed = step()
        months = connection.execute(text("""
            SELECT r.email, g.goal_year, g.goal_month, g.signup_goal, g.deadline, g.status, g.goal_set_at
            FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id ORDER BY 1, 2, 3""")).all()
        years = connection.execute(text("""
            SELECT r.email, y.goal_year, y.status, y.yearly_signup_goal, y.yearly_signups_actual,
                   y.yearly_revenue_actual, y.goal_set_at
            FROM rep_yearly_goals y JOIN sales_reps r ON r.id = y.sales_rep_id
            ORDER BY 1, 2""")).all()
        return changed, [tuple(row) for row in months], [tuple(row) for row in years]
    finally:
        savepoint.rollback()


@db_settings
@given(roster=reps, today=periods, deadline_day=st.integers(min_value=1, max_value=27), tz=st.sampled_from(ZONES))
def test_default_month_and_year_rows_equal_the_old_sql(db_connection: Connection, roster: list[dict[str, Any]],
                                              today: tuple[int, int], deadline_day: int, tz: str) -> None:
    year, month = today
    params = {"year": year, "month": month, "deadline_day": deadline_day, "tz": tz}
    old = _outcome(db_connection, roster, lambda: sum(
        db_connection.execute(text(sql), params).rowcount for sql in (OLD_MONTH_DEFAULTS, OLD_YEAR_DEFAULTS)))
    new = _outcome(db_connection, roster, lambda: ensure_period_rows(
        db_connection, year=year, month=month, deadline_day=deadline_day, timezone=tz))
    assert old == new


@db_settings
@given(roster=reps, today=periods)
def test_month_and_year_close_equal_the_old_sql(db_connection: Connection, roster: list[dict[str, Any]],
                                                today: tuple[int, int]) -> None:
    year, month = today
    params = {"year": year, "month": month}
    old = _outcome(db_connection, roster,
                   lambda: sum(db_connection.execute(text(sql), params).rowcount for sql in OLD_CLOSE))
    new = _outcome(db_connection, roster, lambda: close_past_periods(db_connection, year=year, month=month))
    assert old == new
