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
    sql("DELETE FROM data_changes")
    sql("UPDATE rep_monthly_goals SET achievements_stale = false WHERE id = :id", id=month["id"])
    assert changes(sql) == 0
    sql("UPDATE rep_monthly_goals SET signups_actual = 3 WHERE id = :id", id=month["id"])
    assert changes(sql) == 1


def test_every_tracked_table_has_the_trigger_and_every_output_column_counts(sql: Sql) -> None:
    rows = sql("""
        SELECT c.relname, t.tgattr::int2[] AS columns FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE t.tgname = 'trg_' || c.relname || '_data_change' AND c.relnamespace = current_schema()::regnamespace
    """).all()
    assert sorted(row.relname for row in rows) == sorted(TRACKED)
    # A column a later migration adds to rep_monthly_goals must be in its trigger's UPDATE OF list.
    listed = next(row.columns for row in rows if row.relname == "rep_monthly_goals")
    every = sql("""
        SELECT attnum FROM pg_attribute WHERE attrelid = 'rep_monthly_goals'::regclass AND attnum > 0
          AND NOT attisdropped AND attname <> 'achievements_stale' ORDER BY attnum
    """).scalars().all()
    assert sorted(listed) == list(every)
    assert all(row.columns == [] for row in rows if row.relname != "rep_monthly_goals")
