"""SQLAlchemy 2 declarative models: one class per table of ``docs/schema.md``.

The triggers, helper functions and views live only in the Alembic migration
(``models/migrations``); this module describes what ``alembic check`` compares:
tables, columns, constraints and indexes. Constraint names are explicit (or
derived from the naming convention) so migrations never depend on generated names.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.rules.achievements import ACHIEVEMENT_TYPES
from models.rules.deadlines import REMINDER_TYPES
from models.rules.pace import JUDGED_INDICATORS

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = ("active", "completed", "missed", "archived")
ROLES = ("admin", "manager", "rep", "system")
SNAPSHOT_TYPES = ("daily", "weekly", "monthly")
# The enumerations the goal rules define are imported, so the CHECKs can never drift from them.
PACE_INDICATORS = JUDGED_INDICATORS
SYNC_STATUSES = ("running", "success", "partial", "failed", "skipped", "dry_run")
JOB_STATUSES = ("running", "success", "failed")
PACE_CALENDARS = ("calendar", "business")


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL text ``column IN ('a', 'b')`` for a CHECK constraint."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def _tier(column: str) -> str:
    return f"{column} BETWEEN 0 AND 6"


def _month(column: str) -> str:
    return f"{column} BETWEEN 1 AND 12"


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated() -> Mapped[datetime]:
    # Kept current by the migration's trigger (only when the row really changed).
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _rep_fk() -> Mapped[int]:
    return mapped_column(Integer, ForeignKey("sales_reps.id", ondelete="CASCADE"), nullable=False)


def _user_fk() -> Mapped[uuid.UUID | None]:
    return mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))


class AppSettings(Base):
    """The singleton (id = 1) copy of the config the SQL functions and views read."""

    __tablename__ = "app_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="singleton"),
        CheckConstraint(_in("pace_calendar", PACE_CALENDARS), name="pace_calendar"),
        CheckConstraint("deadline_day BETWEEN 1 AND 28", name="deadline_day_range"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"))
    timezone: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'UTC'"))
    deadline_day: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("6"))
    pace_calendar: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'calendar'"))
    holidays: Mapped[list[date]] = mapped_column(
        ARRAY(Date), nullable=False, server_default=text("'{}'::date[]")
    )
    min_elapsed_percent: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default=text("10"))
    pace_ahead: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default=text("1.10"))
    pace_on_track: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default=text("0.95"))
    pace_behind: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default=text("0.80"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class User(Base):
    """A person (or the system account) who can set goals."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("email = lower(btrim(email))", name="email_lower"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=func.gen_random_uuid())
    email: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class SalesRep(Base):
    """The roster: one row per rep, keyed by lower-case email."""

    __tablename__ = "sales_reps"
    __table_args__ = (
        CheckConstraint("email = lower(btrim(email))", name="email_lower"),
        CheckConstraint("monthly_signup_goal >= 0", name="monthly_signup_goal_nonneg"),
        CheckConstraint("yearly_signup_goal >= 0", name="yearly_signup_goal_nonneg"),
        CheckConstraint(_tier("current_bonus_tier"), name="current_bonus_tier_range"),
        CheckConstraint("manager_email = lower(btrim(manager_email))", name="manager_email_lower"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    team: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    monthly_signup_goal: Mapped[int | None] = mapped_column(Integer)
    yearly_signup_goal: Mapped[int | None] = mapped_column(Integer)
    goal_progress: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    current_bonus_tier: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    manager_email: Mapped[str | None] = mapped_column(Text)
    """Who gets this rep in their weekly digest (the Reps tab's optional Manager Email)."""
    user_id: Mapped[uuid.UUID | None] = _user_fk()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class RepMonthlyGoal(Base):
    """A rep's goals and actuals for one month; percents and status come from a trigger."""

    __tablename__ = "rep_monthly_goals"
    __table_args__ = (
        UniqueConstraint("sales_rep_id", "goal_year", "goal_month", name="idx_monthly_goals_rep_period"),
        Index("idx_monthly_goals_deadline", "deadline"),
        CheckConstraint("goal_year >= 2024", name="goal_year_min"),
        CheckConstraint(_month("goal_month"), name="goal_month_range"),
        CheckConstraint("signup_goal >= 0", name="signup_goal_nonneg"),
        CheckConstraint("signups_actual >= 0", name="signups_actual_nonneg"),
        CheckConstraint("revenue_goal >= 0", name="revenue_goal_nonneg"),
        CheckConstraint("revenue_actual >= 0", name="revenue_actual_nonneg"),
        CheckConstraint(_tier("bonus_tier_goal"), name="bonus_tier_goal_range"),
        CheckConstraint(_tier("bonus_tier_actual"), name="bonus_tier_actual_range"),
        CheckConstraint(_in("status", STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    sales_rep_id: Mapped[int] = _rep_fk()
    goal_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    goal_month: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    signup_goal: Mapped[int | None] = mapped_column(Integer)
    signups_actual: Mapped[Decimal] = mapped_column(Numeric(8, 1), nullable=False, server_default=text("0"))
    signup_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    revenue_goal: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    revenue_actual: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, server_default=text("0"))
    revenue_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    bonus_tier_goal: Mapped[int | None] = mapped_column(SmallInteger)
    bonus_tier_actual: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    bonus_triggered: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    bonus_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False, server_default=text("0"))
    set_by_deadline: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    goal_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    goal_set_by: Mapped[uuid.UUID | None] = _user_fk()
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'active'"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    # The goals in force at the deadline (recorded by the trigger at the first write after it):
    # a goal lowered below them makes the month count as set late (``lowered_after_deadline``).
    signup_goal_at_deadline: Mapped[int | None] = mapped_column(Integer)
    revenue_goal_at_deadline: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    bonus_tier_goal_at_deadline: Mapped[int | None] = mapped_column(SmallInteger)
    goals_at_deadline_recorded: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    lowered_after_deadline: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))


class RepYearlyGoal(Base):
    """A rep's goals and year-to-date actuals for one year; monthly targets are generated."""

    __tablename__ = "rep_yearly_goals"
    __table_args__ = (
        UniqueConstraint("sales_rep_id", "goal_year", name="uq_yearly_goals_rep_year"),
        CheckConstraint("goal_year >= 2024", name="goal_year_min"),
        CheckConstraint("yearly_signup_goal >= 0", name="yearly_signup_goal_nonneg"),
        CheckConstraint("yearly_revenue_goal >= 0", name="yearly_revenue_goal_nonneg"),
        CheckConstraint("yearly_signups_actual >= 0", name="yearly_signups_actual_nonneg"),
        CheckConstraint("yearly_revenue_actual >= 0", name="yearly_revenue_actual_nonneg"),
        CheckConstraint(_in("status", STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    sales_rep_id: Mapped[int] = _rep_fk()
    goal_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    yearly_signup_goal: Mapped[int | None] = mapped_column(Integer)
    yearly_signups_actual: Mapped[Decimal] = mapped_column(
        Numeric(10, 1), nullable=False, server_default=text("0")
    )
    yearly_signup_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    yearly_revenue_goal: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    yearly_revenue_actual: Mapped[Decimal] = mapped_column(
        Numeric(16, 2), nullable=False, server_default=text("0")
    )
    yearly_revenue_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    monthly_signup_target: Mapped[Decimal | None] = mapped_column(
        Numeric(12, 2), Computed("round(yearly_signup_goal::numeric / 12, 2)", persisted=True)
    )
    monthly_revenue_target: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), Computed("round(yearly_revenue_goal / 12, 2)", persisted=True)
    )
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'active'"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    goal_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    goal_set_by: Mapped[uuid.UUID | None] = _user_fk()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class GoalProgressSnapshot(Base):
    """A rep's monthly progress frozen at a daily, weekly or monthly boundary."""

    __tablename__ = "goal_progress_snapshots"
    __table_args__ = (
        UniqueConstraint("sales_rep_id", "snapshot_date", "snapshot_type", name="uq_snapshots_rep_date_type"),
        CheckConstraint(_in("snapshot_type", SNAPSHOT_TYPES), name="snapshot_type"),
        CheckConstraint(_tier("bonus_tier"), name="bonus_tier_range"),
        CheckConstraint(_in("pace_indicator", PACE_INDICATORS), name="pace_indicator"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sales_rep_id: Mapped[int] = _rep_fk()
    snapshot_date: Mapped[date] = mapped_column(Date, nullable=False)
    snapshot_type: Mapped[str] = mapped_column(Text, nullable=False)
    monthly_goal_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("rep_monthly_goals.id", ondelete="SET NULL")
    )
    signups_to_date: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    signup_goal: Mapped[int | None] = mapped_column(Integer)
    signup_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    revenue_to_date: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    revenue_goal: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    revenue_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    bonus_tier: Mapped[int | None] = mapped_column(SmallInteger)
    days_remaining: Mapped[int | None] = mapped_column(SmallInteger)
    on_pace: Mapped[bool | None] = mapped_column(Boolean)
    pace_indicator: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class GoalAchievement(Base):
    """An achievement, recorded once per rep, type and period (unique, NULLs equal)."""

    __tablename__ = "goal_achievements"
    __table_args__ = (
        UniqueConstraint(
            "sales_rep_id",
            "achievement_type",
            "achievement_year",
            "achievement_month",
            "bonus_tier",
            "milestone",
            name="uq_achievements_once",
            postgresql_nulls_not_distinct=True,
        ),
        Index("idx_achievements_rep_year", "sales_rep_id", "achievement_year"),
        CheckConstraint(_in("achievement_type", ACHIEVEMENT_TYPES), name="achievement_type"),
        CheckConstraint(_month("achievement_month"), name="achievement_month_range"),
        CheckConstraint("achievement_year >= 2024", name="achievement_year_min"),
        CheckConstraint(_tier("bonus_tier"), name="bonus_tier_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sales_rep_id: Mapped[int] = _rep_fk()
    monthly_goal_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("rep_monthly_goals.id", ondelete="SET NULL")
    )
    yearly_goal_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("rep_yearly_goals.id", ondelete="SET NULL")
    )
    achievement_type: Mapped[str] = mapped_column(Text, nullable=False)
    achievement_date: Mapped[date] = mapped_column(Date, nullable=False)
    achievement_month: Mapped[int | None] = mapped_column(SmallInteger)
    achievement_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    goal_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    actual_value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    percent_achieved: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    bonus_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    bonus_tier: Mapped[int | None] = mapped_column(SmallInteger)
    milestone: Mapped[int | None] = mapped_column(SmallInteger)
    recognized: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    recognition_type: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set when a later correction removed the achievement's basis (the row is kept)."""
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    correction_recognition_type: Mapped[str | None] = mapped_column(Text)
    """The channels the revocation of an announced achievement was announced on."""


class GoalDeadlineReminder(Base):
    """One goal-setting reminder per rep, type and month; sent at most once."""

    __tablename__ = "goal_deadline_reminders"
    __table_args__ = (
        UniqueConstraint(
            "sales_rep_id",
            "reminder_type",
            "target_year",
            "target_month",
            name="uq_reminders_rep_type_period",
        ),
        Index("idx_deadline_reminders_sent", "sent", postgresql_where=text("sent = false")),
        CheckConstraint(_in("reminder_type", REMINDER_TYPES), name="reminder_type"),
        CheckConstraint(_month("target_month"), name="target_month_range"),
        CheckConstraint("target_year >= 2024", name="target_year_min"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sales_rep_id: Mapped[int] = _rep_fk()
    reminder_type: Mapped[str] = mapped_column(Text, nullable=False)
    target_month: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    target_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    sent: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class SheetsSyncLog(Base):
    """One row per sync cycle: when, what it did, and why it failed if it did."""

    __tablename__ = "sheets_sync_log"
    __table_args__ = (CheckConstraint(_in("status", SYNC_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cycle_now: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, nullable=False)
    spreadsheet: Mapped[str | None] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    rows_upserted: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    rows_unchanged: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    rows_rejected: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    api_reads: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    api_writes: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    sql_statements: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[Any] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    created_at: Mapped[datetime] = _created()
    unchanged: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    """The cycle found its input, settings, day and data as the last successful one left them, and
    reported that cycle's figures without parsing, storing or computing anything (issue 17)."""


class DataChange(Base):
    """One row per transaction that wrote to a table the cycle's output reads (statement triggers):
    the row count is the source's data version (migration 0004)."""

    __tablename__ = "data_changes"

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AchievementStaleMonth(Base):
    """A month whose achievement basis changed since the achievement job last evaluated it
    (statement triggers add it, the job deletes the row version it read; migration 0005)."""

    __tablename__ = "achievement_stale_months"

    monthly_goal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SyncFingerprint(Base):
    """The last successful cycle's input fingerprint, the data version it left and what it reported."""

    __tablename__ = "sync_fingerprints"

    spreadsheet: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text, nullable=False)
    data_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False)
    problem_count: Mapped[int] = mapped_column(Integer, nullable=False)
    problems: Mapped[Any] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # What the cycle stored, for the next process (migration 0006): the settings/day/code it ran
    # with and a hash of every input row; NULL when the database may not hold every row as read.
    context: Mapped[str | None] = mapped_column(Text)
    stored_rows: Mapped[bytes | None] = mapped_column(LargeBinary)


class LeaderboardSnapshot(Base):
    """A rep's daily leaderboard rank, kept for history."""

    __tablename__ = "leaderboard_snapshots"
    __table_args__ = (UniqueConstraint("snapshot_date", "sales_rep_id", name="uq_leaderboard_rep_date"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    snapshot_date: Mapped[date] = mapped_column(Date, nullable=False)
    sales_rep_id: Mapped[int] = _rep_fk()
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    signups: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    signup_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    revenue_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    bonus_tier: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = _created()


class JobRun(Base):
    """When each scheduled job ran for each scheduled moment (so restarts catch up)."""

    __tablename__ = "job_runs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),)

    job: Mapped[str] = mapped_column(Text, primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class SheetOutputState(Base):
    """What was last written to each output tab, for change detection."""

    __tablename__ = "sheet_output_state"

    spreadsheet: Mapped[str] = mapped_column(Text, primary_key=True)
    tab: Mapped[str] = mapped_column(Text, primary_key=True)
    content_hash: Mapped[str] = mapped_column(Text, nullable=False)
    layout_hash: Mapped[str] = mapped_column(Text, nullable=False)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False)
    column_count: Mapped[int] = mapped_column(Integer, nullable=False)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _created()


class PaceAlert(Base):
    """A rep who turned critical, alerted at most once per local week (``week_start`` = its Monday)."""

    __tablename__ = "pace_alerts"
    __table_args__ = (
        UniqueConstraint("sales_rep_id", "week_start", name="uq_pace_alerts_rep_week"),
        CheckConstraint(_month("goal_month"), name="goal_month_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sales_rep_id: Mapped[int] = _rep_fk()
    week_start: Mapped[date] = mapped_column(Date, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    goal_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    goal_month: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    signup_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    revenue_progress_percent: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    expected_percent: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class DigestDelivery(Base):
    """One weekly digest sent (or tried) to one recipient: a manager's email or a team channel."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("scheduled_for", "recipient", name="uq_digest_deliveries_moment_recipient"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recipient: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


# DESC column indexes need the mapped columns, so they are declared after the classes.
Index(
    "idx_progress_snapshots_rep_date",
    GoalProgressSnapshot.sales_rep_id,
    GoalProgressSnapshot.snapshot_date.desc(),
)
Index(
    "idx_leaderboard_rep_date",
    LeaderboardSnapshot.sales_rep_id,
    LeaderboardSnapshot.snapshot_date.desc(),
)
Index("idx_sync_log_started", SheetsSyncLog.started_at.desc())
# The Charts tab (and the Summary's trend) read a month of daily snapshots every cycle.
Index("idx_progress_snapshots_daily_date", GoalProgressSnapshot.snapshot_date,
      postgresql_where=text("snapshot_type = 'daily'"))

metadata = Base.metadata
