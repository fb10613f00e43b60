"""Which achievements still wait to be announced, and what reinstating one writes, are decided in
Python now (``models.rules.announcements``); the SQL that used to decide them is kept here as
the oracle. On generated achievements (live, revoked, announced on some channels, old and
recent, of active and inactive reps) the store reads, claims and writes what the old
statements did; so the read's narrowing (``job_queries._candidates``) never decides either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.job_queries import Announcement, SqlJobTransaction, announcement_columns
from tests.profiles import scaled

db_settings = settings(max_examples=scaled(100), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

TODAY = date(2026, 11, 20)
TYPES = ["monthly_signup_goal", "monthly_revenue_goal", "perfect_month", "bonus_tier_unlocked"]
CHANNELS = st.sampled_from([None, "", "email", "team", "email+team"])
achievement = st.fixed_dictionaries({
    "type": st.sampled_from(TYPES), "month": st.integers(min_value=9, max_value=11),
    "age": st.integers(min_value=0, max_value=14),  # days before TODAY it was earned
    # revoked: None, or days before TODAY and a time of day (so a revocation near midnight is met)
    "revoked": st.one_of(st.none(), st.tuples(st.integers(min_value=0, max_value=14),
                                              st.sampled_from([time(0, 0), time(0, 30), time(12), time(23, 59)]))),
    "recognized": st.booleans(), "recognition_type": CHANNELS, "correction": CHANNELS,
})
reps = st.lists(st.tuples(st.booleans(), st.lists(achievement, max_size=4,
                                                  unique_by=lambda a: (a["type"], a["month"]))), max_size=4)
since_days = st.integers(min_value=0, max_value=10)


def _old_pending(correction: bool) -> str:
    if correction:
        return ("a.revoked_at IS NOT NULL AND coalesce(a.recognition_type, '') <> '' "
                "AND coalesce(a.correction_recognition_type, '') IS DISTINCT FROM a.recognition_type")
    return "a.revoked_at IS NULL AND NOT a.recognized"


def OLD_PENDING(correction: bool) -> str:  # noqa: N802 - the oracle statements are named in capitals
    since = "CAST(a.revoked_at AS date)" if correction else "a.achievement_date"
    return f"""
        SELECT {announcement_columns(correction)}
        FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
        WHERE {_old_pending(correction)} AND r.is_active AND {since} >= :since
        ORDER BY a.sales_rep_id, a.id
    """


def OLD_CLAIM(correction: bool) -> str:  # noqa: N802
    return f"""
        SELECT {announcement_columns(correction)}
        FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
        WHERE a.id = ANY(:ids) AND {_old_pending(correction)}
        ORDER BY a.id
        FOR UPDATE OF a SKIP LOCKED
    """


OLD_ANY_PENDING = f"""
    SELECT EXISTS (SELECT 1 FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
                   WHERE r.is_active AND ((({_old_pending(False)}) AND a.achievement_date >= CAST(:since AS date))
                                          OR (({_old_pending(True)}) AND a.revoked_at >= CAST(:since AS date))))
"""
OLD_REINSTATE = """
    UPDATE goal_achievements a SET revoked_at = NULL, revoked_reason = NULL,
        recognized = CASE WHEN announced THEN false ELSE a.recognized END,
        recognition_type = CASE WHEN announced THEN NULL ELSE a.recognition_type END,
        correction_recognition_type = NULL,
        achievement_date = CASE WHEN announced THEN CAST(:today AS date) ELSE a.achievement_date END
    FROM (SELECT id, coalesce(correction_recognition_type, '') <> '' AS announced
          FROM goal_achievements WHERE id = ANY(:ids)) v
    WHERE a.id = v.id AND a.revoked_at IS NOT NULL
"""


def _seed(connection: Connection, roster: list[tuple[bool, list[dict[str, Any]]]]) -> list[int]:
    ids = []
    for number, (active, achievements) in enumerate(roster):
        rep_id = connection.execute(text(
            "INSERT INTO sales_reps (name, email, is_active) VALUES ('R', :email, :active) RETURNING id"),
            {"email": f"r{number}@example.com", "active": active}).scalar_one()
        connection.execute(text(
            "INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline, bonus_tier_goal) "
            "VALUES (:rep, 2026, 11, make_timestamptz(2026, 11, 7, 0, 0, 0, 'UTC'), 2)"), {"rep": rep_id})
        for a in achievements:
            revoked = None
            if a["revoked"] is not None:
                days, at = a["revoked"]
                revoked = datetime.combine(TODAY - timedelta(days=days), at, tzinfo=UTC)
            ids.append(connection.execute(text("""
                INSERT INTO goal_achievements (sales_rep_id, achievement_type, achievement_date, achievement_year,
                    achievement_month, goal_value, actual_value, recognized, recognition_type, revoked_at,
                    revoked_reason, correction_recognition_type)
                VALUES (:rep, :type, :day, 2026, :month, 10, 12, :recognized, :recognition_type, :revoked_at,
                        :reason, :correction) RETURNING id"""),
                {"rep": rep_id, "type": a["type"], "day": TODAY - timedelta(days=a["age"]), "month": a["month"],
                 "recognized": a["recognized"], "recognition_type": a["recognition_type"], "revoked_at": revoked,
                 "reason": "signups are now 1 of 10" if revoked else None, "correction": a["correction"]}
            ).scalar_one())
    return ids


def _in_savepoint(connection: Connection, roster: list[tuple[bool, list[dict[str, Any]]]],
                  check: Any) -> None:
    savepoint = connection.begin_nested()
    try:
        # The session's time zone decides a revocation's date, for the old statements and the new alike.
        connection.execute(text("SET LOCAL TimeZone = 'America/New_York'"))
        check(_seed(connection, roster))
    finally:
        savepoint.rollback()


@db_settings
@given(roster=reps, days=since_days)
def test_pending_announcements_equal_the_old_sql(db_connection: Connection,
                                                 roster: list[tuple[bool, list[dict[str, Any]]]], days: int) -> None:
    since = TODAY - timedelta(days=days)

    def check(ids: list[int]) -> None:
        tx = SqlJobTransaction(db_connection)
        for correction in (False, True):
            old = [Announcement(*row) for row in db_connection.execute(text(OLD_PENDING(correction)),
                                                                        {"since": since})]
            assert tx.pending_announcements(earned_since=since, correction=correction) == old
        expected = bool(db_connection.execute(text(OLD_ANY_PENDING), {"since": since}).scalar_one())
        assert tx.due_state([], every_turn=True, earned_since=since).pending_announcements is expected
        assert tx.due_state([], every_turn=False, earned_since=since).pending_announcements is False

    _in_savepoint(db_connection, roster, check)


@db_settings
@given(roster=reps, picks=st.lists(st.integers(min_value=0, max_value=15), max_size=8))
def test_claims_equal_the_old_sql(db_connection: Connection, roster: list[tuple[bool, list[dict[str, Any]]]],
                                  picks: list[int]) -> None:
    def check(ids: list[int]) -> None:
        chosen = [ids[i % len(ids)] for i in picks] if ids else []
        tx = SqlJobTransaction(db_connection)
        for correction in (False, True):
            old = [Announcement(*row) for row in db_connection.execute(text(OLD_CLAIM(correction)), {"ids": chosen})]
            assert tx.claim_announcements(chosen, correction=correction) == old

    _in_savepoint(db_connection, roster, check)


@db_settings
@given(roster=reps, picks=st.lists(st.integers(min_value=0, max_value=15), max_size=8))
def test_reinstatements_equal_the_old_sql(db_connection: Connection,
                                          roster: list[tuple[bool, list[dict[str, Any]]]], picks: list[int]) -> None:
    def outcome(reinstate: Any) -> tuple[Any, ...]:
        result: list[Any] = []

        def check(ids: list[int]) -> None:
            chosen = [ids[i % len(ids)] for i in picks] if ids else []
            result.append(reinstate(chosen))
            result.append([tuple(row) for row in db_connection.execute(text("""
                SELECT r.email, a.achievement_type, a.achievement_month, a.achievement_date, a.recognized,
                       a.recognition_type, a.revoked_at, a.revoked_reason, a.correction_recognition_type
                FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id ORDER BY a.id"""))])

        _in_savepoint(db_connection, roster, check)
        return tuple(result)

    old = outcome(lambda ids: db_connection.execute(text(OLD_REINSTATE), {"ids": ids, "today": TODAY}).rowcount
                  if ids else 0)
    new = outcome(lambda ids: SqlJobTransaction(db_connection).reinstate_achievements(ids, TODAY))
    assert old == new
