"""For managers: the reps' Manager Email, pace alerts, weekly digest deliveries, and an index of
daily snapshots by date (read by the Charts tab every cycle).

``pace_alerts`` keeps at most one alert per rep per local week (its Monday);
``digest_deliveries`` one row per digest moment and recipient, so a digest is
sent once however many daemons or cron runs reach it, and a failed recipient
is retried without sending the others again. ``downgrade`` removes exactly this.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column and the two bookkeeping tables."""
    op.add_column("sales_reps", sa.Column("manager_email", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_sales_reps_manager_email_lower"), "sales_reps",
                               "manager_email = lower(btrim(manager_email))")
    op.create_table(
        "pace_alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sales_rep_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("goal_year", sa.SmallInteger(), nullable=False),
        sa.Column("goal_month", sa.SmallInteger(), nullable=False),
        sa.Column("signup_progress_percent", sa.Numeric(10, 2), nullable=True),
        sa.Column("revenue_progress_percent", sa.Numeric(10, 2), nullable=True),
        sa.Column("expected_percent", sa.Numeric(10, 2), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("goal_month BETWEEN 1 AND 12", name=op.f("ck_pace_alerts_goal_month_range")),
        sa.ForeignKeyConstraint(["sales_rep_id"], ["sales_reps.id"], ondelete="CASCADE",
                                name=op.f("fk_pace_alerts_sales_rep_id_sales_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pace_alerts")),
        sa.UniqueConstraint("sales_rep_id", "week_start", name="uq_pace_alerts_rep_week"),
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
        sa.UniqueConstraint("scheduled_for", "recipient", name="uq_digest_deliveries_moment_recipient"),
    )


    # The Charts tab (and the Summary's trend) read a month of daily snapshots every cycle.
    op.create_index("idx_progress_snapshots_daily_date", "goal_progress_snapshots", ["snapshot_date"],
                    postgresql_where=sa.text("snapshot_type = 'daily'"))


def downgrade() -> None:
    """Drop the index, the tables and the column again."""
    op.drop_index("idx_progress_snapshots_daily_date", table_name="goal_progress_snapshots",
                  postgresql_where=sa.text("snapshot_type = 'daily'"))
    op.drop_table("digest_deliveries")
    op.drop_table("pace_alerts")
    op.drop_constraint(op.f("ck_sales_reps_manager_email_lower"), "sales_reps", type_="check")
    op.drop_column("sales_reps", "manager_email")
