"""Which reminders a month gets, which are acknowledged and which may still be sent are decided
in Python now (``models.rules.reminders``); the SQL that used to decide them is kept here as the
oracle. On generated reps, goal rows and reminders, the store writes (and claims) exactly what
the old statements did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.derived import acknowledge_reminders
from models.job_queries import SqlJobTransaction
from models.rules.deadlines import REMINDER_TYPES, reminder_due_dates
from tests.profiles import scaled

db_settings = settings(max_examples=scaled(100), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
MONTHS = [(2026, 10), (2026, 11)]
months = st.sampled_from(MONTHS)
reminder = st.tuples(months, st.sampled_from(REMINDER_TYPES), st.booleans(), st.booleans(), st.booleans())
reps = st.lists(st.fixed_dictionaries({
    "active": st.booleans(),
    # goal rows: (year, month) → goal set (a goal_set_at) or a default row nobody set
    "goals": st.dictionaries(months, st.booleans(), max_size=2),
    # reminders: (period, type, acknowledged, sent, cancelled)
    "reminders": st.lists(reminder, max_size=5, unique_by=lambda r: (r[0], r[1])),
}), max_size=5)

OLD_ACKNOWLEDGE = """
    UPDATE goal_deadline_reminders d SET acknowledged = true, acknowledged_at = :now
    FROM rep_monthly_goals g
    WHERE d.acknowledged = false AND g.sales_rep_id = d.sales_rep_id
      AND g.goal_year = d.target_year AND g.goal_month = d.target_month AND g.goal_set_at IS NOT NULL
"""
OLD_CREATE = """
    INSERT INTO goal_deadline_reminders (sales_rep_id, reminder_type, target_month, target_year, deadline,
                                         due_date, acknowledged, acknowledged_at)
    SELECT r.id, v.kind, :month, :year, :deadline, v.due, g.goal_set_at IS NOT NULL,
           CASE WHEN g.goal_set_at IS NOT NULL THEN CAST(:now AS timestamptz) END
    FROM sales_reps r
    CROSS JOIN unnest(CAST(:kinds AS text[]), CAST(:dues AS date[])) AS v(kind, due)
    LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
    WHERE r.is_active
    ON CONFLICT ON CONSTRAINT uq_reminders_rep_type_period DO NOTHING
"""
OLD_CLAIM = """
    SELECT d.id FROM goal_deadline_reminders d
    WHERE d.id = :id AND NOT d.sent AND d.cancelled_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM rep_monthly_goals g
                      WHERE g.sales_rep_id = d.sales_rep_id AND g.goal_year = d.target_year
                        AND g.goal_month = d.target_month AND g.goal_set_at IS NOT NULL)
    FOR UPDATE OF d SKIP LOCKED
"""
OLD_GOAL_SET = """
    SELECT d.id, g.goal_set_at IS NOT NULL AS goal_set FROM goal_deadline_reminders d
    LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = d.sales_rep_id AND g.goal_year = d.target_year
         AND g.goal_month = d.target_month
"""


def _seed(connection: Connection, roster: list[dict[str, Any]]) -> None:
    for number, rep in enumerate(roster):
        rep_id = connection.execute(text(
            "INSERT INTO sales_reps (name, email, is_active) VALUES ('R', :email, :active) RETURNING id"),
            {"email": f"r{number}@example.com", "active": rep["active"]}).scalar_one()
        for (year, month), is_set in rep["goals"].items():
            connection.execute(text(
                "INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline, signup_goal, "
                "goal_set_at) VALUES (:rep, :year, :month, make_timestamptz(:year, :month, 7, 0, 0, 0, 'UTC'), 10, "
                ":set_at)"),
                {"rep": rep_id, "year": year, "month": month,
                 "set_at": datetime(year, month, 2, tzinfo=UTC) if is_set else None})
        for (year, month), kind, acknowledged, sent, cancelled in rep["reminders"]:
            connection.execute(text(
                "INSERT INTO goal_deadline_reminders (sales_rep_id, reminder_type, target_month, target_year, "
                "deadline, due_date, acknowledged, acknowledged_at, sent, cancelled_at) "
                "VALUES (:rep, :kind, :month, :year, make_timestamptz(:year, :month, 7, 0, 0, 0, 'UTC'), "
                "make_date(:year, :month, 3), :ack, :ack_at, :sent, :cancelled_at)"),
                {"rep": rep_id, "kind": kind, "year": year, "month": month, "ack": acknowledged,
                 "ack_at": NOW - timedelta(days=1) if acknowledged else None, "sent": sent,
                 "cancelled_at": NOW - timedelta(hours=1) if cancelled else None})


def _reminders(connection: Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(text("""
        SELECT r.email, d.reminder_type, d.target_year, d.target_month, d.deadline, d.due_date, d.acknowledged,
               d.acknowledged_at, d.sent, d.cancelled_at
        FROM goal_deadline_reminders d JOIN sales_reps r ON r.id = d.sales_rep_id ORDER BY 1, 2, 3, 4"""))]


def _outcome(connection: Connection, roster: list[dict[str, Any]],
             step: Callable[[], object]) -> tuple[object, list[tuple[Any, ...]]]:
    savepoint = connection.begin_nested()
    try:
        _seed(connection, roster)
        return step(), _reminders(connection)
    finally:
        savepoint.rollback()


@db_settings
@given(roster=reps)
def test_acknowledgements_equal_the_old_sql(db_connection: Connection, roster: list[dict[str, Any]]) -> None:
    old = _outcome(db_connection, roster,
                   lambda: db_connection.execute(text(OLD_ACKNOWLEDGE), {"now": NOW}).rowcount)
    new = _outcome(db_connection, roster, lambda: acknowledge_reminders(db_connection, NOW))
    assert old == new


@db_settings
@given(roster=reps, period=months, deadline_day=st.integers(min_value=1, max_value=27),
       checked=st.none() | st.dates(min_value=date(2026, 9, 28), max_value=date(2026, 12, 3)))
def test_a_months_reminders_equal_the_old_sql(db_connection: Connection, roster: list[dict[str, Any]],
                                              period: tuple[int, int], deadline_day: int,
                                              checked: date | None) -> None:
    """The old statement created every row open and the check that followed cancelled those of a set
    goal already due; the new one creates those cancelled."""
    year, month = period
    due_dates = reminder_due_dates(year, month, deadline_day)
    deadline = datetime(year, month, deadline_day, tzinfo=UTC) + timedelta(days=1)
    kinds = list(due_dates)

    def old_steps() -> int:
        added = db_connection.execute(text(OLD_CREATE + " RETURNING id, acknowledged, due_date"), {
            "year": year, "month": month, "deadline": deadline, "kinds": kinds, "now": NOW,
            "dues": [due_dates[k] for k in kinds]}).all()
        settled = [row.id for row in added if checked is not None and row.acknowledged and row.due_date <= checked]
        db_connection.execute(text("UPDATE goal_deadline_reminders SET cancelled_at = :now WHERE id = ANY(:ids)"),
                              {"now": NOW, "ids": settled})
        return len(added)

    old = _outcome(db_connection, roster, old_steps)
    new = _outcome(db_connection, roster, lambda: SqlJobTransaction(db_connection).create_reminders(
        year=year, month=month, deadline=deadline, due_dates=due_dates, now=NOW, checked_through=checked).added)
    assert old == new


@db_settings
@given(roster=reps)
def test_claims_and_goal_set_equal_the_old_sql(db_connection: Connection, roster: list[dict[str, Any]]) -> None:
    savepoint = db_connection.begin_nested()
    try:
        _seed(db_connection, roster)
        tx = SqlJobTransaction(db_connection)
        old_set = {row.id: row.goal_set for row in db_connection.execute(text(OLD_GOAL_SET))}
        ids = sorted(old_set)
        old = [db_connection.execute(text(OLD_CLAIM), {"id": i}).first() is not None for i in ids]
        new = [tx.claim_reminder(i) for i in ids]
        assert new == old
        open_set = {r.id: r.goal_set for r in tx.open_reminders(due_by=date(2027, 1, 1))}
        assert open_set == {i: old_set[i] for i in open_set}
    finally:
        savepoint.rollback()
