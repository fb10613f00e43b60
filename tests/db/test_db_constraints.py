"""Constraints refuse bad rows; foreign keys cascade or null out as documented."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError


def _refused(db, sql, statement, **params):
    with pytest.raises(IntegrityError), db.begin_nested():
        sql(statement, **params)


MONTH = (
    "INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline, {column}) "
    "VALUES (:rep, :year, :month, now(), :value)"
)


@pytest.mark.parametrize(
    ("year", "month", "column", "value"),
    [
        (2026, 13, "signup_goal", 1),
        (2026, 0, "signup_goal", 1),
        (2023, 5, "signup_goal", 1),
        (2026, 5, "bonus_tier_goal", 7),
        (2026, 5, "bonus_tier_actual", -1),
        (2026, 5, "signup_goal", -1),
        (2026, 5, "revenue_goal", -0.01),
        (2026, 5, "signups_actual", -1),
        (2026, 5, "revenue_actual", -5),
        (2026, 5, "status", "done"),
    ],
)
def test_bad_monthly_values_are_refused(db, sql, add_rep, year, month, column, value):
    _refused(db, sql, MONTH.format(column=column), rep=add_rep(), year=year, month=month, value=value)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO users (email, name, role) VALUES ('x@example.com', 'X', 'owner')",
        "INSERT INTO users (email, name, role) VALUES ('X@Example.com', 'X', 'rep')",
        "INSERT INTO sales_reps (name, email) VALUES ('X', ' x@example.com')",
        "INSERT INTO sales_reps (name, email, current_bonus_tier) VALUES ('X', 'x@example.com', 7)",
        "INSERT INTO sales_reps (name, email, monthly_signup_goal) VALUES ('X', 'x@example.com', -1)",
        "INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal) VALUES (:rep, 2026, -1)",
        "INSERT INTO rep_yearly_goals (sales_rep_id, goal_year) VALUES (:rep, 2023)",
        "INSERT INTO goal_progress_snapshots (sales_rep_id, snapshot_date, snapshot_type) "
        "VALUES (:rep, '2026-11-01', 'hourly')",
        "INSERT INTO goal_progress_snapshots (sales_rep_id, snapshot_date, snapshot_type, pace_indicator) "
        "VALUES (:rep, '2026-11-01', 'daily', 'too_early')",
        "INSERT INTO goal_achievements (sales_rep_id, achievement_type, achievement_date, achievement_year) "
        "VALUES (:rep, 'best_hair', '2026-11-01', 2026)",
        "INSERT INTO goal_deadline_reminders (sales_rep_id, reminder_type, target_month, target_year, "
        "deadline, due_date) VALUES (:rep, 'goal_deadline_2days', 11, 2026, now(), '2026-11-04')",
        "INSERT INTO sheets_sync_log (started_at, status) VALUES (now(), 'ok')",
        "INSERT INTO job_runs (job, scheduled_for, status) VALUES ('snapshot', now(), 'done')",
        "INSERT INTO app_settings (id) VALUES (2)",
        "UPDATE app_settings SET pace_calendar = 'lunar'",
    ],
)
def test_bad_rows_are_refused(db, sql, add_rep, statement):
    rep = add_rep()
    _refused(db, sql, statement, **({"rep": rep} if ":rep" in statement else {}))


def test_one_monthly_goal_row_per_rep_and_month(db, sql, add_rep, add_month):
    rep = add_rep()
    add_month(rep, month=11)
    add_month(rep, month=12)
    with pytest.raises(IntegrityError, match="idx_monthly_goals_rep_period"), db.begin_nested():
        add_month(rep, month=11)


def test_one_yearly_goal_row_per_rep_and_year(db, sql, add_rep):
    rep = add_rep()
    sql("INSERT INTO rep_yearly_goals (sales_rep_id, goal_year) VALUES (:rep, 2026)", rep=rep)
    with pytest.raises(IntegrityError, match="uq_yearly_goals_rep_year"), db.begin_nested():
        sql("INSERT INTO rep_yearly_goals (sales_rep_id, goal_year) VALUES (:rep, 2026)", rep=rep)


def test_a_yearly_achievement_with_no_month_is_recorded_once(db, sql, add_rep):
    statement = (
        "INSERT INTO goal_achievements (sales_rep_id, achievement_type, achievement_date, achievement_year) "
        "VALUES (:rep, 'yearly_signup_goal', '2026-10-01', 2026)"
    )
    rep = add_rep()
    sql(statement, rep=rep)
    with pytest.raises(IntegrityError, match="uq_achievements_once"), db.begin_nested():
        sql(statement, rep=rep)
    # ON CONFLICT DO NOTHING (what the job uses) sees the NULL month as equal too.
    inserted = sql(statement + " ON CONFLICT ON CONSTRAINT uq_achievements_once DO NOTHING", rep=rep)
    assert inserted.rowcount == 0


def test_tier_achievements_differ_by_tier(sql, add_rep):
    rep = add_rep()
    for tier in (1, 2):
        sql(
            "INSERT INTO goal_achievements (sales_rep_id, achievement_type, achievement_date, "
            "achievement_year, achievement_month, bonus_tier) "
            "VALUES (:rep, 'bonus_tier_unlocked', '2026-11-05', 2026, 11, :tier)",
            rep=rep,
            tier=tier,
        )
    assert sql("SELECT count(*) FROM goal_achievements").scalar_one() == 2


def test_deleting_a_rep_removes_its_rows_and_deleting_a_user_keeps_the_goal(sql, add_rep, add_month):
    user = sql(
        "INSERT INTO users (email, name, role) VALUES ('sync@example.com', 'Sync', 'system') RETURNING id"
    ).scalar_one()
    rep = add_rep(user_id=user)
    goal = add_month(rep, goal_set_by=user)
    sql(
        "INSERT INTO goal_progress_snapshots (sales_rep_id, snapshot_date, snapshot_type, monthly_goal_id) "
        "VALUES (:rep, '2026-11-02', 'daily', :goal)",
        rep=rep,
        goal=goal["id"],
    )
    sql("DELETE FROM users WHERE id = :id", id=user)
    assert sql("SELECT goal_set_by FROM rep_monthly_goals").scalar_one() is None
    assert sql("SELECT user_id FROM sales_reps").scalar_one() is None

    sql("DELETE FROM rep_monthly_goals")
    assert sql("SELECT monthly_goal_id FROM goal_progress_snapshots").scalar_one() is None
    sql("DELETE FROM sales_reps WHERE id = :id", id=rep)
    assert sql("SELECT count(*) FROM goal_progress_snapshots").scalar_one() == 0


def test_the_migration_inserts_the_default_settings_row(sql):
    row = sql("SELECT * FROM app_settings").mappings().one()
    assert (row["id"], row["timezone"], row["deadline_day"], row["pace_calendar"]) == (1, "UTC", 6, "calendar")
    assert row["holidays"] == []
    assert (str(row["pace_ahead"]), str(row["pace_on_track"]), str(row["pace_behind"])) == ("1.10", "0.95", "0.80")
