"""A first load checks the goal rows' (and a first evaluation the achievements') foreign keys once
(``models.bulk``): the keys come back as they were, still refuse a row without its rep, and are
left alone while another session uses the tables."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from models.bulk import BULK_ROWS, foreign_keys_checked_once
from models.job_queries import AchievementRow, SqlJobTransaction
from models.rules.achievements import Achievement

KEYS = text("""
    SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid = 'rep_monthly_goals'::regclass AND contype = 'f' ORDER BY conname
""")
ADD_MONTH = text("""
    INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline)
    VALUES (:rep, 2026, 11, '2026-11-07 00:00+00')
""")


def _rep(connection: Connection) -> int:
    return int(connection.execute(text(
        "INSERT INTO sales_reps (name, email) VALUES ('Ann', 'ann@example.com') RETURNING id")).scalar_one())


def _keys(connection: Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(KEYS)]


def test_the_keys_come_back_as_they_were(db_connection: Connection) -> None:
    before = _keys(db_connection)
    rep = _rep(db_connection)
    with foreign_keys_checked_once(db_connection, "rep_monthly_goals") as set_aside:
        assert set_aside and _keys(db_connection) == []
        db_connection.execute(ADD_MONTH, {"rep": rep})
    assert len(before) == 2 and _keys(db_connection) == before
    assert db_connection.execute(text("SHOW lock_timeout")).scalar_one() == "0"


def test_a_row_without_its_rep_still_fails_the_load(db_connection: Connection) -> None:
    before = _keys(db_connection)
    with (pytest.raises(IntegrityError, match="fk_rep_monthly_goals_sales_rep_id_sales_reps"),
          foreign_keys_checked_once(db_connection, "rep_monthly_goals")):
        db_connection.execute(ADD_MONTH, {"rep": 999_999})
    assert _keys(db_connection) == before  # rolled back to where the block began: the keys are there


def test_keys_in_use_by_another_session_stay_and_check_each_row(engine: Engine,
                                                               db_connection: Connection) -> None:
    before = _keys(db_connection)
    with engine.connect() as other, other.begin():
        other.execute(text("SELECT count(*) FROM sales_reps"))  # a reader holds its lock till it ends
        with foreign_keys_checked_once(db_connection, "rep_monthly_goals") as set_aside:
            assert not set_aside and _keys(db_connection) == before
            savepoint = db_connection.begin_nested()
            with pytest.raises(IntegrityError):
                db_connection.execute(ADD_MONTH, {"rep": 999_999})
            savepoint.rollback()
    assert _keys(db_connection) == before
    assert db_connection.execute(text("SHOW lock_timeout")).scalar_one() == "0"


def test_a_first_evaluation_records_thousands_of_achievements_with_their_keys_back(
        db_connection: Connection) -> None:
    achievement_keys = text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE conrelid = 'goal_achievements'::regclass AND contype = 'f' ORDER BY 1")
    before = [tuple(row) for row in db_connection.execute(achievement_keys)]
    rep = _rep(db_connection)
    rows = [AchievementRow(Achievement(rep, "streak_milestone", 2026, None, date(2026, 11, 1), milestone=n), None,
                           None) for n in range(1, BULK_ROWS + 1)]
    assert SqlJobTransaction(db_connection).insert_achievements(rows) == BULK_ROWS
    assert len(before) == 3 and [tuple(row) for row in db_connection.execute(achievement_keys)] == before
