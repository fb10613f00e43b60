"""The achievement job's bookkeeping in a table of its own (issue 17).

Revision 0002 marked a goal month whose achievement basis changed with a column,
``rep_monthly_goals.achievements_stale``, that the job set back to false. Clearing it
rewrote every evaluated goal row, with its row triggers (the percents, status and
``updated_at`` recomputed from a jsonb copy of the row) and every index: after a first
cycle of 48,000 new months that one statement took 1–2 s, the largest of a cold
``run --once``. Now:

- ``achievement_stale_months`` holds one row per stale month (its goal row's id). Statement
  triggers with transition tables add them set-based: every inserted month, and every
  updated month whose basis columns (the ones 0002 compared) differ. A month marked again
  gets a new row version (``ON CONFLICT DO UPDATE``), so the job, which deletes only the
  versions it read, leaves a month changed after its read stale.
- ``goals_monthly_progress`` no longer sets the flag, the column is gone, and the
  ``updated_at`` and data-change triggers of ``rep_monthly_goals`` have no bookkeeping
  column to ignore any more.

``downgrade`` restores revision 0004 exactly, the stale months back in the column.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BASIS = ("signup_goal", "revenue_goal", "bonus_tier_goal", "signups_actual", "revenue_actual", "status",
         "set_by_deadline", "lowered_after_deadline", "bonus_tier_actual", "bonus_triggered")
"""The columns an achievement depends on: a month whose values change is evaluated again."""

_STALE_BLOCK_START = "    -- The achievement job re-evaluates rows whose basis changed"
_STALE_BLOCK_END = "        NEW.achievements_stale := true;\n    END IF;\n"


def _revision(name: str) -> ModuleType:
    """Another revision's module (its definitions are what this one replaces or restores)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"goals_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _progress_function(*, with_flag: bool) -> str:
    """``goals_monthly_progress`` as revision 0002 wrote it, or without its stale-flag block."""
    definition = dict(_revision("0002_exact_goals_and_revocations.py").FUNCTIONS)["goals_monthly_progress()"]
    definition = definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    if with_flag:
        return definition
    start = definition.index(_STALE_BLOCK_START)
    end = definition.index(_STALE_BLOCK_END, start) + len(_STALE_BLOCK_END)
    return definition[:start] + definition[end:]


_MARK = f"""
CREATE FUNCTION goals_mark_achievements_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO achievement_stale_months (monthly_goal_id)
        SELECT id FROM new_months
        ON CONFLICT (monthly_goal_id) DO NOTHING;
    ELSE
        -- A new row version for a month already marked: the job deletes only the versions it read.
        INSERT INTO achievement_stale_months (monthly_goal_id)
        SELECT n.id FROM new_months n JOIN old_months o ON o.id = n.id
        WHERE ({", ".join(f"n.{c}" for c in BASIS)})
              IS DISTINCT FROM ({", ".join(f"o.{c}" for c in BASIS)})
        ON CONFLICT (monthly_goal_id) DO UPDATE SET monthly_goal_id = excluded.monthly_goal_id;
    END IF;
    RETURN NULL;
END
$$"""

TOUCH = "trg_zz_updated_at"
DATA_CHANGE = "trg_rep_monthly_goals_data_change"


def _touch_trigger(*ignored: str) -> None:
    """(Re)create rep_monthly_goals' updated_at trigger ignoring ``ignored`` columns."""
    op.execute(f"DROP TRIGGER {TOUCH} ON rep_monthly_goals")
    arguments = ", ".join(f"'{column}'" for column in ignored)
    op.execute(f"CREATE TRIGGER {TOUCH} BEFORE UPDATE ON rep_monthly_goals "
               f"FOR EACH ROW EXECUTE FUNCTION goals_touch_updated_at({arguments})")


def _data_change_trigger(updates: str) -> None:
    op.execute(f"DROP TRIGGER {DATA_CHANGE} ON rep_monthly_goals")
    op.execute(f"CREATE TRIGGER {DATA_CHANGE} AFTER INSERT OR {updates} OR DELETE OR TRUNCATE "
               f"ON rep_monthly_goals FOR EACH STATEMENT EXECUTE FUNCTION note_data_change()")


def upgrade() -> None:
    """Move the stale flags into their table and mark months with statement triggers."""
    op.create_table(
        "achievement_stale_months",
        sa.Column("monthly_goal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("monthly_goal_id", name=op.f("pk_achievement_stale_months")),
    )
    op.execute("INSERT INTO achievement_stale_months (monthly_goal_id) "
               "SELECT id FROM rep_monthly_goals WHERE achievements_stale")
    op.execute(_progress_function(with_flag=False))
    op.execute(_MARK)
    op.execute("CREATE TRIGGER trg_monthly_goals_stale_insert AFTER INSERT ON rep_monthly_goals "
               "REFERENCING NEW TABLE AS new_months "
               "FOR EACH STATEMENT EXECUTE FUNCTION goals_mark_achievements_stale()")
    op.execute("CREATE TRIGGER trg_monthly_goals_stale_update AFTER UPDATE ON rep_monthly_goals "
               "REFERENCING OLD TABLE AS old_months NEW TABLE AS new_months "
               "FOR EACH STATEMENT EXECUTE FUNCTION goals_mark_achievements_stale()")
    _touch_trigger()
    op.drop_column("rep_monthly_goals", "achievements_stale")
    _data_change_trigger("UPDATE")


def downgrade() -> None:
    """Back to revision 0004: the column (set for every stale month), its triggers, the function."""
    op.add_column("rep_monthly_goals", sa.Column("achievements_stale", sa.Boolean(),
                                                 server_default=sa.text("false"), nullable=False))
    _data_change_trigger(_revision("0004_unchanged_cycles.py")._updates("rep_monthly_goals"))
    _touch_trigger("achievements_stale")
    op.execute("DROP TRIGGER trg_monthly_goals_stale_update ON rep_monthly_goals")
    op.execute("DROP TRIGGER trg_monthly_goals_stale_insert ON rep_monthly_goals")
    op.execute("DROP FUNCTION goals_mark_achievements_stale()")
    op.execute(_progress_function(with_flag=True))
    # Bookkeeping only: no trigger may recompute (or record anything on) the goal rows.
    op.execute("ALTER TABLE rep_monthly_goals DISABLE TRIGGER USER")
    op.execute("UPDATE rep_monthly_goals SET achievements_stale = true "
               "WHERE id IN (SELECT monthly_goal_id FROM achievement_stale_months)")
    op.execute("ALTER TABLE rep_monthly_goals ENABLE TRIGGER USER")
    op.drop_table("achievement_stale_months")
