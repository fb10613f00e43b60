"""One PostgreSQL schema per source, and the company-wide roll-up across them.

Each source's tables, triggers, functions and views live in its own schema
(``public`` for the ``default`` source, ``source_<name>`` for the others), created
by the same Alembic migrations run with that schema as the only entry of
``search_path``. The roll-up ``public.v_company_rollup`` is not a migration: the set of
sources comes from config, so the view is (re)built on start-up whenever that set
changes (``refresh_rollup``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from models.engine import store_error
from models.locks import MIGRATION_LOCK_KEY, wait_for_xact_lock

log = logging.getLogger("models.schemas")

ROLLUP_VIEW = "v_company_rollup"
ROLLUP_SOURCE_VIEW = "v_current_month_goals"
def prepare_schema(connection: Connection, schema: str) -> None:
    """Before migrating ``schema``: create it if missing and drop the roll-up view, which
    depends on every source's current-month view (a migration may redefine that view;
    ``refresh_rollup`` builds the roll-up again afterwards). The caller holds the migration lock."""
    if schema != "public":
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f"DROP VIEW IF EXISTS public.{ROLLUP_VIEW}"))


def pin_functions(connection: Connection, schema: str) -> int:
    """Give every non-immutable function of a source schema ``search_path = <schema>``.

    SQL and PL/pgSQL bodies look tables up by the *caller's* search path: without this,
    ``source_emea.v_current_month_goals`` read through the roll-up (or by a person in psql)
    would take the time zone and deadline from ``public.app_settings``. Immutable functions
    read no tables and stay inlinable. Run after every migration (CREATE OR REPLACE clears it).
    """
    if schema == "public":
        return 0  # the default source's own schema is already first in the default search path
    names = connection.execute(text("""
        SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = :schema AND p.prokind = 'f' AND p.provolatile <> 'i'
    """), {"schema": schema}).scalars().all()
    for name in names:
        connection.execute(text(f'ALTER FUNCTION {name} SET search_path = "{schema}", pg_catalog'))
    return len(names)


def refresh_rollup(engine: Engine, sources: Sequence[tuple[str, str]]) -> bool:
    """(Re)build ``public.v_company_rollup``: every source's current month, one row per rep with
    a ``source`` column. ``sources`` are ``(name, schema)`` pairs; a source whose schema has not
    been migrated yet is left out until it is. Returns True when the view was rebuilt.
    """
    try:
        with engine.begin() as connection:
            wait_for_xact_lock(connection, MIGRATION_LOCK_KEY)
            ready = set(connection.execute(text("""
                SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relname = :view AND c.relkind = 'v' AND n.nspname = ANY(:schemas)
            """), {"view": ROLLUP_SOURCE_VIEW, "schemas": [schema for _, schema in sources]}).scalars())
            included = [(name, schema) for name, schema in sources if schema in ready]
            marker = ",".join(f"{name}={schema}" for name, schema in included)
            current = connection.execute(text("SELECT obj_description(to_regclass(:view), 'pg_class')"),
                                         {"view": f"public.{ROLLUP_VIEW}"}).scalar()
            if current == marker:
                return False
            connection.execute(text(f"DROP VIEW IF EXISTS public.{ROLLUP_VIEW}"))
            if not included:
                return True
            parts = [f"SELECT '{name}'::text AS source, v.* FROM \"{schema}\".{ROLLUP_SOURCE_VIEW} v"
                     for name, schema in included]
            connection.execute(text(f"CREATE VIEW public.{ROLLUP_VIEW} AS\n" + "\nUNION ALL\n".join(parts)))
            connection.execute(text(f"COMMENT ON VIEW public.{ROLLUP_VIEW} IS '{marker}'"))
            log.info("company roll-up view rebuilt for sources: %s", ", ".join(n for n, _ in included))
            return True
    except SQLAlchemyError as error:
        raise store_error(error, engine.url, "build the company roll-up view") from None
