"""Initial schema: tables, helper functions, triggers, views and the app_settings row.

Everything docs/schema.md describes is created here; ``downgrade`` drops it all
again in reverse order (a test checks nothing is left behind).

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# --- helper functions -------------------------------------------------------------------------
# Every function reads the clock through goals_now() so the cycle's --now (set_config('goals.now',
# ..., true)) reaches triggers and views. The boundary rules match models/rules (pace.py,
# progress.py, deadlines.py); tests compare both.
FUNCTIONS: list[tuple[str, str]] = [
    (
        "goals_now()",
        """
CREATE FUNCTION goals_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('goals.now', true), '')::timestamptz, now())
$$""",
    ),
    (
        "goals_tz()",
        """
CREATE FUNCTION goals_tz() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT timezone FROM app_settings WHERE id = 1), 'UTC')
$$""",
    ),
    (
        "goals_today()",
        """
CREATE FUNCTION goals_today() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (goals_now() AT TIME ZONE goals_tz())::date
$$""",
    ),
    (
        "goals_deadline(integer, integer)",
        """
-- The goal-setting deadline of (year, month): the day after deadline_day at 00:00, company time.
CREATE FUNCTION goals_deadline(goal_year integer, goal_month integer) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT (make_date(goal_year, goal_month,
                      coalesce((SELECT deadline_day FROM app_settings WHERE id = 1), 6)) + 1)::timestamp
           AT TIME ZONE goals_tz()
$$""",
    ),
    (
        "goals_month_days(date)",
        """
-- Elapsed and total days of d's month for the pace (today counts as elapsed): calendar days,
-- or with pace_calendar = business, weekdays that are not holidays (a month without any
-- business day falls back to calendar days).
CREATE FUNCTION goals_month_days(d date, OUT elapsed integer, OUT total integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    calendar text;
    off_days date[];
    first_day date := date_trunc('month', d)::date;
    last_day date := (date_trunc('month', d) + interval '1 month - 1 day')::date;
BEGIN
    SELECT pace_calendar, holidays INTO calendar, off_days FROM app_settings WHERE id = 1;
    IF calendar = 'business' THEN
        SELECT count(*) FILTER (WHERE g.day <= d), count(*) INTO elapsed, total
        FROM generate_series(first_day, last_day, interval '1 day') AS g(day)
        WHERE extract(isodow FROM g.day) < 6 AND NOT (g.day::date = ANY (coalesce(off_days, '{}')));
        IF total > 0 THEN
            RETURN;
        END IF;
    END IF;
    elapsed := extract(day FROM d)::integer;
    total := extract(day FROM last_day)::integer;
END
$$""",
    ),
    (
        "goals_expected_percent(date)",
        """
-- Elapsed share of d's month x 100, rounded to 2 decimals (for display; the pace itself is
-- judged exactly by goals_pace_indicator).
CREATE FUNCTION goals_expected_percent(d date) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT round(m.elapsed * 100.0 / m.total, 2) FROM goals_month_days(d) AS m
$$""",
    ),
    (
        "goals_progress_percent(numeric, numeric)",
        """
-- actual / goal x 100 rounded to 2 decimals, not capped at 100; NULL when the goal is NULL or 0.
-- (Bounded at the largest numeric(10,2) so an absurd input cannot abort a whole cycle.)
CREATE FUNCTION goals_progress_percent(actual numeric, goal numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN goal > 0 THEN least(round(coalesce(actual, 0) * 100 / goal, 2), 99999999.99) END
$$""",
    ),
    (
        "goals_all_met(numeric, numeric, numeric, numeric)",
        """
-- At least one goal is set (> 0) and every set goal is at >= 100 %.
CREATE FUNCTION goals_all_met(signup_pct numeric, signup_goal numeric,
                              revenue_pct numeric, revenue_goal numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (coalesce(signup_goal, 0) > 0 OR coalesce(revenue_goal, 0) > 0)
       AND (coalesce(signup_goal, 0) <= 0 OR coalesce(signup_pct >= 100, false))
       AND (coalesce(revenue_goal, 0) <= 0 OR coalesce(revenue_pct >= 100, false))
$$""",
    ),
    (
        "goals_pace_indicator(numeric, numeric, numeric, numeric, date)",
        """
-- NULL without a goal (> 0); 'too_early' while the expected share is 0 or below
-- min_elapsed_percent; else ahead / on_track / behind / critical for the weaker metric that has
-- a goal (a missing percent counts as 0). ratio = pct / (elapsed x 100 / total) >= threshold is
-- decided as pct x total >= threshold x elapsed x 100: exact numeric, no rounding.
CREATE FUNCTION goals_pace_indicator(signup_pct numeric, signup_goal numeric,
                                     revenue_pct numeric, revenue_goal numeric, d date) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cfg app_settings%ROWTYPE;
    m record;
    weakest numeric;
    scaled numeric;
    expected numeric;
BEGIN
    IF coalesce(signup_goal, 0) <= 0 AND coalesce(revenue_goal, 0) <= 0 THEN
        RETURN NULL;
    END IF;
    SELECT * INTO cfg FROM app_settings WHERE id = 1;
    SELECT * INTO m FROM goals_month_days(d);
    IF m.elapsed <= 0 OR m.elapsed * 100 < coalesce(cfg.min_elapsed_percent, 10) * m.total THEN
        RETURN 'too_early';
    END IF;
    weakest := least(
        CASE WHEN coalesce(signup_goal, 0) > 0 THEN coalesce(signup_pct, 0) END,
        CASE WHEN coalesce(revenue_goal, 0) > 0 THEN coalesce(revenue_pct, 0) END
    );
    scaled := weakest * m.total;
    expected := m.elapsed * 100;
    RETURN CASE
        WHEN scaled >= coalesce(cfg.pace_ahead, 1.10) * expected THEN 'ahead'
        WHEN scaled >= coalesce(cfg.pace_on_track, 0.95) * expected THEN 'on_track'
        WHEN scaled >= coalesce(cfg.pace_behind, 0.80) * expected THEN 'behind'
        ELSE 'critical'
    END;
END
$$""",
    ),
    (
        "goals_deadline_status(boolean, timestamptz, boolean, timestamptz, timestamptz)",
        """
-- SPEC.md's deadline status: complete (set by the deadline), overdue (deadline strictly passed,
-- not set by it), pending (row exists, not set, deadline not passed), not_set (no row yet).
CREATE FUNCTION goals_deadline_status(has_row boolean, goal_set_at timestamptz, set_by_deadline boolean,
                                      deadline timestamptz, at_time timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN has_row AND goal_set_at IS NOT NULL AND coalesce(set_by_deadline, false) THEN 'complete'
        WHEN at_time > deadline THEN 'overdue'
        WHEN has_row THEN 'pending'
        ELSE 'not_set'
    END
$$""",
    ),
    # --- trigger functions ---------------------------------------------------------------------
    (
        "goals_monthly_progress()",
        """
CREATE FUNCTION goals_monthly_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.signup_progress_percent := goals_progress_percent(NEW.signups_actual, NEW.signup_goal);
    NEW.revenue_progress_percent := goals_progress_percent(NEW.revenue_actual, NEW.revenue_goal);
    IF NEW.status <> 'archived' AND goals_all_met(NEW.signup_progress_percent, NEW.signup_goal,
                                                  NEW.revenue_progress_percent, NEW.revenue_goal) THEN
        IF NEW.status <> 'completed' OR NEW.completed_at IS NULL THEN
            NEW.completed_at := goals_now();
        END IF;
        NEW.status := 'completed';
    ELSIF NEW.status = 'completed' THEN
        -- corrected below a goal (or the goal was cleared): reopen
        NEW.status := 'active';
        NEW.completed_at := NULL;
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
    IF NEW.status <> 'archived' AND goals_all_met(NEW.yearly_signup_progress_percent, NEW.yearly_signup_goal,
                                                  NEW.yearly_revenue_progress_percent,
                                                  NEW.yearly_revenue_goal) THEN
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
    (
        "goals_touch_updated_at()",
        """
-- Bump updated_at only when the row really changed; an UPDATE that writes identical values
-- keeps the old updated_at. Generated columns (NULL in a BEFORE trigger) are passed as
-- trigger arguments and left out of the comparison.
CREATE FUNCTION goals_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ignored text[] := array_append(coalesce(TG_ARGV, '{}'), 'updated_at');  -- TG_ARGV is NULL without arguments
BEGIN
    IF (to_jsonb(NEW) - ignored) IS DISTINCT FROM (to_jsonb(OLD) - ignored) THEN
        NEW.updated_at := now();
    ELSE
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END
$$""",
    ),
]

# BEFORE triggers fire in name order: the updated_at trigger is named to run after the progress
# triggers so it sees their results.
TOUCH_TRIGGER = "trg_zz_updated_at"
TOUCHED_TABLES: dict[str, tuple[str, ...]] = {
    "app_settings": (),
    "users": (),
    "sales_reps": (),
    "rep_monthly_goals": (),
    "rep_yearly_goals": ("monthly_signup_target", "monthly_revenue_target"),
    "goal_deadline_reminders": (),
}
PROGRESS_TRIGGERS: list[tuple[str, str, str]] = [
    ("trg_monthly_goals_progress", "rep_monthly_goals", "goals_monthly_progress"),
    ("trg_yearly_goals_progress", "rep_yearly_goals", "goals_yearly_progress"),
]

# --- views -------------------------------------------------------------------------------------
VIEWS: list[tuple[str, str]] = [
    (
        "v_current_month_goals",
        """
CREATE VIEW v_current_month_goals AS
WITH period AS (
    SELECT t.today,
           t.now,
           extract(year FROM t.today)::integer AS year,
           extract(month FROM t.today)::integer AS month,
           extract(day FROM t.today)::integer AS day,
           extract(day FROM date_trunc('month', t.today) + interval '1 month - 1 day')::integer AS month_days,
           goals_expected_percent(t.today) AS expected_percent,
           goals_tz() AS tz
    FROM (SELECT goals_today() AS today, goals_now() AS now) AS t
)
SELECT
    r.id AS sales_rep_id,
    r.name AS rep_name,
    r.email,
    r.team,
    r.title,
    r.monthly_signup_goal AS default_monthly_signup_goal,
    r.yearly_signup_goal AS default_yearly_signup_goal,
    r.goal_progress,
    r.current_bonus_tier,
    g.id AS goal_id,
    p.year AS goal_year,
    p.month AS goal_month,
    g.signup_goal,
    g.signups_actual,
    g.signup_progress_percent,
    g.revenue_goal,
    g.revenue_actual,
    g.revenue_progress_percent,
    g.bonus_tier_goal,
    g.bonus_tier_actual,
    g.bonus_triggered,
    g.bonus_amount,
    g.set_by_deadline,
    g.goal_set_at,
    g.goal_set_by,
    coalesce(g.deadline, goals_deadline(p.year, p.month)) AS deadline,
    g.status,
    g.completed_at,
    g.created_at,
    g.updated_at,
    p.today,
    p.expected_percent,
    p.month_days - p.day AS days_left,
    CASE WHEN g.id IS NOT NULL THEN
        goals_pace_indicator(g.signup_progress_percent, g.signup_goal,
                             g.revenue_progress_percent, g.revenue_goal, p.today)
    END AS health_status,
    goals_deadline_status(g.id IS NOT NULL, g.goal_set_at, g.set_by_deadline,
                          coalesce(g.deadline, goals_deadline(p.year, p.month)), p.now) AS deadline_status,
    (coalesce(g.deadline, goals_deadline(p.year, p.month)) AT TIME ZONE p.tz)::date - p.today
        AS days_until_deadline
FROM sales_reps AS r
CROSS JOIN period AS p
LEFT JOIN rep_monthly_goals AS g
    ON g.sales_rep_id = r.id AND g.goal_year = p.year AND g.goal_month = p.month
WHERE r.is_active""",
    ),
    (
        "v_yearly_goals_summary",
        """
CREATE VIEW v_yearly_goals_summary AS
WITH period AS (
    SELECT t.today,
           extract(year FROM t.today)::integer AS year,
           extract(month FROM t.today)::integer AS current_month
    FROM (SELECT goals_today() AS today) AS t
)
SELECT
    r.id AS sales_rep_id,
    r.name AS rep_name,
    r.email,
    r.team,
    r.title,
    r.monthly_signup_goal AS default_monthly_signup_goal,
    r.yearly_signup_goal AS default_yearly_signup_goal,
    r.goal_progress,
    r.current_bonus_tier,
    y.id AS goal_id,
    p.year AS goal_year,
    y.yearly_signup_goal,
    y.yearly_signups_actual,
    y.yearly_signup_progress_percent,
    y.yearly_revenue_goal,
    y.yearly_revenue_actual,
    y.yearly_revenue_progress_percent,
    y.monthly_signup_target,
    y.monthly_revenue_target,
    y.status,
    y.completed_at,
    y.goal_set_at,
    y.goal_set_by,
    y.created_at,
    y.updated_at,
    p.today,
    p.current_month,
    12 - p.current_month AS months_remaining,
    y.monthly_signup_target * p.current_month AS expected_signups_by_now,
    y.monthly_revenue_target * p.current_month AS expected_revenue_by_now,
    CASE
        WHEN coalesce(y.monthly_signup_target, 0) <= 0 THEN NULL
        WHEN y.yearly_signups_actual >= y.monthly_signup_target * p.current_month THEN 'On Pace'
        ELSE 'Behind Pace'
    END AS pace_status
FROM sales_reps AS r
CROSS JOIN period AS p
LEFT JOIN rep_yearly_goals AS y ON y.sales_rep_id = r.id AND y.goal_year = p.year
WHERE r.is_active""",
    ),
    (
        "v_goals_needing_setup",
        """
CREATE VIEW v_goals_needing_setup AS
WITH period AS (
    SELECT t.today,
           t.now,
           extract(year FROM t.today)::integer AS year,
           extract(month FROM t.today)::integer AS month,
           goals_tz() AS tz
    FROM (SELECT goals_today() AS today, goals_now() AS now) AS t
), setup AS (
    SELECT
        r.id AS sales_rep_id,
        r.name AS rep_name,
        r.email,
        r.team,
        r.title,
        r.monthly_signup_goal AS default_monthly_signup_goal,
        r.yearly_signup_goal AS default_yearly_signup_goal,
        g.id AS goal_id,
        p.year AS goal_year,
        p.month AS goal_month,
        coalesce(g.deadline, goals_deadline(p.year, p.month)) AS deadline,
        g.goal_set_at,
        g.set_by_deadline,
        goals_deadline_status(g.id IS NOT NULL, g.goal_set_at, g.set_by_deadline,
                              coalesce(g.deadline, goals_deadline(p.year, p.month)), p.now) AS deadline_status,
        (coalesce(g.deadline, goals_deadline(p.year, p.month)) AT TIME ZONE p.tz)::date - p.today
            AS days_until_deadline
    FROM sales_reps AS r
    CROSS JOIN period AS p
    LEFT JOIN rep_monthly_goals AS g
        ON g.sales_rep_id = r.id AND g.goal_year = p.year AND g.goal_month = p.month
    WHERE r.is_active
)
SELECT * FROM setup WHERE deadline_status <> 'complete'""",
    ),
]


def upgrade() -> None:
    """Create the tables, then the functions, triggers, views and the app_settings row."""
    _create_tables()
    for _signature, ddl in FUNCTIONS:
        op.execute(ddl)
    for trigger, table, function in PROGRESS_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    for table, generated in TOUCHED_TABLES.items():
        arguments = ", ".join(f"'{column}'" for column in generated)
        op.execute(
            f"CREATE TRIGGER {TOUCH_TRIGGER} BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION goals_touch_updated_at({arguments})"
        )
    for _name, ddl in VIEWS:
        op.execute(ddl)
    op.execute("INSERT INTO app_settings (id) VALUES (1)")


def downgrade() -> None:
    """Drop everything ``upgrade`` created, in reverse order."""
    for name, _ddl in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    for table in reversed(TOUCHED_TABLES):
        op.execute(f"DROP TRIGGER {TOUCH_TRIGGER} ON {table}")
    for trigger, table, _function in reversed(PROGRESS_TRIGGERS):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for signature, _ddl in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
    _drop_tables()


def _create_tables() -> None:
    op.create_table('app_settings',
    sa.Column('id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('timezone', sa.Text(), server_default=sa.text("'UTC'"), nullable=False),
    sa.Column('deadline_day', sa.SmallInteger(), server_default=sa.text('6'), nullable=False),
    sa.Column('pace_calendar', sa.Text(), server_default=sa.text("'calendar'"), nullable=False),
    sa.Column('holidays', postgresql.ARRAY(sa.Date()), server_default=sa.text("'{}'::date[]"), nullable=False),
    sa.Column('min_elapsed_percent', sa.Numeric(), server_default=sa.text('10'), nullable=False),
    sa.Column('pace_ahead', sa.Numeric(), server_default=sa.text('1.10'), nullable=False),
    sa.Column('pace_on_track', sa.Numeric(), server_default=sa.text('0.95'), nullable=False),
    sa.Column('pace_behind', sa.Numeric(), server_default=sa.text('0.80'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("pace_calendar IN ('calendar', 'business')", name=op.f('ck_app_settings_pace_calendar')),
    sa.CheckConstraint('deadline_day BETWEEN 1 AND 28', name=op.f('ck_app_settings_deadline_day_range')),
    sa.CheckConstraint('id = 1', name=op.f('ck_app_settings_singleton')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_settings'))
    )
    op.create_table('job_runs',
    sa.Column('job', sa.Text(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('running', 'success', 'failed')", name=op.f('ck_job_runs_status')),
    sa.PrimaryKeyConstraint('job', 'scheduled_for', name=op.f('pk_job_runs'))
    )
    op.create_table('sheet_output_state',
    sa.Column('spreadsheet', sa.Text(), nullable=False),
    sa.Column('tab', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.Text(), nullable=False),
    sa.Column('layout_hash', sa.Text(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('column_count', sa.Integer(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('spreadsheet', 'tab', name=op.f('pk_sheet_output_state'))
    )
    op.create_table('sheets_sync_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cycle_now', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('spreadsheet', sa.Text(), nullable=True),
    sa.Column('rows_read', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('rows_upserted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('api_reads', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('api_writes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('sql_statements', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('problems', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('running', 'success', 'partial', 'failed', 'skipped', 'dry_run')", name=op.f('ck_sheets_sync_log_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sheets_sync_log'))
    )
    op.create_index('idx_sync_log_started', 'sheets_sync_log', [sa.literal_column('started_at DESC')], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'manager', 'rep', 'system')", name=op.f('ck_users_role')),
    sa.CheckConstraint('email = lower(btrim(email))', name=op.f('ck_users_email_lower')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('sales_reps',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('team', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('monthly_signup_goal', sa.Integer(), nullable=True),
    sa.Column('yearly_signup_goal', sa.Integer(), nullable=True),
    sa.Column('goal_progress', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('current_bonus_tier', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('current_bonus_tier BETWEEN 0 AND 6', name=op.f('ck_sales_reps_current_bonus_tier_range')),
    sa.CheckConstraint('email = lower(btrim(email))', name=op.f('ck_sales_reps_email_lower')),
    sa.CheckConstraint('monthly_signup_goal >= 0', name=op.f('ck_sales_reps_monthly_signup_goal_nonneg')),
    sa.CheckConstraint('yearly_signup_goal >= 0', name=op.f('ck_sales_reps_yearly_signup_goal_nonneg')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sales_reps_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_reps')),
    sa.UniqueConstraint('email', name=op.f('uq_sales_reps_email'))
    )
    op.create_table('goal_deadline_reminders',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('sales_rep_id', sa.Integer(), nullable=False),
    sa.Column('reminder_type', sa.Text(), nullable=False),
    sa.Column('target_month', sa.SmallInteger(), nullable=False),
    sa.Column('target_year', sa.SmallInteger(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('sent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("reminder_type IN ('goal_deadline_3days', 'goal_deadline_1day', 'goal_deadline_day', 'goal_overdue')", name=op.f('ck_goal_deadline_reminders_reminder_type')),
    sa.CheckConstraint('target_month BETWEEN 1 AND 12', name=op.f('ck_goal_deadline_reminders_target_month_range')),
    sa.CheckConstraint('target_year >= 2024', name=op.f('ck_goal_deadline_reminders_target_year_min')),
    sa.ForeignKeyConstraint(['sales_rep_id'], ['sales_reps.id'], name=op.f('fk_goal_deadline_reminders_sales_rep_id_sales_reps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_deadline_reminders')),
    sa.UniqueConstraint('sales_rep_id', 'reminder_type', 'target_year', 'target_month', name='uq_reminders_rep_type_period')
    )
    op.create_index('idx_deadline_reminders_sent', 'goal_deadline_reminders', ['sent'], unique=False, postgresql_where=sa.text('sent = false'))
    op.create_table('leaderboard_snapshots',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('snapshot_date', sa.Date(), nullable=False),
    sa.Column('sales_rep_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('signups', sa.Numeric(precision=8, scale=1), nullable=True),
    sa.Column('revenue', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('signup_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('revenue_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('bonus_tier', sa.SmallInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['sales_rep_id'], ['sales_reps.id'], name=op.f('fk_leaderboard_snapshots_sales_rep_id_sales_reps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaderboard_snapshots')),
    sa.UniqueConstraint('snapshot_date', 'sales_rep_id', name='uq_leaderboard_rep_date')
    )
    op.create_index('idx_leaderboard_rep_date', 'leaderboard_snapshots', ['sales_rep_id', sa.literal_column('snapshot_date DESC')], unique=False)
    op.create_table('rep_monthly_goals',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('sales_rep_id', sa.Integer(), nullable=False),
    sa.Column('goal_year', sa.SmallInteger(), nullable=False),
    sa.Column('goal_month', sa.SmallInteger(), nullable=False),
    sa.Column('signup_goal', sa.Integer(), nullable=True),
    sa.Column('signups_actual', sa.Numeric(precision=8, scale=1), server_default=sa.text('0'), nullable=False),
    sa.Column('signup_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('revenue_goal', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('revenue_actual', sa.Numeric(precision=14, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('revenue_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('bonus_tier_goal', sa.SmallInteger(), nullable=True),
    sa.Column('bonus_tier_actual', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('bonus_triggered', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('bonus_amount', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('set_by_deadline', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('goal_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('goal_set_by', sa.Uuid(), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'completed', 'missed', 'archived')", name=op.f('ck_rep_monthly_goals_status')),
    sa.CheckConstraint('bonus_tier_actual BETWEEN 0 AND 6', name=op.f('ck_rep_monthly_goals_bonus_tier_actual_range')),
    sa.CheckConstraint('bonus_tier_goal BETWEEN 0 AND 6', name=op.f('ck_rep_monthly_goals_bonus_tier_goal_range')),
    sa.CheckConstraint('goal_month BETWEEN 1 AND 12', name=op.f('ck_rep_monthly_goals_goal_month_range')),
    sa.CheckConstraint('goal_year >= 2024', name=op.f('ck_rep_monthly_goals_goal_year_min')),
    sa.CheckConstraint('revenue_actual >= 0', name=op.f('ck_rep_monthly_goals_revenue_actual_nonneg')),
    sa.CheckConstraint('revenue_goal >= 0', name=op.f('ck_rep_monthly_goals_revenue_goal_nonneg')),
    sa.CheckConstraint('signup_goal >= 0', name=op.f('ck_rep_monthly_goals_signup_goal_nonneg')),
    sa.CheckConstraint('signups_actual >= 0', name=op.f('ck_rep_monthly_goals_signups_actual_nonneg')),
    sa.ForeignKeyConstraint(['goal_set_by'], ['users.id'], name=op.f('fk_rep_monthly_goals_goal_set_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sales_rep_id'], ['sales_reps.id'], name=op.f('fk_rep_monthly_goals_sales_rep_id_sales_reps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_monthly_goals')),
    sa.UniqueConstraint('sales_rep_id', 'goal_year', 'goal_month', name='idx_monthly_goals_rep_period')
    )
    op.create_index('idx_monthly_goals_deadline', 'rep_monthly_goals', ['deadline'], unique=False)
    op.create_table('rep_yearly_goals',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('sales_rep_id', sa.Integer(), nullable=False),
    sa.Column('goal_year', sa.SmallInteger(), nullable=False),
    sa.Column('yearly_signup_goal', sa.Integer(), nullable=True),
    sa.Column('yearly_signups_actual', sa.Numeric(precision=10, scale=1), server_default=sa.text('0'), nullable=False),
    sa.Column('yearly_signup_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('yearly_revenue_goal', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('yearly_revenue_actual', sa.Numeric(precision=16, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('yearly_revenue_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('monthly_signup_target', sa.Numeric(precision=12, scale=2), sa.Computed('round(yearly_signup_goal::numeric / 12, 2)', persisted=True), nullable=True),
    sa.Column('monthly_revenue_target', sa.Numeric(precision=14, scale=2), sa.Computed('round(yearly_revenue_goal / 12, 2)', persisted=True), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('goal_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('goal_set_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'completed', 'missed', 'archived')", name=op.f('ck_rep_yearly_goals_status')),
    sa.CheckConstraint('goal_year >= 2024', name=op.f('ck_rep_yearly_goals_goal_year_min')),
    sa.CheckConstraint('yearly_revenue_actual >= 0', name=op.f('ck_rep_yearly_goals_yearly_revenue_actual_nonneg')),
    sa.CheckConstraint('yearly_revenue_goal >= 0', name=op.f('ck_rep_yearly_goals_yearly_revenue_goal_nonneg')),
    sa.CheckConstraint('yearly_signup_goal >= 0', name=op.f('ck_rep_yearly_goals_yearly_signup_goal_nonneg')),
    sa.CheckConstraint('yearly_signups_actual >= 0', name=op.f('ck_rep_yearly_goals_yearly_signups_actual_nonneg')),
    sa.ForeignKeyConstraint(['goal_set_by'], ['users.id'], name=op.f('fk_rep_yearly_goals_goal_set_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sales_rep_id'], ['sales_reps.id'], name=op.f('fk_rep_yearly_goals_sales_rep_id_sales_reps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_yearly_goals')),
    sa.UniqueConstraint('sales_rep_id', 'goal_year', name='uq_yearly_goals_rep_year')
    )
    op.create_table('goal_achievements',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('sales_rep_id', sa.Integer(), nullable=False),
    sa.Column('monthly_goal_id', sa.Integer(), nullable=True),
    sa.Column('yearly_goal_id', sa.Integer(), nullable=True),
    sa.Column('achievement_type', sa.Text(), nullable=False),
    sa.Column('achievement_date', sa.Date(), nullable=False),
    sa.Column('achievement_month', sa.SmallInteger(), nullable=True),
    sa.Column('achievement_year', sa.SmallInteger(), nullable=False),
    sa.Column('goal_value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('actual_value', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('percent_achieved', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('bonus_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('bonus_tier', sa.SmallInteger(), nullable=True),
    sa.Column('milestone', sa.SmallInteger(), nullable=True),
    sa.Column('recognized', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('recognition_type', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("achievement_type IN ('monthly_signup_goal', 'monthly_revenue_goal', 'yearly_signup_goal', 'yearly_revenue_goal', 'bonus_tier_unlocked', 'streak_milestone', 'perfect_month')", name=op.f('ck_goal_achievements_achievement_type')),
    sa.CheckConstraint('achievement_month BETWEEN 1 AND 12', name=op.f('ck_goal_achievements_achievement_month_range')),
    sa.CheckConstraint('achievement_year >= 2024', name=op.f('ck_goal_achievements_achievement_year_min')),
    sa.CheckConstraint('bonus_tier BETWEEN 0 AND 6', name=op.f('ck_goal_achievements_bonus_tier_range')),
    sa.ForeignKeyConstraint(['monthly_goal_id'], ['rep_monthly_goals.id'], name=op.f('fk_goal_achievements_monthly_goal_id_rep_monthly_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sales_rep_id'], ['sales_reps.id'], name=op.f('fk_goal_achievements_sales_rep_id_sales_reps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['yearly_goal_id'], ['rep_yearly_goals.id'], name=op.f('fk_goal_achievements_yearly_goal_id_rep_yearly_goals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_achievements')),
    sa.UniqueConstraint('sales_rep_id', 'achievement_type', 'achievement_year', 'achievement_month', 'bonus_tier', 'milestone', name='uq_achievements_once', postgresql_nulls_not_distinct=True)
    )
    op.create_index('idx_achievements_rep_year', 'goal_achievements', ['sales_rep_id', 'achievement_year'], unique=False)
    op.create_table('goal_progress_snapshots',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('sales_rep_id', sa.Integer(), nullable=False),
    sa.Column('snapshot_date', sa.Date(), nullable=False),
    sa.Column('snapshot_type', sa.Text(), nullable=False),
    sa.Column('monthly_goal_id', sa.Integer(), nullable=True),
    sa.Column('signups_to_date', sa.Numeric(precision=8, scale=1), nullable=True),
    sa.Column('signup_goal', sa.Integer(), nullable=True),
    sa.Column('signup_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('revenue_to_date', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('revenue_goal', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('revenue_progress_percent', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('bonus_tier', sa.SmallInteger(), nullable=True),
    sa.Column('days_remaining', sa.SmallInteger(), nullable=True),
    sa.Column('on_pace', sa.Boolean(), nullable=True),
    sa.Column('pace_indicator', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("pace_indicator IN ('ahead', 'on_track', 'behind', 'critical')", name=op.f('ck_goal_progress_snapshots_pace_indicator')),
    sa.CheckConstraint("snapshot_type IN ('daily', 'weekly', 'monthly')", name=op.f('ck_goal_progress_snapshots_snapshot_type')),
    sa.CheckConstraint('bonus_tier BETWEEN 0 AND 6', name=op.f('ck_goal_progress_snapshots_bonus_tier_range')),
    sa.ForeignKeyConstraint(['monthly_goal_id'], ['rep_monthly_goals.id'], name=op.f('fk_goal_progress_snapshots_monthly_goal_id_rep_monthly_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sales_rep_id'], ['sales_reps.id'], name=op.f('fk_goal_progress_snapshots_sales_rep_id_sales_reps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_progress_snapshots')),
    sa.UniqueConstraint('sales_rep_id', 'snapshot_date', 'snapshot_type', name='uq_snapshots_rep_date_type')
    )
    op.create_index('idx_progress_snapshots_rep_date', 'goal_progress_snapshots', ['sales_rep_id', sa.literal_column('snapshot_date DESC')], unique=False)


def _drop_tables() -> None:
    op.drop_index('idx_progress_snapshots_rep_date', table_name='goal_progress_snapshots')
    op.drop_table('goal_progress_snapshots')
    op.drop_index('idx_achievements_rep_year', table_name='goal_achievements')
    op.drop_table('goal_achievements')
    op.drop_table('rep_yearly_goals')
    op.drop_index('idx_monthly_goals_deadline', table_name='rep_monthly_goals')
    op.drop_table('rep_monthly_goals')
    op.drop_index('idx_leaderboard_rep_date', table_name='leaderboard_snapshots')
    op.drop_table('leaderboard_snapshots')
    op.drop_index('idx_deadline_reminders_sent', table_name='goal_deadline_reminders', postgresql_where=sa.text('sent = false'))
    op.drop_table('goal_deadline_reminders')
    op.drop_table('sales_reps')
    op.drop_table('users')
    op.drop_index('idx_sync_log_started', table_name='sheets_sync_log')
    op.drop_table('sheets_sync_log')
    op.drop_table('sheet_output_state')
    op.drop_table('job_runs')
    op.drop_table('app_settings')
