"""Exact completion, late goal lowering, revocable achievements (issue 11).

- ``goals_progress_percent`` truncates to two decimals (``div``: exact integer
  arithmetic), so a percent never shows more than was achieved: 999,950 of
  1,000,000 is 99.99, and it is ≥ 100 exactly when actual ≥ goal.
- ``goals_all_met`` compares actuals with goals (``actual >= goal``), never a percent.
- ``rep_monthly_goals`` remembers the goal values in force at the deadline (taken from
  the row as it was before the first write after the deadline) and whether a goal was
  lowered below them; ``set_by_deadline`` is computed by the trigger:
  first set at or before the deadline and not lowered since. ``achievements_stale`` marks
  rows whose achievement basis changed since the achievement job last looked.
- ``goal_achievements`` gains ``revoked_at``, ``revoked_reason`` and
  ``correction_recognition_type`` (the channels a correction was announced on).

``downgrade`` restores revision 0001 exactly (functions, triggers, columns).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _initial() -> ModuleType:
    """Revision 0001's module: its function definitions are what ``downgrade`` restores."""
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("goals_migration_0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REPLACED = ("goals_progress_percent(numeric, numeric)", "goals_all_met(numeric, numeric, numeric, numeric)",
            "goals_monthly_progress()", "goals_yearly_progress()")
"""0001's functions that this revision replaces (and ``downgrade`` puts back)."""

FUNCTIONS: list[tuple[str, str]] = [
    (
        "goals_progress_percent(numeric, numeric)",
        """
-- actual / goal x 100 truncated to 2 decimals (never rounded up: 999,950 of 1,000,000 is 99.99),
-- not capped at 100; NULL when the goal is NULL or 0. div() is exact integer division, so the
-- percent is >= 100 exactly when actual >= goal. (Bounded at the largest numeric(10,2) so an
-- absurd input cannot abort a whole cycle.)
CREATE FUNCTION goals_progress_percent(actual numeric, goal numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN goal > 0 THEN least(round(div(coalesce(actual, 0) * 10000, goal) / 100, 2), 99999999.99) END
$$""",
    ),
    (
        "goals_all_met(numeric, numeric, numeric, numeric)",
        """
-- At least one goal is set (> 0) and every set goal is met: actual >= goal, compared exactly.
CREATE FUNCTION goals_all_met(signups_actual numeric, signup_goal numeric,
                              revenue_actual numeric, revenue_goal numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (coalesce(signup_goal, 0) > 0 OR coalesce(revenue_goal, 0) > 0)
       AND (coalesce(signup_goal, 0) <= 0 OR coalesce(signups_actual, 0) >= signup_goal)
       AND (coalesce(revenue_goal, 0) <= 0 OR coalesce(revenue_actual, 0) >= revenue_goal)
$$""",
    ),
    (
        "goals_monthly_progress()",
        """
CREATE FUNCTION goals_monthly_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.signup_progress_percent := goals_progress_percent(NEW.signups_actual, NEW.signup_goal);
    NEW.revenue_progress_percent := goals_progress_percent(NEW.revenue_actual, NEW.revenue_goal);
    -- The goals in force at the deadline: the row as it was before the first write after it
    -- (a roster default included). A row first written after its deadline had none.
    IF TG_OP = 'UPDATE' AND NOT OLD.goals_at_deadline_recorded AND goals_now() > OLD.deadline THEN
        NEW.signup_goal_at_deadline := OLD.signup_goal;
        NEW.revenue_goal_at_deadline := OLD.revenue_goal;
        NEW.bonus_tier_goal_at_deadline := OLD.bonus_tier_goal;
        NEW.goals_at_deadline_recorded := true;
    ELSIF TG_OP = 'INSERT' AND goals_now() > NEW.deadline THEN
        NEW.goals_at_deadline_recorded := true;
    END IF;
    NEW.lowered_after_deadline := NEW.goals_at_deadline_recorded AND (
        coalesce(NEW.signup_goal < NEW.signup_goal_at_deadline, false)
        OR coalesce(NEW.revenue_goal < NEW.revenue_goal_at_deadline, false)
        OR coalesce(NEW.bonus_tier_goal < NEW.bonus_tier_goal_at_deadline, false));
    -- Set by the deadline: first set at or before it, and no goal lowered below it since.
    NEW.set_by_deadline := NEW.goal_set_at IS NOT NULL AND NEW.goal_set_at <= NEW.deadline
                           AND NOT NEW.lowered_after_deadline;
    IF NEW.status <> 'archived' AND goals_all_met(NEW.signups_actual, NEW.signup_goal,
                                                  NEW.revenue_actual, NEW.revenue_goal) THEN
        IF NEW.status <> 'completed' OR NEW.completed_at IS NULL THEN
            NEW.completed_at := goals_now();
        END IF;
        NEW.status := 'completed';
    ELSIF NEW.status = 'completed' THEN
        -- corrected below a goal (or the goal was cleared): reopen
        NEW.status := 'active';
        NEW.completed_at := NULL;
    END IF;
    -- The achievement job re-evaluates rows whose basis changed (and revokes what it removed).
    IF TG_OP = 'INSERT' OR (NEW.signup_goal, NEW.revenue_goal, NEW.bonus_tier_goal, NEW.signups_actual,
                            NEW.revenue_actual, NEW.status, NEW.set_by_deadline, NEW.lowered_after_deadline,
                            NEW.bonus_tier_actual, NEW.bonus_triggered)
                           IS DISTINCT FROM
                           (OLD.signup_goal, OLD.revenue_goal, OLD.bonus_tier_goal, OLD.signups_actual,
                            OLD.revenue_actual, OLD.status, OLD.set_by_deadline, OLD.lowered_after_deadline,
                            OLD.bonus_tier_actual, OLD.bonus_triggered) THEN
        NEW.achievements_stale := true;
    END IF;
    RETURN NEW;
END
$$""",
    ),
    (
        "goals_yearly_progress()",
        """
CREATE FUNCTION goals_yearly_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.yearly_signup_progress_percent :=
        goals_progress_percent(NEW.yearly_signups_actual, NEW.yearly_signup_goal);
    NEW.yearly_revenue_progress_percent :=
        goals_progress_percent(NEW.yearly_revenue_actual, NEW.yearly_revenue_goal);
    IF NEW.status <> 'archived' AND goals_all_met(NEW.yearly_signups_actual, NEW.yearly_signup_goal,
                                                  NEW.yearly_revenue_actual, NEW.yearly_revenue_goal) THEN
        IF NEW.status <> 'completed' OR NEW.completed_at IS NULL THEN
            NEW.completed_at := goals_now();
        END IF;
        NEW.status := 'completed';
    ELSIF NEW.status = 'completed' THEN
        NEW.status := 'active';
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END
$$""",
    ),
]

def _monthly_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("signup_goal_at_deadline", sa.Integer(), nullable=True),
        sa.Column("revenue_goal_at_deadline", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("bonus_tier_goal_at_deadline", sa.SmallInteger(), nullable=True),
        sa.Column("goals_at_deadline_recorded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("lowered_after_deadline", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("achievements_stale", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    ]


def _achievement_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("correction_recognition_type", sa.Text(), nullable=True),
    ]


TOUCH = "trg_zz_updated_at"


RENAMED_ARGUMENTS = ("goals_all_met(numeric, numeric, numeric, numeric)",)
"""Functions whose argument names change: PostgreSQL cannot replace those in place."""


def _replace_functions(definitions: Sequence[tuple[str, str]]) -> None:
    # Trigger functions are in use by their triggers: replaced in place, never dropped.
    by_signature = dict(definitions)
    for signature in REPLACED:
        if signature in RENAMED_ARGUMENTS:
            op.execute(f"DROP FUNCTION {signature}")
            op.execute(by_signature[signature])
        else:
            op.execute(by_signature[signature].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def _touch_trigger(*ignored: str) -> None:
    """(Re)create rep_monthly_goals' updated_at trigger ignoring ``ignored`` columns."""
    op.execute(f"DROP TRIGGER {TOUCH} ON rep_monthly_goals")
    arguments = ", ".join(f"'{column}'" for column in ignored)
    op.execute(f"CREATE TRIGGER {TOUCH} BEFORE UPDATE ON rep_monthly_goals "
               f"FOR EACH ROW EXECUTE FUNCTION goals_touch_updated_at({arguments})")


def upgrade() -> None:
    """Add the columns, replace the functions, and recompute every stored percent and status."""
    for column in _monthly_columns():
        op.add_column("rep_monthly_goals", column)
    for column in _achievement_columns():
        op.add_column("goal_achievements", column)
    _replace_functions(FUNCTIONS)
    # The stale flag is the job's bookkeeping, not a change of the goal row.
    _touch_trigger("achievements_stale")
    # Recompute with the exact rules; months whose deadline has passed record their current goals
    # as the ones in force at it (the best that is known), and changed rows are re-evaluated.
    op.execute("UPDATE rep_monthly_goals SET status = status")
    op.execute("UPDATE rep_yearly_goals SET status = status")


def downgrade() -> None:
    """Back to revision 0001: its functions, its trigger, its columns, its percents."""
    _touch_trigger()
    _replace_functions(_initial().FUNCTIONS)
    for column in reversed(_achievement_columns()):
        op.drop_column("goal_achievements", column.name)
    for column in reversed(_monthly_columns()):
        op.drop_column("rep_monthly_goals", column.name)
    op.execute("UPDATE rep_monthly_goals SET status = status")
    op.execute("UPDATE rep_yearly_goals SET status = status")
