"""Migrations: no drift from models/tables.py, exact downgrade, safe concurrent upgrades."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from models.engine import make_engine
from models.errors import StoreError
from models.migrate import alembic_config, check, downgrade, upgrade

ROOT = Path(__file__).resolve().parents[2]


def head_revision() -> str:
    """The newest revision shipped with the code, as Alembic finds it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations in models/migrations/versions"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (``None`` when it has never been migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()

SCHEMA_QUERIES = {
    "columns": """
        SELECT table_name || '.' || column_name, concat_ws(' ', data_type, numeric_precision, numeric_scale,
               is_nullable, column_default, is_generated, generation_expression, is_identity)
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "constraints": """
        SELECT conrelid::regclass || '.' || conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid)
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace""",
    "triggers": """
        SELECT tgrelid::regclass || '.' || tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal""",
}

LEFTOVERS = """
    SELECT 'relation ' || relname FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relname NOT IN ('alembic_version', 'alembic_version_pkc')
    UNION ALL
    SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'type ' || typname FROM pg_type
    WHERE typnamespace = 'public'::regnamespace AND typname NOT IN ('alembic_version', '_alembic_version')
"""


def _schema(url: str) -> dict[str, dict[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                kind: dict(connection.execute(text(query)).all())
                for kind, query in SCHEMA_QUERIES.items()
            }
    finally:
        engine.dispose()


def _scalars(url: str, query: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(test_database_url):
    check(test_database_url)


def test_the_database_is_at_head(engine):
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_downgrade_removes_everything_and_upgrade_recreates_the_same_schema(fresh_db_url):
    before = _schema(fresh_db_url)
    assert set(before["views"]) == {"v_current_month_goals", "v_yearly_goals_summary", "v_goals_needing_setup"}

    downgrade(fresh_db_url)
    assert _scalars(fresh_db_url, LEFTOVERS) == []

    upgrade(fresh_db_url)
    upgrade(fresh_db_url)  # a second upgrade is a no-op
    assert _schema(fresh_db_url) == before
    assert _scalars(fresh_db_url, "SELECT id::text FROM app_settings") == ["1"]


def test_concurrent_upgrades_apply_the_migration_once(fresh_db_url):
    # Two processes (cron overlap, two daemons starting): Alembic's context is process-global,
    # so this needs real processes, not threads.
    downgrade(fresh_db_url)
    script = "import sys; from models.migrate import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", script, fresh_db_url], cwd=ROOT, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    failures = [process.communicate(timeout=60)[1] for process in processes if process.wait(timeout=60) != 0]
    assert failures == []
    assert _scalars(fresh_db_url, "SELECT version_num FROM alembic_version") == [head_revision()]
    assert _scalars(fresh_db_url, "SELECT id::text FROM app_settings") == ["1"]


def test_check_reports_drift(fresh_db_url):
    engine = make_engine(fresh_db_url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE sales_reps ADD COLUMN nickname text"))
    engine.dispose()
    with pytest.raises(StoreError, match="differ"):
        check(fresh_db_url)


def test_upgrade_against_an_unreachable_server_is_a_store_error():
    with pytest.raises(StoreError) as raised:
        upgrade("postgresql://goals:hunter2-secret@127.0.0.1:1/goals")
    assert "hunter2-secret" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def test_the_code_knows_the_head_revision_and_skips_alembic_when_current(test_database_url: str) -> None:
    from models.engine import make_engine
    from models.migrate import SCHEMA_REVISION, is_current

    assert head_revision() == SCHEMA_REVISION
    engine = make_engine(test_database_url)
    try:
        assert is_current(engine)
    finally:
        engine.dispose()


def test_0002_recomputes_stored_percents_and_downgrades_exactly(fresh_db_url):
    """Issue 11: upgrading fixes percents and statuses stored by 0001's rounding; the downgrade
    restores 0001's schema (functions, triggers, columns) exactly, and upgrading again is head."""
    head = _schema(fresh_db_url)
    downgrade(fresh_db_url, "0001")
    at_0001 = _schema(fresh_db_url)
    assert "goal_achievements.revoked_at" not in at_0001["columns"]
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as connection:
            rep = connection.execute(text(
                "INSERT INTO sales_reps (email, name) VALUES ('ana@example.com', 'Ana') RETURNING id")).scalar_one()
            connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, revenue_goal, revenue_actual,
                                               deadline)
                VALUES (:rep, 2026, 11, 1000000, 999950, '2026-11-07T00:00Z')"""), {"rep": rep})
        stored = "SELECT revenue_progress_percent::text || ' ' || status FROM rep_monthly_goals"
        assert _scalars(fresh_db_url, stored) == ["100.00 completed"]  # the rounding bug of 0001
        upgrade(fresh_db_url)
        assert _scalars(fresh_db_url, stored) == ["99.99 active"]
        assert _schema(fresh_db_url) == head
        downgrade(fresh_db_url, "0001")
        assert _schema(fresh_db_url) == at_0001
        assert _scalars(fresh_db_url, stored) == ["100.00 completed"]
        upgrade(fresh_db_url)
        assert _schema(fresh_db_url) == head
    finally:
        engine.dispose()


def test_0005_moves_the_stale_marks_to_their_table_and_back(fresh_db_url):
    """Issue 17: the months the achievement job has still to look at survive the upgrade and the
    downgrade (column ↔ table), and neither touches the goal rows' values or ``updated_at``."""
    head = _schema(fresh_db_url)
    downgrade(fresh_db_url, "0004")
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as connection:
            rep = connection.execute(text(
                "INSERT INTO sales_reps (email, name) VALUES ('ana@example.com', 'Ana') RETURNING id")).scalar_one()
            connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, deadline)
                SELECT :rep, 2026, m, 10, '2026-11-07T00:00Z' FROM generate_series(1, 3) AS m"""), {"rep": rep})
            connection.execute(text("UPDATE rep_monthly_goals SET achievements_stale = (goal_month = 2)"))
        months = "SELECT goal_month::text || ' ' || updated_at::text FROM rep_monthly_goals ORDER BY goal_month"
        before = _scalars(fresh_db_url, months)
        upgrade(fresh_db_url)
        assert _schema(fresh_db_url) == head
        assert _scalars(fresh_db_url, "SELECT g.goal_month::text FROM achievement_stale_months s "
                                      "JOIN rep_monthly_goals g ON g.id = s.monthly_goal_id") == ["2"]
        downgrade(fresh_db_url, "0004")
        assert _scalars(fresh_db_url, "SELECT goal_month::text FROM rep_monthly_goals WHERE achievements_stale") \
            == ["2"]
        assert _scalars(fresh_db_url, months) == before
        upgrade(fresh_db_url)
        assert _schema(fresh_db_url) == head
    finally:
        engine.dispose()
