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
from models.redact import mask_secrets
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
    """The URL as text with its password masked (``user:password@`` and ``?password=`` alike),
    for messages and logs."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
        return mask_secrets(parsed.render_as_string(hide_password=True), _passwords(parsed))
    except (ArgumentError, ValueError):
        return mask_secrets(str(url), ()) if isinstance(url, str) else "<unparseable database URL>"


def _passwords(url: URL) -> list[str]:
    """The password of ``url`` wherever it is written: user info or ``password=`` query items."""
    found = [str(url.password)] if url.password else []
    query = url.query.get("password")
    found += [query] if isinstance(query, str) else list(query or ())
    return found


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
    # No JIT compilation: the standings query's estimated cost (a window over every completed
    # month) passes PostgreSQL's jit_above_cost, and compiling it took 2.6 s of a 2.8 s query
    # on a 2,000-rep sheet that returns 2,000 rows. No statement here runs long enough to repay it.
    options = ["-c jit=off"]
    if schema and schema != "public":
        # Schema names are validated (lowercase letters, digits, underscore): no quoting needed.
        options.append(f"-c search_path={schema}")
    connect_args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": " ".join(options)}
    try:
        parsed = make_url(normalise_url(url))
    except ValueError:  # make_url's int() of a port such as "abc"
        raise ConfigError(
            f"the database URL {safe_url(url)} is not valid: the port (after host:) must be a number, "
            "e.g. postgresql://user:password@host:5432/dbname") from None
    except ArgumentError:
        raise ConfigError(f"the database URL {safe_url(url)} is not valid: it must look like "
                          "postgresql://user:password@host:5432/dbname") from None
    try:
        return create_engine(
            parsed,
            pool_pre_ping=True,
            echo=False,
            hide_parameters=True,
            connect_args=connect_args,
        )
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"the database URL {safe_url(url)} is not valid: "
                          f"{mask_secrets(str(exc), _passwords(parsed))}") from None


def store_error(exc: BaseException, url: str | URL, doing: str = "reach the database") -> StoreError:
    """A ``StoreError`` for ``exc`` naming the database without its password."""
    parsed = url if isinstance(url, URL) else None
    if parsed is None:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            parsed = None
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    message = mask_secrets(detail[0] if detail else type(exc).__name__,
                           _passwords(parsed) if parsed is not None else ())
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
