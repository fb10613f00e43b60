"""The progress triggers, generated columns and updated_at, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest


def _month(sql, goal_id):
    return sql("SELECT * FROM rep_monthly_goals WHERE id = :id", id=goal_id).mappings().one()


def test_twelve_signups_of_fifteen_is_eighty_percent(add_rep, add_month):
    row = add_month(add_rep(), signup_goal=15, signups_actual=12)
    assert row["signup_progress_percent"] == Decimal("80.00")
    assert row["revenue_progress_percent"] is None
    assert row["status"] == "active"
    assert row["completed_at"] is None


def test_progress_is_not_capped_and_half_credit_counts(add_rep, add_month):
    row = add_month(add_rep(), signup_goal=15, signups_actual=Decimal("30.5"), revenue_goal=3, revenue_actual=1)
    assert row["signup_progress_percent"] == Decimal("203.33")
    assert row["revenue_progress_percent"] == Decimal("33.33")


@pytest.mark.parametrize("goal", [None, 0])
def test_no_goal_means_no_percent_and_the_row_stays_active(add_rep, add_month, goal):
    row = add_month(add_rep(), signup_goal=goal, signups_actual=40, revenue_goal=goal, revenue_actual=900)
    assert row["signup_progress_percent"] is None
    assert row["revenue_progress_percent"] is None
    assert row["status"] == "active"
    assert row["completed_at"] is None


def test_zero_revenue_goal_does_not_block_completion(add_rep, add_month, set_now):
    set_now("2026-11-20T10:00:00Z")
    row = add_month(add_rep(), signup_goal=10, signups_actual=10, revenue_goal=0, revenue_actual=0)
    assert row["revenue_progress_percent"] is None
    assert row["status"] == "completed"
    assert row["completed_at"] == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_every_set_goal_met_completes_and_a_correction_reopens(add_rep, add_month, set_now, sql):
    set_now("2026-11-20T10:00:00Z")
    goal = add_month(add_rep(), signup_goal=10, signups_actual=9, revenue_goal=5000, revenue_actual=6000)
    assert goal["status"] == "active"

    sql("UPDATE rep_monthly_goals SET signups_actual = 10 WHERE id = :id", id=goal["id"])
    row = _month(sql, goal["id"])
    assert (row["status"], row["completed_at"]) == ("completed", datetime(2026, 11, 20, 10, tzinfo=UTC))

    # Staying completed keeps the first completion time.
    set_now("2026-11-25T10:00:00Z")
    sql("UPDATE rep_monthly_goals SET signups_actual = 12 WHERE id = :id", id=goal["id"])
    assert _month(sql, goal["id"])["completed_at"] == datetime(2026, 11, 20, 10, tzinfo=UTC)

    # Actuals corrected below a goal: back to active, never stuck at completed.
    sql("UPDATE rep_monthly_goals SET revenue_actual = 4000 WHERE id = :id", id=goal["id"])
    row = _month(sql, goal["id"])
    assert (row["status"], row["completed_at"]) == ("active", None)
    assert row["revenue_progress_percent"] == Decimal("80.00")


@pytest.mark.parametrize(("actual", "goal", "percent", "status"), [
    (Decimal("4999.99"), 5000, Decimal("99.99"), "active"),  # 99.9998 %: cut, not rounded up
    (Decimal("999950"), 1_000_000, Decimal("99.99"), "active"),
    (Decimal("5000.00"), 5000, Decimal("100.00"), "completed"),
    (Decimal("1000000.01"), 1_000_000, Decimal("100.00"), "completed"),
])
def test_completion_compares_actual_with_goal_exactly(add_rep, add_month, actual, goal, percent, status):
    # Issue 11: completion is actual >= goal (as models.rules.progress.is_complete), never the
    # percent, and the percent never shows 100.00 unless the goal is met.
    row = add_month(add_rep(), revenue_goal=goal, revenue_actual=actual)
    assert (row["revenue_progress_percent"], row["status"]) == (percent, status)


def test_clearing_the_goals_reopens(add_rep, add_month, sql):
    goal = add_month(add_rep(), signup_goal=5, signups_actual=5)
    assert goal["status"] == "completed"
    sql("UPDATE rep_monthly_goals SET signup_goal = NULL WHERE id = :id", id=goal["id"])
    assert _month(sql, goal["id"])["status"] == "active"


def test_archived_stays_archived_and_missed_completes_only_when_met(add_rep, add_month, sql):
    rep = add_rep()
    archived = add_month(rep, month=9, signup_goal=5, signups_actual=9, status="archived")
    assert (archived["status"], archived["completed_at"]) == ("archived", None)

    missed = add_month(rep, month=10, signup_goal=5, signups_actual=3, status="missed")
    assert missed["status"] == "missed"
    sql("UPDATE rep_monthly_goals SET signups_actual = 5 WHERE id = :id", id=missed["id"])
    assert _month(sql, missed["id"])["status"] == "completed"


def _year(sql, rep_id, **values):
    row = {"sales_rep_id": rep_id, "goal_year": 2026, **values}
    columns = ", ".join(row)
    params = ", ".join(f":{c}" for c in row)
    return sql(f"INSERT INTO rep_yearly_goals ({columns}) VALUES ({params}) RETURNING *", **row).mappings().one()


@pytest.mark.parametrize(
    ("yearly", "monthly"),
    [(100, Decimal("8.33")), (1000, Decimal("83.33")), (120, Decimal("10.00")), (None, None)],
)
def test_monthly_targets_are_generated_from_yearly_goals(add_rep, sql, yearly, monthly):
    row = _year(sql, add_rep(), yearly_signup_goal=yearly, yearly_revenue_goal=yearly)
    assert row["monthly_signup_target"] == monthly
    assert row["monthly_revenue_target"] == monthly


def test_yearly_progress_follows_the_same_rule(add_rep, sql, set_now):
    set_now("2026-12-30T12:00:00Z")
    row = _year(sql, add_rep(), yearly_signup_goal=100, yearly_signups_actual=100, yearly_revenue_goal=0)
    assert row["yearly_signup_progress_percent"] == Decimal("100.00")
    assert row["yearly_revenue_progress_percent"] is None
    assert (row["status"], row["completed_at"]) == ("completed", datetime(2026, 12, 30, 12, tzinfo=UTC))

    sql("UPDATE rep_yearly_goals SET yearly_signups_actual = 99.5 WHERE id = :id", id=row["id"])
    again = sql("SELECT * FROM rep_yearly_goals WHERE id = :id", id=row["id"]).mappings().one()
    assert (again["status"], again["completed_at"]) == ("active", None)
    assert again["yearly_signup_progress_percent"] == Decimal("99.50")


@pytest.mark.parametrize(
    ("table", "no_op", "change"),
    [
        ("sales_reps", "name = name", "team = 'East'"),
        ("rep_monthly_goals", "signups_actual = signups_actual", "signups_actual = 3"),
        ("rep_yearly_goals", "yearly_signup_goal = yearly_signup_goal", "yearly_signups_actual = 7"),
        ("app_settings", "timezone = timezone", "deadline_day = 5"),
    ],
)
def test_updated_at_moves_only_when_the_row_changes(add_rep, add_month, sql, table, no_op, change):
    rep = add_rep()
    add_month(rep, signup_goal=10)
    _year(sql, rep, yearly_signup_goal=120)
    # now() is fixed inside the test's transaction, so start from a known old value.
    sql(f"ALTER TABLE {table} DISABLE TRIGGER trg_zz_updated_at")
    sql(f"UPDATE {table} SET updated_at = '2020-01-01T00:00:00Z'")
    sql(f"ALTER TABLE {table} ENABLE TRIGGER trg_zz_updated_at")
    old = datetime(2020, 1, 1, tzinfo=UTC)

    sql(f"UPDATE {table} SET {no_op}")
    assert sql(f"SELECT updated_at FROM {table}").scalar_one() == old

    sql(f"UPDATE {table} SET {change}")
    assert sql(f"SELECT updated_at FROM {table}").scalar_one() > old
