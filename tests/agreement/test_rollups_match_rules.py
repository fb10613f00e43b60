"""The two roll-ups the SQL still computes after a cycle stores the sheet, against plain Python
statements of them on generated goal rows:

- ``refresh_yearly_actuals``: a year row's actuals are the sums of its months' actuals (a year
  row without months keeps its values);
- ``refresh_rep_rollups``: ``sales_reps.current_bonus_tier`` and ``goal_progress`` are the current
  month's ``bonus_tier_actual`` (0 without a row) and ``signup_progress_percent`` (the design
  document's "can sync with" columns).

They are sums and copies (no threshold, no choice), so they stay set-based in SQL
(docs/architecture.md, "What the SQL still computes").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.derived import refresh_rep_rollups, refresh_yearly_actuals
from tests.profiles import scaled

db_settings = settings(max_examples=scaled(100), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

CURRENT = (2026, 11)
periods = st.tuples(st.sampled_from([2025, 2026]), st.integers(min_value=10, max_value=12))
month = st.fixed_dictionaries({
    "goal": st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    "tenths": st.integers(min_value=0, max_value=600), "cents": st.integers(min_value=0, max_value=10**7),
    "tier": st.integers(min_value=0, max_value=6),
})
reps = st.lists(st.fixed_dictionaries({
    "months": st.dictionaries(periods, month, max_size=4),
    "years": st.lists(st.sampled_from([2025, 2026]), max_size=2, unique=True),
    "stale": st.tuples(st.integers(min_value=0, max_value=6), st.decimals(min_value=0, max_value=500, places=2)),
}), max_size=5)


def _seed(connection: Connection, roster: list[dict[str, Any]]) -> None:
    for number, rep in enumerate(roster):
        tier, progress = rep["stale"]  # what the rep row held before: the roll-up must replace it
        rep_id = connection.execute(text(
            "INSERT INTO sales_reps (name, email, current_bonus_tier, goal_progress) "
            "VALUES ('R', :email, :tier, :progress) RETURNING id"),
            {"email": f"r{number}@example.com", "tier": tier, "progress": progress}).scalar_one()
        for (year, month_number), m in rep["months"].items():
            connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline, signup_goal,
                                               signups_actual, revenue_actual, bonus_tier_actual)
                VALUES (:rep, :year, :month, make_timestamptz(:year, :month, 7, 0, 0, 0, 'UTC'), :goal,
                        :tenths * 0.1, :cents * 0.01, :tier)"""),
                {"rep": rep_id, "year": year, "month": month_number, "goal": m["goal"], "tenths": m["tenths"],
                 "cents": m["cents"], "tier": m["tier"]})
        for year in rep["years"]:
            connection.execute(text(
                "INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signups_actual, yearly_revenue_actual) "
                "VALUES (:rep, :year, 1.5, 2.25)"), {"rep": rep_id, "year": year})


@db_settings
@given(roster=reps)
def test_yearly_actuals_are_the_sums_of_the_months(db_connection: Connection, roster: list[dict[str, Any]]) -> None:
    savepoint = db_connection.begin_nested()
    try:
        _seed(db_connection, roster)
        months = db_connection.execute(text(
            "SELECT sales_rep_id, goal_year, signups_actual, revenue_actual FROM rep_monthly_goals")).all()
        before = {(row[0], row[1]): (row[2], row[3]) for row in db_connection.execute(text(
            "SELECT sales_rep_id, goal_year, yearly_signups_actual, yearly_revenue_actual FROM rep_yearly_goals"))}
        expected = {}
        for key, kept in before.items():
            rows = [m for m in months if (m[0], m[1]) == key]
            expected[key] = ((sum((m[2] for m in rows), Decimal(0)), sum((m[3] for m in rows), Decimal(0)))
                             if rows else kept)
        changed = refresh_yearly_actuals(db_connection)
        after = {(row[0], row[1]): (row[2], row[3]) for row in db_connection.execute(text(
            "SELECT sales_rep_id, goal_year, yearly_signups_actual, yearly_revenue_actual FROM rep_yearly_goals"))}
        assert after == expected
        assert changed == sum(1 for key in before if before[key] != expected[key])
        assert refresh_yearly_actuals(db_connection) == 0  # only rows whose values differ are written
    finally:
        savepoint.rollback()


@db_settings
@given(roster=reps)
def test_rep_rollups_copy_the_current_month(db_connection: Connection, roster: list[dict[str, Any]]) -> None:
    savepoint = db_connection.begin_nested()
    try:
        _seed(db_connection, roster)
        year, month_number = CURRENT
        current = {row[0]: (row[1], row[2]) for row in db_connection.execute(text(
            "SELECT sales_rep_id, bonus_tier_actual, signup_progress_percent FROM rep_monthly_goals "
            "WHERE goal_year = :year AND goal_month = :month"), {"year": year, "month": month_number})}
        refresh_rep_rollups(db_connection, year=year, month=month_number)
        reps_now = {row[0]: (row[1], row[2]) for row in db_connection.execute(text(
            "SELECT id, current_bonus_tier, goal_progress FROM sales_reps"))}
        for rep_id, (tier, progress) in reps_now.items():
            month_tier, month_progress = current.get(rep_id, (None, None))
            assert (tier, progress) == (month_tier if month_tier is not None else 0, month_progress)
        assert refresh_rep_rollups(db_connection, year=year, month=month_number) == 0
    finally:
        savepoint.rollback()
