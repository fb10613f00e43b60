"""Schema migrations (Alembic, driven from code) and the ``app_settings`` row.

``upgrade`` is what ``db upgrade`` and every start-up call; ``check`` runs
``alembic check`` (models and migrations must not drift). No ``alembic.ini`` is
needed: ``alembic_config`` builds the configuration in code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, column, or_, select, table, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from models.engine import make_engine, normalise_url, store_error
from models.errors import StoreError
from models.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session

# Alembic is imported only when a migration has to run: most starts find the schema current.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SCHEMA_REVISION = "0003"
"""The head revision the code expects (a test checks it equals Alembic's head)."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for this project's migrations, bound to ``url`` or an open ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with the code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the initial migration always exists
        raise StoreError("no database migrations found in models/migrations/versions")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (``None`` when it has never been migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(target: Engine | Connection | str, revision: str = "head", *, schema: str = "public") -> None:
    """Apply every migration up to ``revision`` (safe to run concurrently and repeatedly).

    ``target`` is an engine, an open connection (the caller commits) or a URL. ``schema`` is
    the source's schema, which must be the connection's search path (``make_engine(url,
    schema)``): it is created if missing, and its functions are pinned to it afterwards.
    """
    if isinstance(target, Connection):
        try:
            _upgrade_in(target, revision, schema)
        except SQLAlchemyError as exc:
            raise store_error(exc, target.engine.url, "upgrade the database schema") from None
        return
    engine = make_engine(target, schema) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            _upgrade_in(connection, revision, schema)
    except SQLAlchemyError as exc:
        raise store_error(exc, engine.url, "upgrade the database schema") from None
    finally:
        if isinstance(target, str):
            engine.dispose()


def _upgrade_in(connection: Connection, revision: str, schema: str) -> None:
    from alembic import command

    from models.locks import MIGRATION_LOCK_KEY, wait_for_xact_lock
    from models.schemas import pin_functions, prepare_schema

    # The same lock env.py takes (re-entrant within this transaction): the schema is created
    # and the roll-up dropped by one process at a time.
    wait_for_xact_lock(connection, MIGRATION_LOCK_KEY)
    prepare_schema(connection, schema)
    command.upgrade(alembic_config(connection=connection), revision)
    pin_functions(connection, schema)


def is_current(engine: Engine) -> bool:
    """True when the database is already at ``SCHEMA_REVISION`` (one query, no Alembic)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False  # no version table yet (or no rights to read it): let Alembic decide
    return found == [SCHEMA_REVISION]


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to ``revision`` (``base`` drops everything the migrations created)."""
    from alembic import command

    from models.schemas import ROLLUP_VIEW

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP VIEW IF EXISTS public.{ROLLUP_VIEW}"))  # it depends on our views
            command.downgrade(alembic_config(connection=connection), revision)
    except SQLAlchemyError as exc:
        raise store_error(exc, engine.url, "downgrade the database schema") from None
    finally:
        engine.dispose()


def check(url: str) -> None:
    """Run ``alembic check``; raise ``StoreError`` when ``models/tables.py`` and the database differ."""
    from alembic import command
    from alembic.util import AutogenerateDiffsDetected, CommandError

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            command.check(alembic_config(connection=connection))
    except AutogenerateDiffsDetected as exc:
        raise StoreError(f"the database schema and models/tables.py differ: {exc}") from None
    except CommandError as exc:
        raise StoreError(f"alembic check failed: {exc}") from None
    except SQLAlchemyError as exc:
        raise store_error(exc, engine.url, "compare the database schema") from None
    finally:
        engine.dispose()


def app_settings_values(settings: Settings) -> dict[str, object]:
    """The ``app_settings`` columns that mirror ``settings``."""
    pace = settings.goals.pace
    return {
        "timezone": settings.timezone,
        "deadline_day": settings.goals.deadline_day,
        "pace_calendar": pace.calendar,
        "holidays": sorted(set(pace.holidays)),
        "min_elapsed_percent": pace.min_elapsed_percent,
        "pace_ahead": pace.ahead,
        "pace_on_track": pace.on_track,
        "pace_behind": pace.behind,
    }


def write_app_settings(connection: Connection | Session, settings: Settings) -> None:
    """Upsert the ``app_settings`` singleton from config, writing only when a value changed.

    Runs in the caller's transaction (the caller commits). Every cycle calls it, so it names
    its columns in a plain table clause rather than loading the ORM models (``models.tables``).
    """
    values = app_settings_values(settings)
    target = table("app_settings", column("id"), *(column(name) for name in values))
    statement = insert(target).values(id=1, **values)
    changed = [target.c[name].is_distinct_from(statement.excluded[name]) for name in values]
    statement = statement.on_conflict_do_update(
        index_elements=[target.c.id],
        set_={name: statement.excluded[name] for name in values},
        where=or_(*changed),
    )
    connection.execute(statement)


def read_app_settings(connection: Connection | Session) -> dict[str, object] | None:
    """The stored ``app_settings`` values (``None`` before the first migration inserted the row)."""
    from models.tables import AppSettings  # the ORM models: only here, not on every start

    stored = AppSettings.__table__
    row = connection.execute(select(stored).where(stored.c.id == 1)).mappings().first()
    return dict(row) if row is not None else None
