"""Set-based upserts of the input tabs: a fixed number of statements whatever the row count.

Per tab: one COPY into a temporary table, one read of the staged rows whose typed values
differ from the stored ones (with those stored values), and, when the pure plan
(``models.rules.changes``) changes anything, one statement that writes it as it is. The
SQL here reads and writes; the plan decides (blank keeps the value, first-set stamps, the
late-edit lock, new rows' status, deadline and bonus tier). An unchanged sheet writes no row,
so ``updated_at`` stays put.
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Connection, CursorResult, text

from models.bulk import foreign_keys_checked_once
from models.ports import UpsertCounts
from models.rules.changes import (
    INSERT_COLUMNS,
    REP_FIELDS,
    UPDATE_COLUMNS,
    VALUE_FIELDS,
    LockedEdit,
    MonthRules,
    plan_months,
    plan_reps,
    plan_years,
)
from models.sql_arrays import element_text
from models.staging import stage_frame

__all__ = ["LockedEdit", "MonthRules", "UpsertCounts", "month_frame", "upsert_months", "upsert_reps",
           "upsert_years"]

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


_REP_CANDIDATES = text("""
    SELECT array_agg(c.email) AS email, array_agg(c.rep_id) AS rep_id, array_agg(c.name) AS name,
           array_agg(c.team) AS team, array_agg(c.title) AS title, array_agg(c.is_active) AS is_active,
           array_agg(c.monthly_signup_goal) AS monthly_signup_goal,
           array_agg(c.yearly_signup_goal) AS yearly_signup_goal, array_agg(c.manager_email) AS manager_email,
           array_agg(c.stored_name) AS stored_name, array_agg(c.stored_team) AS stored_team,
           array_agg(c.stored_title) AS stored_title, array_agg(c.stored_is_active) AS stored_is_active,
           array_agg(c.stored_monthly_signup_goal) AS stored_monthly_signup_goal,
           array_agg(c.stored_yearly_signup_goal) AS stored_yearly_signup_goal,
           array_agg(c.stored_manager_email) AS stored_manager_email
    FROM (
        SELECT s.email, r.id AS rep_id, s.name, s.team, s.title, s.is_active, s.monthly_signup_goal,
               s.yearly_signup_goal, s.manager_email, r.name AS stored_name, r.team AS stored_team,
               r.title AS stored_title, r.is_active AS stored_is_active,
               r.monthly_signup_goal AS stored_monthly_signup_goal,
               r.yearly_signup_goal AS stored_yearly_signup_goal, r.manager_email AS stored_manager_email
        FROM stage_reps s
        LEFT JOIN sales_reps r ON r.email = s.email
        WHERE r.id IS NULL
           OR (s.name IS NOT NULL AND s.name IS DISTINCT FROM r.name)
           OR (s.team IS NOT NULL AND s.team IS DISTINCT FROM r.team)
           OR (s.title IS NOT NULL AND s.title IS DISTINCT FROM r.title)
           OR (s.is_active IS NOT NULL AND s.is_active IS DISTINCT FROM r.is_active)
           OR (s.monthly_signup_goal IS NOT NULL AND s.monthly_signup_goal IS DISTINCT FROM r.monthly_signup_goal)
           OR (s.yearly_signup_goal IS NOT NULL AND s.yearly_signup_goal IS DISTINCT FROM r.yearly_signup_goal)
           OR (s.manager_email IS NOT NULL AND s.manager_email IS DISTINCT FROM r.manager_email)
    ) AS c
""")

_APPLY_REP_PLAN = text("""
    WITH changed AS (
        UPDATE sales_reps r SET
            name = p.name, team = p.team, title = p.title, is_active = p.is_active,
            monthly_signup_goal = p.monthly_signup_goal, yearly_signup_goal = p.yearly_signup_goal,
            manager_email = p.manager_email
        FROM unnest(CAST(:u_rep_id AS int[]), CAST(:u_name AS text[]), CAST(:u_team AS text[]),
                    CAST(:u_title AS text[]), CAST(:u_is_active AS boolean[]), CAST(:u_monthly_signup_goal AS int[]),
                    CAST(:u_yearly_signup_goal AS int[]), CAST(:u_manager_email AS text[]))
             AS p(rep_id, name, team, title, is_active, monthly_signup_goal, yearly_signup_goal, manager_email)
        WHERE r.id = p.rep_id
        RETURNING 1
    ), added AS (
        INSERT INTO sales_reps (email, name, team, title, is_active, monthly_signup_goal, yearly_signup_goal,
                                manager_email)
        SELECT * FROM unnest(CAST(:i_email AS text[]), CAST(:i_name AS text[]), CAST(:i_team AS text[]),
                             CAST(:i_title AS text[]), CAST(:i_is_active AS boolean[]),
                             CAST(:i_monthly_signup_goal AS int[]), CAST(:i_yearly_signup_goal AS int[]),
                             CAST(:i_manager_email AS text[]))
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM changed) AS changed, (SELECT count(*) FROM added) AS added
""")

_REP_WHOLE = frozenset({"rep_id", "monthly_signup_goal", "yearly_signup_goal", "stored_monthly_signup_goal",
                        "stored_yearly_signup_goal"})


def upsert_reps(connection: Connection, frame: pd.DataFrame) -> UpsertCounts:
    """Store the Reps tab as ``models.rules.changes.plan_reps`` decides: one COPY, one read of the
    reps whose typed values differ from the stored ones, and one statement writing the plan."""
    staged = stage_frame(connection, "stage_reps", REPS_STAGE, frame)
    plan = plan_reps(_read_frame(connection.execute(_REP_CANDIDATES), _REP_WHOLE))
    if plan.empty:
        return UpsertCounts(staged, 0)
    params = {f"u_{name}": array_text(plan.updates[name]) for name in ("rep_id", *REP_FIELDS)}
    params |= {f"i_{name}": array_text(plan.inserts[name]) for name in ("email", *REP_FIELDS)}
    changed, added = connection.execute(_APPLY_REP_PLAN, params).one()
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


# Each staged row beside the goal row it would change, numbers in whole units (signups in tenths,
# money in cents) so the plan compares them exactly. Only rows where a value typed in the sheet
# differs from the stored one (or that have no goal row, or no first-set stamp yet) are read: a
# narrowing, not a rule; ``plan_months`` decides, and would leave any other row unchanged too.
# One row of arrays (a column each): the driver parses 50,000 values per column far faster than
# 50,000 rows.
_MONTH_CANDIDATES = text("""
    SELECT array_agg(c.email) AS email, array_agg(c.year) AS year, array_agg(c.month) AS month,
           array_agg(c.goal_row) AS goal_row, array_agg(c.rep_id) AS rep_id, array_agg(c.goal_id) AS goal_id,
           array_agg(c.signup_goal) AS signup_goal, array_agg(c.revenue_goal) AS revenue_goal,
           array_agg(c.bonus_tier_goal) AS bonus_tier_goal, array_agg(c.signups) AS signups,
           array_agg(c.revenue) AS revenue, array_agg(c.stored_signup_goal) AS stored_signup_goal,
           array_agg(c.stored_revenue_goal) AS stored_revenue_goal,
           array_agg(c.stored_bonus_tier_goal) AS stored_bonus_tier_goal,
           array_agg(c.stored_signups) AS stored_signups, array_agg(c.stored_revenue) AS stored_revenue,
           array_agg(c.stored_goal_set_at) AS stored_goal_set_at,
           array_agg(c.stored_goal_set_by) AS stored_goal_set_by,
           array_agg(c.stored_deadline) AS stored_deadline
    FROM (
        SELECT s.email, s.year, s.month, s.goal_row, r.id AS rep_id, g.id AS goal_id,
               s.signup_goal, CAST(s.revenue_goal * 100 AS bigint) AS revenue_goal, s.bonus_tier_goal,
               CAST(s.signups * 10 AS bigint) AS signups, CAST(s.revenue * 100 AS bigint) AS revenue,
               g.signup_goal AS stored_signup_goal, CAST(g.revenue_goal * 100 AS bigint) AS stored_revenue_goal,
               g.bonus_tier_goal AS stored_bonus_tier_goal, CAST(g.signups_actual * 10 AS bigint) AS stored_signups,
               CAST(g.revenue_actual * 100 AS bigint) AS stored_revenue, g.goal_set_at AS stored_goal_set_at,
               g.goal_set_by AS stored_goal_set_by, g.deadline AS stored_deadline
        FROM stage_month s
        JOIN sales_reps r ON r.email = s.email
        LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = r.id AND g.goal_year = s.year AND g.goal_month = s.month
        WHERE g.id IS NULL
           OR s.signup_goal <> coalesce(g.signup_goal, -1) OR s.revenue_goal <> coalesce(g.revenue_goal, -1)
           OR s.bonus_tier_goal <> coalesce(g.bonus_tier_goal, -1)
           OR s.signups <> g.signups_actual OR s.revenue <> g.revenue_actual
           OR (g.goal_set_at IS NULL AND (s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL))
    ) AS c
""")

# The plan written as it is: final values of changed rows, whole new rows. One statement.
_APPLY_MONTH_PLAN = text("""
    WITH changed AS (
        UPDATE rep_monthly_goals g SET
            signup_goal = p.signup_goal, revenue_goal = p.revenue_goal * 0.01,
            bonus_tier_goal = p.bonus_tier_goal, signups_actual = p.signups * 0.1,
            revenue_actual = p.revenue * 0.01, goal_set_at = p.goal_set_at, goal_set_by = p.goal_set_by,
            bonus_tier_actual = p.bonus_tier, bonus_amount = p.bonus_amount * 0.01,
            bonus_triggered = p.bonus_triggered
        FROM unnest(CAST(:u_goal_id AS int[]), CAST(:u_signup_goal AS int[]), CAST(:u_revenue_goal AS bigint[]),
                    CAST(:u_bonus_tier_goal AS smallint[]), CAST(:u_signups AS bigint[]),
                    CAST(:u_revenue AS bigint[]), CAST(:u_goal_set_at AS timestamptz[]),
                    CAST(:u_goal_set_by AS uuid[]), CAST(:u_bonus_tier AS smallint[]),
                    CAST(:u_bonus_amount AS bigint[]), CAST(:u_bonus_triggered AS boolean[]))
             AS p(goal_id, signup_goal, revenue_goal, bonus_tier_goal, signups, revenue, goal_set_at, goal_set_by,
                  bonus_tier, bonus_amount, bonus_triggered)
        WHERE g.id = p.goal_id
        RETURNING 1
    ), added AS (
        INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, revenue_goal,
            bonus_tier_goal, signups_actual, revenue_actual, goal_set_at, goal_set_by, deadline, status,
            bonus_tier_actual, bonus_amount, bonus_triggered)
        SELECT p.rep_id, p.year, p.month, p.signup_goal, p.revenue_goal * 0.01, p.bonus_tier_goal,
               p.signups * 0.1, p.revenue * 0.01, p.goal_set_at, p.goal_set_by, p.deadline, p.status,
               p.bonus_tier, p.bonus_amount * 0.01, p.bonus_triggered
        FROM unnest(CAST(:i_rep_id AS int[]), CAST(:i_year AS smallint[]), CAST(:i_month AS smallint[]),
                    CAST(:i_signup_goal AS int[]), CAST(:i_revenue_goal AS bigint[]),
                    CAST(:i_bonus_tier_goal AS smallint[]), CAST(:i_signups AS bigint[]),
                    CAST(:i_revenue AS bigint[]), CAST(:i_goal_set_at AS timestamptz[]),
                    CAST(:i_goal_set_by AS uuid[]), CAST(:i_deadline AS timestamptz[]), CAST(:i_status AS text[]),
                    CAST(:i_bonus_tier AS smallint[]), CAST(:i_bonus_amount AS bigint[]),
                    CAST(:i_bonus_triggered AS boolean[]))
             AS p(rep_id, year, month, signup_goal, revenue_goal, bonus_tier_goal, signups, revenue, goal_set_at,
                  goal_set_by, deadline, status, bonus_tier, bonus_amount, bonus_triggered)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM changed) AS changed, (SELECT count(*) FROM added) AS added
""")

# The goal-row columns later statements of a cycle and its jobs join or filter on.
_PLANNED_COLUMNS = ("sales_rep_id", "goal_year", "goal_month", "status", "deadline", "goal_set_at")
_WHOLE_COLUMNS = frozenset({"year", "month", "goal_row", "rep_id", "goal_id", *VALUE_FIELDS,
                            *(f"stored_{name}" for name in VALUE_FIELDS)})


def upsert_months(
    connection: Connection,
    frame: pd.DataFrame,
    *,
    now: datetime,
    rules: MonthRules,
    system_user: uuid.UUID,
) -> tuple[UpsertCounts, list[LockedEdit]]:
    """Store Monthly Goals and Actuals as ``models.rules.changes.plan_months`` decides.

    One COPY of the staged rows, one read of the rows whose typed values differ from the
    stored ones, and (when the plan is not empty) one statement that writes it.
    """
    staged = stage_frame(connection, "stage_month", MONTH_STAGE, frame)
    candidates = _read_frame(connection.execute(_MONTH_CANDIDATES), _WHOLE_COLUMNS)
    plan = plan_months(candidates, rules=rules, now=now, user=system_user)
    if plan.empty:
        return UpsertCounts(staged, 0), list(plan.locked)
    params = {f"u_{name}": array_text(plan.updates[name]) for name in UPDATE_COLUMNS}
    params |= {f"i_{name}": array_text(plan.inserts[name]) for name in INSERT_COLUMNS}
    bulk = len(plan.inserts) * 2 > staged  # the first cycle, a new sheet
    with foreign_keys_checked_once(connection, "rep_monthly_goals") if bulk else nullcontext():
        changed, added = connection.execute(_APPLY_MONTH_PLAN, params).one()
    if bulk:
        # A bulk load (the first cycle, a new sheet): without fresh statistics the planner takes
        # the new rows for a handful and later statements pick nested loops over them. Only the
        # columns they join and filter on: a third of the time of every column, and a partial
        # ANALYZE leaves the change counter alone, so autovacuum still analyzes the whole table.
        connection.execute(text(f"ANALYZE sales_reps, rep_monthly_goals ({', '.join(_PLANNED_COLUMNS)}), "
                                "rep_yearly_goals"))
    return UpsertCounts(staged, changed + added), list(plan.locked)


def _read_frame(result: CursorResult[Any], whole: frozenset[str]) -> pd.DataFrame:
    """A one-row result of ``array_agg`` columns as a DataFrame: ``whole`` columns as ``Int64``
    (NA for NULL), others as objects; no rows when the arrays are NULL (nothing aggregated)."""
    row = result.one()
    columns = {key: values or [] for key, values in zip(result.keys(), row, strict=True)}
    return pd.DataFrame({key: _whole(values) if key in whole else pd.Series(values, dtype="object")
                         for key, values in columns.items()})


def _whole(values: list[int | None]) -> pd.api.extensions.ExtensionArray:
    """``values`` as ``Int64``; an all-NULL column (every stored value of a cold cycle's new rows)
    without looking at each value."""
    if values.count(None) == len(values):
        return pd.arrays.IntegerArray(np.zeros(len(values), dtype=np.int64), np.ones(len(values), dtype=bool))
    return pd.array(values, dtype="Int64")


def array_text(values: pd.Series | np.ndarray) -> str:
    """``values`` as the text of a PostgreSQL array (``{1,NULL,3}``), for ``CAST(:p AS int[])``.

    Numbers are written by numpy; other values from their distinct ones (``factorize``: a plan
    of 50,000 rows holds few distinct times, users and states). Several times cheaper than
    binding a Python list.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.empty:
        return "{}"
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy(dtype=bool)
        if pd.api.types.is_bool_dtype(series.dtype):
            numbers = series.to_numpy(dtype=bool, na_value=False)
            texts = np.where(numbers, "t", "f").astype(object)
        else:
            texts = np.array(list(map(str, series.to_numpy(dtype=np.int64, na_value=0).tolist())), dtype=object)
        texts[missing] = "NULL"
        return "{" + ",".join(texts.tolist()) + "}"
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    # Code -1 (a missing value) picks the last element: NULL.
    distinct = np.array([*(element_text(value) for value in uniques), "NULL"], dtype=object)
    return "{" + ",".join(distinct[codes].tolist()) + "}"


_YEAR_CANDIDATES = text("""
    SELECT array_agg(c.rep_id) AS rep_id, array_agg(c.year_id) AS year_id, array_agg(c.year) AS year,
           array_agg(c.signup_goal) AS signup_goal, array_agg(c.revenue_goal) AS revenue_goal,
           array_agg(c.stored_signup_goal) AS stored_signup_goal,
           array_agg(c.stored_revenue_goal) AS stored_revenue_goal,
           array_agg(c.stored_goal_set_at) AS stored_goal_set_at,
           array_agg(c.stored_goal_set_by) AS stored_goal_set_by,
           array_agg(c.month_signups) AS month_signups, array_agg(c.month_revenue) AS month_revenue
    FROM (
        SELECT r.id AS rep_id, y.id AS year_id, s.year, s.signup_goal,
               CAST(s.revenue_goal * 100 AS bigint) AS revenue_goal, y.yearly_signup_goal AS stored_signup_goal,
               CAST(y.yearly_revenue_goal * 100 AS bigint) AS stored_revenue_goal,
               y.goal_set_at AS stored_goal_set_at, y.goal_set_by AS stored_goal_set_by,
               CAST(m.signups * 10 AS bigint) AS month_signups, CAST(m.revenue * 100 AS bigint) AS month_revenue
        FROM stage_year s
        JOIN sales_reps r ON r.email = s.email
        LEFT JOIN rep_yearly_goals y ON y.sales_rep_id = r.id AND y.goal_year = s.year
        -- a new year row's months, summed (read only where there is no year row)
        LEFT JOIN LATERAL (
            SELECT sum(g.signups_actual) AS signups, sum(g.revenue_actual) AS revenue
            FROM rep_monthly_goals g WHERE y.id IS NULL AND g.sales_rep_id = r.id AND g.goal_year = s.year
        ) m ON true
        WHERE y.id IS NULL
           OR s.signup_goal <> coalesce(y.yearly_signup_goal, -1)
           OR s.revenue_goal <> coalesce(y.yearly_revenue_goal, -1)
           OR (y.goal_set_at IS NULL AND (s.signup_goal IS NOT NULL OR s.revenue_goal IS NOT NULL))
    ) AS c
""")

_APPLY_YEAR_PLAN = text("""
    WITH changed AS (
        UPDATE rep_yearly_goals y SET
            yearly_signup_goal = p.signup_goal, yearly_revenue_goal = p.revenue_goal * 0.01,
            goal_set_at = p.goal_set_at, goal_set_by = p.goal_set_by
        FROM unnest(CAST(:u_year_id AS int[]), CAST(:u_signup_goal AS int[]), CAST(:u_revenue_goal AS bigint[]),
                    CAST(:u_goal_set_at AS timestamptz[]), CAST(:u_goal_set_by AS uuid[]))
             AS p(year_id, signup_goal, revenue_goal, goal_set_at, goal_set_by)
        WHERE y.id = p.year_id
        RETURNING 1
    ), added AS (
        INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal, yearly_revenue_goal,
                                      goal_set_at, goal_set_by, yearly_signups_actual, yearly_revenue_actual,
                                      status)
        SELECT p.rep_id, p.year, p.signup_goal, p.revenue_goal * 0.01, p.goal_set_at, p.goal_set_by,
               p.signups * 0.1, p.revenue * 0.01, p.status
        FROM unnest(CAST(:i_rep_id AS int[]), CAST(:i_year AS smallint[]), CAST(:i_signup_goal AS int[]),
                    CAST(:i_revenue_goal AS bigint[]), CAST(:i_goal_set_at AS timestamptz[]),
                    CAST(:i_goal_set_by AS uuid[]), CAST(:i_signups AS bigint[]), CAST(:i_revenue AS bigint[]),
                    CAST(:i_status AS text[]))
             AS p(rep_id, year, signup_goal, revenue_goal, goal_set_at, goal_set_by, signups, revenue, status)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM changed) AS changed, (SELECT count(*) FROM added) AS added
""")

_YEAR_WHOLE = frozenset({"rep_id", "year_id", "year", "signup_goal", "revenue_goal", "stored_signup_goal",
                         "stored_revenue_goal", "month_signups", "month_revenue"})
_YEAR_UPDATES = ("year_id", "signup_goal", "revenue_goal", "goal_set_at", "goal_set_by")
_YEAR_INSERTS = ("rep_id", "year", "signup_goal", "revenue_goal", "goal_set_at", "goal_set_by", "signups", "revenue",
                 "status")


def upsert_years(connection: Connection, frame: pd.DataFrame, *, now: datetime, tz: ZoneInfo,
                 system_user: uuid.UUID) -> UpsertCounts:
    """Store the Yearly Goals tab as ``models.rules.changes.plan_years`` decides (one COPY, one
    read, one statement writing the plan)."""
    staged = stage_frame(connection, "stage_year", YEAR_STAGE, frame)
    candidates = _read_frame(connection.execute(_YEAR_CANDIDATES), _YEAR_WHOLE)
    plan = plan_years(candidates, now=now, tz=tz, user=system_user)
    if plan.empty:
        return UpsertCounts(staged, 0)
    params = {f"u_{name}": array_text(plan.updates[name]) for name in _YEAR_UPDATES}
    params |= {f"i_{name}": array_text(plan.inserts[name]) for name in _YEAR_INSERTS}
    changed, added = connection.execute(_APPLY_YEAR_PLAN, params).one()
    return UpsertCounts(staged, changed + added)
