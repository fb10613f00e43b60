"""The data version (migration 0004): one ``data_changes`` row per transaction that wrote to a table
a cycle's output reads, so a cycle in any process can tell nothing changed since the last one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.db.conftest import Sql

TRACKED = ("app_settings", "sales_reps", "rep_monthly_goals", "rep_yearly_goals", "goal_progress_snapshots",
           "leaderboard_snapshots", "goal_deadline_reminders", "sheet_output_state")


def changes(sql: Sql) -> int:
    return int(sql("SELECT count(*) FROM data_changes WHERE txid = txid_current()").scalar_one())


def test_a_transaction_that_writes_counts_once_however_many_statements(sql: Sql, add_rep: Callable[..., int],
                                                                        add_month: Callable[..., Any]) -> None:
    assert changes(sql) == 0
    rep = add_rep("Ana")
    add_month(rep, 2026, 11, signup_goal=10)
    sql("UPDATE sales_reps SET name = 'Ana B' WHERE id = :id", id=rep)
    assert changes(sql) == 1


def test_the_achievement_jobs_bookkeeping_is_no_change(sql: Sql, add_rep: Callable[..., int],
                                                       add_month: Callable[..., Any]) -> None:
    rep = add_rep("Ana")
    month = add_month(rep, 2026, 11, signup_goal=10)
    assert stale_months(sql) == [month["id"]]  # a new month is evaluated
    sql("DELETE FROM data_changes")
    sql("DELETE FROM achievement_stale_months WHERE monthly_goal_id = :id", id=month["id"])
    assert changes(sql) == 0
    sql("UPDATE rep_monthly_goals SET signups_actual = 3 WHERE id = :id", id=month["id"])
    assert changes(sql) == 1
    assert stale_months(sql) == [month["id"]]


def stale_months(sql: Sql) -> list[int]:
    return list(sql("SELECT monthly_goal_id FROM achievement_stale_months ORDER BY 1").scalars())


def test_only_a_change_of_what_achievements_depend_on_marks_a_month_stale(
        sql: Sql, add_rep: Callable[..., int], add_month: Callable[..., Any]) -> None:
    rep = add_rep("Ana")
    first = add_month(rep, 2026, 10, signup_goal=10)
    second = add_month(rep, 2026, 11, signup_goal=10)
    sql("DELETE FROM achievement_stale_months")
    sql("UPDATE rep_monthly_goals SET deadline = deadline + interval '1 hour' WHERE sales_rep_id = :rep", rep=rep)
    assert stale_months(sql) == []
    sql("UPDATE rep_monthly_goals SET signups_actual = 10 WHERE id = :id", id=second["id"])
    assert stale_months(sql) == [second["id"]]
    sql("UPDATE rep_monthly_goals SET revenue_goal = 5 WHERE id IN (:a, :b)", a=first["id"], b=second["id"])
    assert stale_months(sql) == sorted([first["id"], second["id"]])


def test_every_tracked_table_has_the_trigger_and_every_output_column_counts(sql: Sql) -> None:
    rows = sql("""
        SELECT c.relname, t.tgattr::int2[] AS columns FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE t.tgname = 'trg_' || c.relname || '_data_change' AND c.relnamespace = current_schema()::regnamespace
    """).all()
    assert sorted(row.relname for row in rows) == sorted(TRACKED)
    # No column list: an update of any column is a change (the job's bookkeeping has its own table).
    assert all(row.columns == [] for row in rows)
