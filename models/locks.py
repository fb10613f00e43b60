"""Every PostgreSQL advisory lock the project takes: its key and the one way each is taken.

One-key locks (the cycle, migrations) and two-key locks (named jobs, the Sheets quota per
account) live in separate lock spaces in PostgreSQL, so the keys below never collide.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from models.engine import store_error
from models.settings import DEFAULT_SOURCE

if TYPE_CHECKING:
    from models.store import Store

CYCLE_LOCK_KEY = 0x676F616C73  # "goals": the default source's key; other sources hash their name in
MIGRATION_LOCK_KEY = 0x676F616C6D696772
"""The key ``models/migrations/env.py`` takes; the roll-up is rebuilt under it too, so it never
races a migration that redefines a source's view."""
JOB_LOCK_NAMESPACE = 0x676F616C  # "goal": two-key locks, one per job name
QUOTA_LOCK_NAMESPACE = 0x71756F74  # "quot": two-key locks, one per service account (taken in SQL)


def lock_key(base: int, source: str) -> int:
    """An advisory lock key for ``source``: ``base`` itself for the default source (so processes
    of an older version and this one still exclude each other), a stable 63-bit hash otherwise."""
    if source == DEFAULT_SOURCE:
        return base
    digest = hashlib.blake2b(f"{base}:{source}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def wait_for_xact_lock(connection: Connection, key: int) -> None:
    """Wait for the one-key lock ``key``; it is released when the connection's transaction ends."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@contextmanager
def hold_session_lock(connection: Connection, key: int) -> Iterator[None]:
    """Hold the one-key lock ``key`` across several transactions of ``connection`` (steps that
    must each commit); released at the end, or when the session dies."""
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    connection.commit()
    try:
        yield
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()


def try_xact_lock(connection: Connection, key: int) -> bool:
    """Take the one-key lock ``key`` until the transaction ends; False when another session has it."""
    return bool(connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())


@contextmanager
def job_lock(store: Store, job: str) -> Iterator[bool]:
    """Hold a session advisory lock for ``job`` while the block runs; yields False (and holds
    nothing) when another process is running the same job. The lock dies with the session,
    so a killed process never leaves a job blocked."""
    try:
        connection = store.engine.connect()
        got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:ns, hashtext(:job))"),
                                      {"ns": JOB_LOCK_NAMESPACE, "job": store.lock_name(job)}).scalar())
        connection.commit()
    except SQLAlchemyError as error:
        raise store_error(error, store.engine.url) from None
    try:
        yield got
    finally:
        try:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:job))"),
                                   {"ns": JOB_LOCK_NAMESPACE, "job": store.lock_name(job)})
                connection.commit()
        except SQLAlchemyError:
            pass  # closing the connection releases it anyway
        finally:
            connection.close()
