"""Unchanged cycles recognised across processes (issue 17).

- ``data_changes``: one row per transaction that wrote to a table the cycle's output
  depends on (the reps, their goals and actuals, the snapshots, the reminders, the
  settings copy and the output state), inserted by a statement trigger on each of them
  (``note_data_change``). Its row count is the source's *data version*: a transaction
  that commits after a cycle read it adds a row, whoever wrote (a job, another process,
  a person in psql). Only a cycle that recomputes everything deletes rows, under the
  cycle lock.
- ``sync_fingerprints``: per spreadsheet, the fingerprint of the last successful cycle's
  input (the read, the settings, the local date, the code), the data version it left
  and what it reported (status, rows read, problems), so that a cycle finding all of it
  unchanged can skip parsing, storing and computing the output and report the same.
- ``sheets_sync_log.unchanged``: the cycle was such a cycle.

``downgrade`` removes exactly this.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRACKED = ("app_settings", "sales_reps", "rep_monthly_goals", "rep_yearly_goals", "goal_progress_snapshots",
           "leaderboard_snapshots", "goal_deadline_reminders", "sheet_output_state")
"""Every table a cycle's output (or its derived-value refresh) reads. Not tracked: the logs and
bookkeeping the output never shows (sheets_sync_log, job_runs, achievements, deliveries)."""
BOOKKEEPING = {"rep_monthly_goals": ("achievements_stale",)}
"""Columns of a tracked table that no output reads: updating only these is no data change. A later
migration adding a column to such a table must recreate its trigger (``tests/db`` checks it)."""


def upgrade() -> None:
    """Add the two tables, the column, the trigger function and one trigger per tracked table."""
    op.create_table(
        "data_changes",
        sa.Column("txid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("txid", name=op.f("pk_data_changes")),
    )
    op.create_table(
        "sync_fingerprints",
        sa.Column("spreadsheet", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("problems", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("spreadsheet", name=op.f("pk_sync_fingerprints")),
    )
    op.add_column("sheets_sync_log", sa.Column("unchanged", sa.Boolean(), server_default=sa.text("false"),
                                               nullable=False))
    # One row per writing transaction (ON CONFLICT: its later statements add nothing); no lock is
    # shared between writers, so jobs and cycles never wait on each other for it.
    op.execute("""
        CREATE FUNCTION note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO data_changes (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
    """)
    for name in TRACKED:
        op.execute(f"CREATE TRIGGER trg_{name}_data_change AFTER INSERT OR {_updates(name)} OR DELETE OR TRUNCATE "
                   f"ON {name} FOR EACH STATEMENT EXECUTE FUNCTION note_data_change()")


def _updates(table: str) -> str:
    """``UPDATE``, or for a table with bookkeeping columns ``UPDATE OF`` every other column: the
    achievement job marking the months it looked at is no change to the output."""
    skipped = BOOKKEEPING.get(table)
    if not skipped:
        return "UPDATE"
    columns = op.get_bind().execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = :table ORDER BY ordinal_position"), {"table": table}).scalars().all()
    return "UPDATE OF " + ", ".join(c for c in columns if c not in skipped)


def downgrade() -> None:
    """Drop the triggers, the function, the column and the tables again."""
    for name in TRACKED:
        op.execute(f"DROP TRIGGER trg_{name}_data_change ON {name}")
    op.execute("DROP FUNCTION note_data_change()")
    op.drop_column("sheets_sync_log", "unchanged")
    op.drop_table("sync_fingerprints")
    op.drop_table("data_changes")
