"""Fixtures of the benchmark's count tests: a second fresh database (sizes are compared side by side)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url


@pytest.fixture
def second_fresh_db_url(database_server_url: str, _template_database: str) -> Iterator[str]:
    """Like ``fresh_db_url``: another new migrated database for this test, dropped afterwards."""
    name = _template_database.removesuffix("template") + "bench_second"
    admin = database_server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                     sql.Identifier(_template_database)))
    yield make_url(database_server_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
