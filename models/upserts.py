"""Set-based upserts of the input tabs: a fixed number of statements whatever the row count.

Blank cells arrive as NULL and mean "keep the stored value" (``coalesce``); a
row is only written when a value really changes (``IS DISTINCT FROM``), so an
unchanged sheet touches no row and ``updated_at`` stays put.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, text

from models.derived import bonus_params, bonus_sql
from models.settings import BonusSettings
from models.staging import stage_frame

REPS_STAGE = {
    "email": "text", "name": "text", "team": "text", "title": "text", "is_active": "boolean",
    "monthly_signup_goal": "integer", "yearly_signup_goal": "integer", "manager_email": "text",
    "row": "integer",
}
MONTH_STAGE = {
    "email": "text", "year": "smallint", "month": "smallint", "signup_goal": "integer",
    "revenue_goal": "numeric(14,2)", "bonus_tier_goal": "smallint", "signups": "numeric(8,1)",
    "revenue": "numeric(14,2)", "goal_row": "integer",
}
YEAR_STAGE = {
    "email": "text", "year": "smallint", "signup_goal": "integer", "revenue_goal": "numeric(14,2)",
    "row": "integer",
}


@dataclass(frozen=True)
class LockedEdit:
    """One goal cell refused because the month's deadline has passed (lock_after_deadline):
    the value typed and the value that stays stored."""

    email: str
    year: int
    month: int
    goal_row: int
    field: str
    value: str
    stored: str


@dataclass
class UpsertCounts:
    """Rows staged and rows actually inserted or changed."""

    staged: int = 0
    written: int = 0


def upsert_reps(connection: Connection, frame: pd.DataFrame) -> UpsertCounts:
    """Update changed reps and insert new ones from the Reps tab."""
    staged = stage_frame(connection, "stage_reps", REPS_STAGE, frame)
    changed = connection.execute(text("""
        UPDATE sales_reps r SET
            name = coalesce(s.name, r.name), team = coalesce(s.team, r.team),
            title = coalesce(s.title, r.title), is_active = coalesce(s.is_active, r.is_active),
            monthly_signup_goal = coalesce(s.monthly_signup_goal, r.monthly_signup_goal),
            yearly_signup_goal = coalesce(s.yearly_signup_goal, r.yearly_signup_goal),
            manager_email = coalesce(s.manager_email, r.manager_email)
        FROM stage_reps s
        WHERE r.email = s.email
          AND (coalesce(s.name, r.name), coalesce(s.team, r.team), coalesce(s.title, r.title),
               coalesce(s.is_active, r.is_active),
               coalesce(s.monthly_signup_goal, r.monthly_signup_goal),
               coalesce(s.yearly_signup_goal, r.yearly_signup_goal),
               coalesce(s.manager_email, r.manager_email))
              IS DISTINCT FROM
              (r.name, r.team, r.title, r.is_active, r.monthly_signup_goal, r.yearly_signup_goal,
               r.manager_email)
    """)).rowcount
    added = connection.execute(text("""
        INSERT INTO sales_reps (email, name, team, title, is_active, monthly_signup_goal, yearly_signup_goal,
                                manager_email)
        SELECT s.email, s.name, s.team, s.title, coalesce(s.is_active, true),
               s.monthly_signup_goal, s.yearly_signup_goal, s.manager_email
        FROM stage_reps s
        WHERE s.name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sales_reps r WHERE r.email = s.email)
    """)).rowcount
    return UpsertCounts(staged, changed + added)


def month_frame(monthly: pd.DataFrame | None, actuals: pd.DataFrame | None) -> pd.DataFrame:
    """Monthly Goals and Actuals joined on (email, year, month): one staged row per goal row."""
    keys = ["email", "year", "month"]
    goals = (monthly if monthly is not None else pd.DataFrame(columns=[*keys, "row"])).rename(
        columns={"row": "goal_row"}
    )
    done = (actuals if actuals is not None else pd.DataFrame(columns=keys)).drop(
        columns=["row"], errors="ignore"
    )
    merged = goals.merge(done, on=keys, how="outer")
    for column in MONTH_STAGE:
        if column not in merged:
            merged[column] = pd.NA
    # An outer join turns integer columns with gaps into floats; COPY wants "8", not "8.0".
    whole = [c for c, sql_type in MONTH_STAGE.items() if sql_type in {"integer", "smallint"}]
    merged[whole] = merged[whole].astype("Int64")
    return merged


def _set_now(goal_columns: str) -> str:
    """SQL that is true when the staged row sets a goal for the first time."""
    return f"(g.goal_set_at IS NULL AND ({goal_columns}))"


def upsert_months(
    connection: Connection,
    frame: pd.DataFrame,
    *,
    now: datetime,
    deadline_day: int,
    timezone: str,
    system_user: uuid.UUID,
    lock_after_deadline: bool,
    bonus: BonusSettings | None = None,
) -> tuple[UpsertCounts, list[LockedEdit]]:
    """Insert and update rep_monthly_goals from staged goals and actuals.

    The first time a Signup or Revenue Goal is seen records ``goal_set_at`` (this
    cycle's time) and ``goal_set_by``; the trigger derives ``set_by_deadline`` (set by the
    deadline and not lowered since). With ``lock_after_deadline`` see ``refuse_locked_goals``.
    With ``bonus``, new rows get their bonus tier at once (``derived.refresh_bonus_tiers`` would
    otherwise rewrite each of them).
    """
    staged = stage_frame(connection, "stage_month", MONTH_STAGE, frame)
    params: dict[str, object] = {"now": now, "deadline_day": deadline_day, "tz": timezone, "user": system_user}
    locked = refuse_locked_goals(connection, now) if lock_after_deadline else []

    first_set = _set_now("s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL")
    # One join of the staged rows with their goal rows; SET and WHERE both see the old values.
    changed = connection.execute(text(f"""
        UPDATE rep_monthly_goals g SET
            signup_goal = coalesce(s.signup_goal, g.signup_goal),
            revenue_goal = coalesce(s.revenue_goal, g.revenue_goal),
            bonus_tier_goal = coalesce(s.bonus_tier_goal, g.bonus_tier_goal),
            signups_actual = coalesce(s.signups, g.signups_actual),
            revenue_actual = coalesce(s.revenue, g.revenue_actual),
            goal_set_at = CASE WHEN {first_set} THEN CAST(:now AS timestamptz) ELSE g.goal_set_at END,
            goal_set_by = CASE WHEN {first_set} THEN CAST(:user AS uuid) ELSE g.goal_set_by END
        FROM stage_month s
        JOIN sales_reps r ON r.email = s.email
        WHERE g.sales_rep_id = r.id AND g.goal_year = s.year AND g.goal_month = s.month
          AND (coalesce(s.signup_goal, g.signup_goal), coalesce(s.revenue_goal, g.revenue_goal),
               coalesce(s.bonus_tier_goal, g.bonus_tier_goal), coalesce(s.signups, g.signups_actual),
               coalesce(s.revenue, g.revenue_actual),
               CASE WHEN {first_set} THEN CAST(:now AS timestamptz) ELSE g.goal_set_at END)
              IS DISTINCT FROM
              (g.signup_goal, g.revenue_goal, g.bonus_tier_goal, g.signups_actual, g.revenue_actual,
               g.goal_set_at)
    """), params).rowcount
    # New rows are written once with their final values: a month already over starts as
    # ``missed`` (the progress trigger still makes it ``completed`` when its goals are met),
    # and with ``bonus`` given the tier is computed here rather than by a second pass.
    tier_columns = tier_values = ""
    if bonus is not None:
        tier, amount, triggered = bonus_sql(
            bonus, signups="coalesce(s.signups, 0)", tier_goal="s.bonus_tier_goal",
            progress="goals_progress_percent(CAST(coalesce(s.signups, 0) AS numeric(8,1)), s.signup_goal)")
        tier_columns = ", bonus_tier_actual, bonus_amount, bonus_triggered"
        tier_values = f", {tier}, {amount}, {triggered}"
        params.update(bonus_params(bonus))
    added = connection.execute(text(f"""
        INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, revenue_goal,
            bonus_tier_goal, signups_actual, revenue_actual, deadline, goal_set_at, goal_set_by,
            status{tier_columns})
        SELECT r.id, s.year, s.month, s.signup_goal, s.revenue_goal, s.bonus_tier_goal,
               coalesce(s.signups, 0), coalesce(s.revenue, 0), d.deadline,
               CASE WHEN d.goal_set THEN CAST(:now AS timestamptz) END,
               CASE WHEN d.goal_set THEN CAST(:user AS uuid) END,
               CASE WHEN s.year * 12 + s.month < c.month_index THEN 'missed' ELSE 'active' END{tier_values}
        FROM stage_month s
        JOIN sales_reps r ON r.email = s.email
        CROSS JOIN (
            SELECT CAST(extract(year FROM local_now) * 12 + extract(month FROM local_now) AS int) AS month_index
            FROM (SELECT CAST(:now AS timestamptz) AT TIME ZONE CAST(:tz AS text) AS local_now) AS n
        ) c
        CROSS JOIN LATERAL (
            SELECT make_timestamptz(s.year, s.month, CAST(:deadline_day AS int) + 1, 0, 0, 0,
                                    CAST(:tz AS text)) AS deadline,
                   (s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL) AS goal_set
        ) d
        WHERE NOT EXISTS (
            SELECT 1 FROM rep_monthly_goals g
            WHERE g.sales_rep_id = r.id AND g.goal_year = s.year AND g.goal_month = s.month
        )
    """), params).rowcount
    if added * 2 > staged:
        # A bulk load (the first cycle, a new sheet): without fresh statistics the planner takes
        # the new rows for a handful and later statements pick nested loops over them.
        connection.execute(text("ANALYZE sales_reps, rep_monthly_goals, rep_yearly_goals"))
    return UpsertCounts(staged, changed + added), locked


def refuse_locked_goals(connection: Connection, now: datetime) -> list[LockedEdit]:
    """``goals.lock_after_deadline``: after a month's deadline every goal value it holds is frozen.

    A staged goal cell that differs from the stored value (a roster default included, so a
    first explicit set that differs from it too) is refused: its staged value is cleared, so
    the stored value stays, and it is returned to be reported. A goal that had no value at all
    may still be set late (it then counts as set late). One ``LockedEdit`` per refused cell.
    """
    refused = connection.execute(text("""
        WITH cells AS (
            SELECT s.ctid AS stage_row, s.email, s.year, s.month, s.goal_row, f.field,
                   f.staged::text AS staged, f.stored::text AS stored
            FROM stage_month s
            JOIN sales_reps r ON r.email = s.email
            JOIN rep_monthly_goals g ON g.sales_rep_id = r.id AND g.goal_year = s.year AND g.goal_month = s.month
            CROSS JOIN LATERAL (VALUES
                ('signup_goal', CAST(s.signup_goal AS numeric), CAST(g.signup_goal AS numeric)),
                ('revenue_goal', s.revenue_goal, g.revenue_goal),
                ('bonus_tier_goal', CAST(s.bonus_tier_goal AS numeric), CAST(g.bonus_tier_goal AS numeric))
            ) AS f(field, staged, stored)
            WHERE CAST(:now AS timestamptz) > g.deadline AND f.staged <> f.stored
        ), cleared AS (
            UPDATE stage_month s SET
                signup_goal = CASE WHEN 'signup_goal' = ANY(c.fields) THEN NULL ELSE s.signup_goal END,
                revenue_goal = CASE WHEN 'revenue_goal' = ANY(c.fields) THEN NULL ELSE s.revenue_goal END,
                bonus_tier_goal = CASE WHEN 'bonus_tier_goal' = ANY(c.fields) THEN NULL ELSE s.bonus_tier_goal END
            FROM (SELECT stage_row, array_agg(field) AS fields FROM cells GROUP BY stage_row) c
            WHERE s.ctid = c.stage_row
        )
        SELECT email, year, month, goal_row, field, staged, stored FROM cells
        ORDER BY goal_row, field
    """), {"now": now}).all()
    return [LockedEdit(r.email, r.year, r.month, r.goal_row or 0, r.field, r.staged, r.stored) for r in refused]


def upsert_years(connection: Connection, frame: pd.DataFrame, *, now: datetime,
                 system_user: uuid.UUID) -> UpsertCounts:
    """Insert and update rep_yearly_goals from the Yearly Goals tab."""
    staged = stage_frame(connection, "stage_year", YEAR_STAGE, frame)
    params = {"now": now, "user": system_user}
    first_set = _set_now("s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL")
    changed = connection.execute(text(f"""
        UPDATE rep_yearly_goals g SET
            yearly_signup_goal = coalesce(s.signup_goal, g.yearly_signup_goal),
            yearly_revenue_goal = coalesce(s.revenue_goal, g.yearly_revenue_goal),
            goal_set_at = CASE WHEN {first_set} THEN CAST(:now AS timestamptz) ELSE g.goal_set_at END,
            goal_set_by = CASE WHEN {first_set} THEN CAST(:user AS uuid) ELSE g.goal_set_by END
        FROM stage_year s JOIN sales_reps r ON r.email = s.email
        WHERE g.sales_rep_id = r.id AND g.goal_year = s.year
          AND (coalesce(s.signup_goal, g.yearly_signup_goal), coalesce(s.revenue_goal, g.yearly_revenue_goal),
               {first_set})
              IS DISTINCT FROM (g.yearly_signup_goal, g.yearly_revenue_goal, false)
    """), params).rowcount
    # A new year row starts with its months' sums, and as ``missed`` when the year is over
    # (goals_today(): this transaction's now in the configured time zone), like the derived steps.
    added = connection.execute(text("""
        INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal, yearly_revenue_goal,
                                      goal_set_at, goal_set_by, yearly_signups_actual, yearly_revenue_actual,
                                      status)
        SELECT r.id, s.year, s.signup_goal, s.revenue_goal,
               CASE WHEN s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL
                    THEN CAST(:now AS timestamptz) END,
               CASE WHEN s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL THEN CAST(:user AS uuid) END,
               coalesce(m.signups, 0), coalesce(m.revenue, 0),
               CASE WHEN s.year < extract(year FROM goals_today()) THEN 'missed' ELSE 'active' END
        FROM stage_year s JOIN sales_reps r ON r.email = s.email
        CROSS JOIN LATERAL (
            SELECT sum(g.signups_actual) AS signups, sum(g.revenue_actual) AS revenue
            FROM rep_monthly_goals g WHERE g.sales_rep_id = r.id AND g.goal_year = s.year
        ) m
        WHERE NOT EXISTS (SELECT 1 FROM rep_yearly_goals g WHERE g.sales_rep_id = r.id AND g.goal_year = s.year)
    """), params).rowcount
    return UpsertCounts(staged, changed + added)
