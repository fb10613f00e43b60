"""A fresh, empty database for each benchmark sequence, dropped afterwards.

On the server of ``GOALS_DATABASE_URL`` when it is set (the role needs
CREATEDB; the database the URL names is never touched), else on the embedded
PostgreSQL under ``var/bench-pgdata`` (started on first use and left running,
as the product leaves its own).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from models.engine import ENV_URL, normalise_url, url_for_database

ROOT = Path(__file__).resolve().parent.parent
BENCH_PGDATA = ROOT / "var" / "bench-pgdata"
_names = itertools.count(1)


def server_url() -> str:
    """An admin URL (``postgresql+psycopg://``) of the server the benchmark uses."""
    configured = os.environ.get(ENV_URL, "").strip()
    if configured:
        return normalise_url(configured)
    from models.embedded import start_server

    return start_server(BENCH_PGDATA)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def fresh_database(admin_url: str, label: str) -> Iterator[str]:
    """Create ``goals_bench_<pid>_<n>_<label>``, yield its URL, drop it (even after a failure)."""
    name = f"goals_bench_{os.getpid()}_{next(_names)}_{label}"
    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_for_database(admin_url, name)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def last_cycle(url: str) -> dict[str, int | float | str]:
    """The newest ``sheets_sync_log`` row's counters (what ``run --once`` recorded), with the
    cycle's own ``seconds`` (its ``finished_at`` is its clock plus the time it took)."""
    with psycopg.connect(_libpq(url), connect_timeout=10) as conn:
        row = conn.execute("""
            SELECT status, rows_read, rows_upserted, rows_rejected, api_reads, api_writes, sql_statements,
                   extract(epoch FROM finished_at - started_at)::float8, unchanged
            FROM sheets_sync_log ORDER BY id DESC LIMIT 1
        """).fetchone()
    if row is None:
        return {}
    keys = ("status", "rows_read", "rows_upserted", "rows_rejected", "api_reads", "api_writes",
            "sql_statements", "seconds", "unchanged")
    return dict(zip(keys, row, strict=True))
