"""The month plan (Python) and the design document's trigger (SQL) agree on generated edits.

Each example stores a goal row at one moment (or none), then has a cycle store a sheet row at
another (``upsert_months``: the plan applied as it is). What the trigger then derives —
progress percents, completion, "lowered after the deadline", ``set_by_deadline`` — must equal
the pure rules on the stored values, the lock must have kept what it refused, and the bonus
tier the plan gave a new row must be the one ``refresh_bonus_tiers`` (stored rows) would write.
The streak shown on the Summary (``models.rules.achievements.summary_streak`` on the months the
standings read returns) must equal that rule on every stored month, and the SQL that decided
it before (kept here as the oracle).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.derived import refresh_bonus_tiers
from models.readings import standings
from models.rules.achievements import MonthState, summary_streak
from models.rules.changes import MonthRules
from models.rules.deadlines import goal_deadline
from models.rules.periods import shift_month
from models.rules.progress import is_complete, progress_percent
from models.settings import BonusSettings
from models.upserts import month_frame, upsert_months
from tests.profiles import scaled

UTC_ZONE = ZoneInfo("UTC")
DEADLINE = goal_deadline(2026, 11, 6, UTC_ZONE)
db_settings = settings(max_examples=scaled(120), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

goals = st.one_of(st.none(), st.integers(min_value=0, max_value=40))
money = st.one_of(st.none(), st.integers(min_value=0, max_value=400_000).map(lambda c: Decimal(c) / 100))
tiers = st.one_of(st.none(), st.integers(min_value=0, max_value=6))
signups = st.one_of(st.none(), st.integers(min_value=0, max_value=400).map(lambda t: Decimal(t) / 10))
moments = st.sampled_from([DEADLINE - timedelta(days=3), DEADLINE, DEADLINE + timedelta(seconds=1),
                           DEADLINE + timedelta(days=10)])
stored_rows = st.one_of(st.none(), st.fixed_dictionaries({
    "signup_goal": goals, "revenue_goal": money, "bonus_tier_goal": tiers, "signups": signups,
    "set": st.booleans(), "at": moments,
}))
edits = st.fixed_dictionaries({"signup_goal": goals, "revenue_goal": money, "bonus_tier_goal": tiers,
                               "signups": signups, "revenue": money})


def _set_now(connection: Connection, now: datetime) -> None:
    connection.execute(text("SELECT set_config('goals.now', :now, true)"), {"now": now.isoformat()})


def _monthly_frame(edit: dict[str, object]) -> pd.DataFrame:
    goals_tab = pd.DataFrame({
        "email": ["ann@example.com"], "year": pd.array([2026], dtype="Int64"),
        "month": pd.array([11], dtype="Int64"), "signup_goal": pd.array([edit["signup_goal"]], dtype="Int64"),
        "revenue_goal": pd.array([edit["revenue_goal"]], dtype="Float64"),
        "bonus_tier_goal": pd.array([edit["bonus_tier_goal"]], dtype="Int64"), "row": [2]})
    actuals_tab = pd.DataFrame({
        "email": ["ann@example.com"], "year": pd.array([2026], dtype="Int64"),
        "month": pd.array([11], dtype="Int64"), "signups": pd.array([edit["signups"]], dtype="Float64"),
        "revenue": pd.array([edit["revenue"]], dtype="Float64"), "row": [2]})
    return month_frame(goals_tab, actuals_tab)


@db_settings
@given(stored=stored_rows, edit=edits, now=moments, lock=st.booleans(),
       basis=st.sampled_from(["signups", "percent"]))
def test_the_trigger_agrees_with_the_rules_on_what_the_plan_stored(
        db_connection: Connection, stored: dict | None, edit: dict, now: datetime, lock: bool, basis: str) -> None:
    savepoint = db_connection.begin_nested()
    try:
        rep = db_connection.execute(text(
            "INSERT INTO sales_reps (name, email) VALUES ('Ann', 'ann@example.com') RETURNING id")).scalar_one()
        user = db_connection.execute(text(
            "INSERT INTO users (email, name, role) VALUES ('sync@example.com', 'Sync', 'system') RETURNING id"
        )).scalar_one()
        if stored is not None:
            _set_now(db_connection, stored["at"])
            db_connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, revenue_goal,
                    bonus_tier_goal, signups_actual, deadline, goal_set_at)
                VALUES (:rep, 2026, 11, :sg, :rg, :tg, :signups, :deadline, :set_at)
            """), {"rep": rep, "sg": stored["signup_goal"], "rg": stored["revenue_goal"],
                   "tg": stored["bonus_tier_goal"], "signups": stored["signups"] or 0, "deadline": DEADLINE,
                   "set_at": stored["at"] if stored["set"] else None})
        _set_now(db_connection, now)
        bonus = BonusSettings(basis=basis)  # type: ignore[arg-type]
        rules = MonthRules(deadline_day=6, tz=UTC_ZONE, lock_after_deadline=lock, bonus=bonus)
        _, locked = upsert_months(db_connection, _monthly_frame(edit), now=now, rules=rules, system_user=user)
        row = db_connection.execute(text("SELECT * FROM rep_monthly_goals WHERE sales_rep_id = :rep"),
                                    {"rep": rep}).mappings().one()
        bonus_rewritten = refresh_bonus_tiers(db_connection, bonus)
    finally:
        savepoint.rollback()

    # Blank keeps; the lock keeps what it refused; otherwise the typed value wins.
    for field in ("signup_goal", "revenue_goal", "bonus_tier_goal"):
        before = stored[field] if stored else None
        refused = any(e.field == field for e in locked)
        assert refused == (lock and now > DEADLINE and before is not None and edit[field] is not None
                           and edit[field] != before)
        expected = before if refused or edit[field] is None else edit[field]
        assert row[field] == expected
    # The trigger's percents and completion are the pure rules on the stored values.
    assert row["signup_progress_percent"] == progress_percent(row["signups_actual"], row["signup_goal"])
    assert row["revenue_progress_percent"] == progress_percent(row["revenue_actual"], row["revenue_goal"])
    complete = is_complete(row["signups_actual"], row["signup_goal"], row["revenue_actual"], row["revenue_goal"])
    assert (row["status"] == "completed") == complete
    # Lowered below the goals in force at the deadline (the row as it stood then, if it existed).
    at_deadline = stored if stored is not None and stored["at"] <= DEADLINE and now > DEADLINE else None
    lowered = at_deadline is not None and any(
        at_deadline[f] is not None and row[f] is not None and row[f] < at_deadline[f]
        for f in ("signup_goal", "revenue_goal", "bonus_tier_goal"))
    assert row["lowered_after_deadline"] == lowered
    first_set = row["goal_set_at"]
    assert row["set_by_deadline"] == (first_set is not None and first_set <= DEADLINE and not lowered)
    # A new row's bonus tier came with the plan: the SQL tier rule finds nothing to rewrite.
    if stored is None:
        assert bonus_rewritten == 0


@db_settings
@given(months=st.lists(st.sampled_from(["met", "missed", "lowered", "absent"]), min_size=1, max_size=15),
       current=st.sampled_from([(2026, 11), (2027, 1)]))
def test_the_summary_streak_equals_the_milestone_rule(db_connection: Connection, months: list[str],
                                                      current: tuple[int, int]) -> None:
    """``months`` runs back from the current month (first item = the current month)."""
    savepoint = db_connection.begin_nested()
    try:
        _set_now(db_connection, datetime(current[0], current[1], 20, tzinfo=UTC))
        rep = db_connection.execute(text(
            "INSERT INTO sales_reps (name, email) VALUES ('Bo', 'bo@example.com') RETURNING id")).scalar_one()
        states = []
        for back, kind in enumerate(months):
            if kind == "absent":
                continue
            year, month = shift_month(*current, -back)
            # A goal of 12 in force at the deadline, lowered to 10 later: no streak credit.
            db_connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, signups_actual,
                    deadline, signup_goal_at_deadline)
                VALUES (:rep, :y, :m, 10, :signups, make_timestamptz(:y, :m, 7, 0, 0, 0, 'UTC'), :at_deadline)
            """), {"rep": rep, "y": year, "m": month, "signups": 4 if kind == "missed" else 10,
                   "at_deadline": 12 if kind == "lowered" else None})
            flags = db_connection.execute(text("""
                SELECT signups_actual, lowered_after_deadline FROM rep_monthly_goals
                WHERE sales_rep_id = :rep AND goal_year = :y AND goal_month = :m
            """), {"rep": rep, "y": year, "m": month}).one()
            states.append(MonthState(year, month, signup_goal=10, signups_actual=flags.signups_actual,
                                     lowered_after_deadline=flags.lowered_after_deadline))
        shown = {s.rep_id: s.streak for s in standings(db_connection, year=current[0], month=current[1],
                                                         deadline_day=6, timezone="UTC")}
        decided_in_sql = db_connection.execute(OLD_STREAK, {"year": current[0], "month": current[1],
                                                            "rep": rep}).scalar_one()
    finally:
        savepoint.rollback()
    assert shown[rep] == summary_streak(states, *current) == decided_in_sql


OLD_STREAK = text("""
    WITH cur AS (
        SELECT CAST(:year AS int) * 12 + CAST(:month AS int) - 1 AS idx
    ),
    met AS (
        SELECT g.sales_rep_id, g.goal_year * 12 + g.goal_month - 1 AS idx
        FROM rep_monthly_goals g
        WHERE g.status = 'completed' AND NOT g.lowered_after_deadline
    ),
    start AS (
        SELECT r.id AS sales_rep_id,
               CASE WHEN EXISTS (SELECT 1 FROM met WHERE met.sales_rep_id = r.id AND met.idx = cur.idx)
                    THEN cur.idx ELSE cur.idx - 1 END AS idx
        FROM sales_reps r CROSS JOIN cur WHERE r.is_active
    )
    SELECT coalesce((
        SELECT count(*) FROM (
            SELECT met.idx, start.idx AS start_idx,
                   row_number() OVER (ORDER BY met.idx DESC) AS rn
            FROM met JOIN start ON start.sales_rep_id = met.sales_rep_id AND met.idx <= start.idx
            WHERE met.sales_rep_id = :rep
        ) runs WHERE idx = start_idx - rn + 1), 0)
""")
"""The standings read's streak as it was decided in SQL before issue 13 moved it to Python."""
