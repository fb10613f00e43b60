"""Alembic environment, driven programmatically by ``models.migrate``.

A caller may hand over an open connection in ``config.attributes["connection"]``
(tests, the cycle); otherwise a short-lived engine is made from
``sqlalchemy.url``. Migrations take a transaction-level advisory lock first, so
two processes upgrading at once apply each migration exactly once.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, MetaData, create_engine, pool

from models.engine import normalise_url
from models.locks import MIGRATION_LOCK_KEY, wait_for_xact_lock

# Set by models.migrate for a plain upgrade, which never compares the schema with the models: it
# skips building the ORM models (models.tables), about a third of a first migration's time.
UPGRADE_ONLY = "upgrade_only"


def _models() -> MetaData | None:
    """The models' metadata, for ``check`` and ``revision --autogenerate``; None for a plain upgrade."""
    if context.config.attributes.get(UPGRADE_ONLY):
        return None
    from models.tables import metadata

    return metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_models(),
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            wait_for_xact_lock(connection, MIGRATION_LOCK_KEY)
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations against the connection handed over, or a fresh one."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # The alembic CLI (alembic.ini at the repo root) takes the URL from GOALS_DATABASE_URL.
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("GOALS_DATABASE_URL", "")
    if not url:
        raise SystemExit("set GOALS_DATABASE_URL to the database to migrate")
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
