"""The job queue's schema (Procrastinate's) follows the installed Procrastinate.

A worker starting on a database whose queue schema is older applies Procrastinate's shipped
SQL migrations and ends with the very schema a new database gets; an unrecorded schema (made
before the version was recorded) is taken as Procrastinate 3.10.0's; a schema newer than
the code stops the worker with a message saying what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg

from models.engine import make_engine
from models.shared import QUEUE_BASELINE, SharedStore, migration_key
from sync.worker import queue_schema
from tests.cycle.conftest import run_cli
from tests.sources.processes import Worker, wait_for
from tests.sources.test_sources_cli import libpq, rows

OLDER = "03.03.00_01_pre_priority_lock_fetch_job"  # before 3.4.0's 'retried' event and retry_job_v2

CATALOG = """
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '
       || pg_get_function_result(p.oid) || ' body ' || md5(p.prosrc)
FROM pg_proc p WHERE p.pronamespace = %(schema)s::text::regnamespace
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = %(schema)s::text::regnamespace AND c.relkind IN ('r', 'v') AND a.attnum > 0
  AND NOT a.attisdropped
UNION ALL
SELECT 'index ' || indexname || ' ' || replace(indexdef, %(schema)s::text || '.', '')
FROM pg_indexes WHERE schemaname = %(schema)s::text
UNION ALL
SELECT 'trigger ' || t.tgname || ' ' || replace(pg_get_triggerdef(t.oid), %(schema)s::text || '.', '')
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = %(schema)s::text::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
WHERE t.typnamespace = %(schema)s::text::regnamespace GROUP BY t.typname
"""


def catalog(url: str, schema: str) -> set[str]:
    """The schema's functions (with their bodies), columns, indexes, triggers and enum values, named
    without the schema."""
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(f"SET search_path = {schema}")  # types and functions are then named without it
        return {row[0] for row in conn.execute(CATALOG, {"schema": schema}).fetchall()}


def recorded(url: str) -> list[tuple[str, str]]:
    return rows(url, "SELECT migration, procrastinate_version FROM goals_shared.queue_schema")


def prepare(url: str) -> None:
    shared = SharedStore(make_engine(url))
    try:
        shared.prepare(queue_schema())
    finally:
        shared.dispose()


def test_a_worker_upgrades_an_older_queue_schema_to_what_a_new_database_gets(
        fresh_db_url: str, write_config: Callable[..., Path], start_worker: Callable[..., Worker]) -> None:
    queue = queue_schema()
    # The database as an older Procrastinate left it: its migrations up to OLDER, recorded as such.
    SharedStore(make_engine(fresh_db_url)).prepare()  # the shared schema alone
    with psycopg.connect(libpq(fresh_db_url)) as conn:
        conn.execute("CREATE SCHEMA procrastinate")
        for name, sql in queue.migrations:
            if migration_key(name) > migration_key(OLDER):
                break
            conn.execute("SET search_path = procrastinate")
            conn.execute(sql)  # type: ignore[arg-type]
            conn.commit()
        conn.execute("INSERT INTO goals_shared.queue_schema (migration, procrastinate_version) VALUES (%s, '3.3.0')",
                     (OLDER,))
        # What a new database gets, side by side in another schema.
        conn.execute("CREATE SCHEMA fresh_queue")
        conn.execute("SET search_path = fresh_queue")
        conn.execute(queue.schema_sql)  # type: ignore[arg-type]
        conn.commit()
    older = catalog(fresh_db_url, "procrastinate")
    assert not any("retry_job_v2" in item for item in older)

    worker = start_worker(write_config(fresh_db_url), "upgrader")
    wait_for(lambda: "worker upgrader started" in worker.text(), 60, "the worker to start")
    assert recorded(fresh_db_url) == [(queue.latest, queue.version)]
    fresh = catalog(fresh_db_url, "fresh_queue")
    assert len(fresh) > 50 and older != fresh
    assert catalog(fresh_db_url, "procrastinate") == fresh
    log = worker.text()
    assert f"Procrastinate migration {queue.latest} applied" in log
    assert "migration 03.03.00_01" not in log  # only the missing ones
    worker.stop()
    assert worker.process.returncode == 0, worker.text()[-2000:]


def test_a_queue_schema_made_before_versions_were_recorded_is_taken_as_procrastinate_3_10(
        fresh_db_url: str) -> None:
    prepare(fresh_db_url)
    assert recorded(fresh_db_url) == [(queue_schema().latest, "3.10.0")]
    with psycopg.connect(libpq(fresh_db_url)) as conn:
        conn.execute("DROP TABLE goals_shared.queue_schema")
    prepare(fresh_db_url)
    assert recorded(fresh_db_url) == [(QUEUE_BASELINE, "3.10.0")]


def test_a_queue_schema_newer_than_the_code_stops_the_worker_and_db_upgrade_with_what_to_do(
        fresh_db_url: str, write_config: Callable[..., Path]) -> None:
    prepare(fresh_db_url)
    with psycopg.connect(libpq(fresh_db_url)) as conn:
        conn.execute("UPDATE goals_shared.queue_schema SET migration = '04.00.00_01_pre_something_new'")
    config = write_config(fresh_db_url)
    for command in (["worker"], ["db", "upgrade"]):
        done = run_cli(*command, config=config, timeout=60)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "04.00.00_01_pre_something_new, newer than this installation's Procrastinate 3.10.0" in done.stderr
        assert "Traceback" not in done.stderr
    assert recorded(fresh_db_url)[0][0] == "04.00.00_01_pre_something_new"  # nothing was touched
