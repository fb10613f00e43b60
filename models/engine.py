"""Which database to use and how to connect to it.

``database_url`` picks the URL (``GOALS_DATABASE_URL`` > ``database.url`` > the
embedded server); ``make_engine`` builds a lazily-connecting engine;
``ping`` and ``store_error`` turn driver failures into ``StoreError`` messages
that never contain the password.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError

from models.errors import ConfigError, StoreError
from models.settings import Settings

ENV_URL = "GOALS_DATABASE_URL"
CONNECT_TIMEOUT_SECONDS = 10
_DRIVER = "postgresql+psycopg"
_POSTGRES_SCHEMES = ("postgres", "postgresql")


def normalise_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver (``postgres://`` and ``postgresql://`` accepted)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise ConfigError("the database URL must look like postgresql://user:password@host:5432/dbname")
    dialect = scheme.split("+", 1)[0].lower()
    if dialect not in _POSTGRES_SCHEMES:
        raise ConfigError(
            f"the database URL uses {dialect!r}; only PostgreSQL is supported (postgresql://…)"
        )
    return f"{_DRIVER}://{rest}"


def safe_url(url: str | URL) -> str:
    """The URL as text with its password masked, for messages and logs."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
        return parsed.render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def url_for_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server (password kept)."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def database_url(settings: Settings) -> str:
    """The database to use: ``GOALS_DATABASE_URL``, else ``database.url``, else the embedded server.

    The embedded server is started on demand under ``database.data_dir`` and left
    running; its ``goals`` database is created if missing.
    """
    from_env = os.environ.get(ENV_URL, "").strip()
    if from_env:
        return normalise_url(from_env)
    configured = settings.database.url.get_secret_value().strip()
    if configured:
        return normalise_url(configured)
    from models.embedded import embedded_url  # only needed (and imported) for the embedded case

    return embedded_url(Path(settings.database.data_dir))


def make_engine(url: str, schema: str | None = None) -> Engine:
    """A pooled engine for ``url``; it connects only when first used.

    ``schema``: every connection works in that schema only (``search_path``), so the same
    unqualified SQL reaches one source's tables; ``None`` or ``public`` leaves the server's
    default search path (what a one-spreadsheet deployment always used).
    """
    connect_args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if schema and schema != "public":
        # Schema names are validated (lowercase letters, digits, underscore): no quoting needed.
        connect_args["options"] = f"-c search_path={schema}"
    try:
        return create_engine(
            normalise_url(url),
            pool_pre_ping=True,
            echo=False,
            hide_parameters=True,
            connect_args=connect_args,
        )
    except ArgumentError as exc:
        raise ConfigError(f"the database URL {safe_url(url)} is not valid: {exc}") from None


def store_error(exc: BaseException, url: str | URL, doing: str = "reach the database") -> StoreError:
    """A ``StoreError`` for ``exc`` naming the database without its password."""
    parsed = url if isinstance(url, URL) else None
    if parsed is None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            parsed = None
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    message = detail[0] if detail else type(exc).__name__
    password = parsed.password if parsed is not None else None
    if password:
        message = message.replace(str(password), "***")
    where = safe_url(parsed) if parsed is not None else "<database>"
    if isinstance(exc, OperationalError | InterfaceError):
        hint = "Check that PostgreSQL is running and that database.url / GOALS_DATABASE_URL is right."
    else:
        hint = "The database refused the statement; `python -m sync db upgrade` brings the schema up to date."
    return StoreError(f"could not {doing} at {where}: {message}. {hint}")


def ping(engine: Engine) -> None:
    """Run ``SELECT 1``; raise ``StoreError`` (password-free) when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise store_error(exc, engine.url) from None
