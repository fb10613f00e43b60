"""A bulk insert that checks its foreign keys once, as a join, instead of once per row.

PostgreSQL checks a foreign key with a lookup per inserted row: for a first load of
48,000 goal rows, two keys cost a third of the whole insert. Its manual ("Populating a
Database") gives the remedy used here: drop the keys, load, add them back. Adding a key
validates every row in one join, so a row the key refuses still fails the insert's
transaction, and the keys are back, with the same names and definitions, before anything
commits: no other session ever sees the table without them.

Dropping a key locks the table and the tables it references against every other session
until the commit. So it is tried only with a short lock timeout: when another session is
using one of them, the insert runs as usual with its per-row checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

# Inserts of this many rows into a table that already holds rows set its keys aside: checking
# them once costs a join over the whole table, cheaper than this many lookups up to a table
# of about twenty times the size.
BULK_ROWS = 5_000
# How long dropping the keys may wait for another session's lock before the insert goes the usual way.
LOCK_TIMEOUT = "200ms"
# lock_not_available (the timeout) and deadlock_detected: someone else is using the tables.
_BUSY = frozenset({"55P03", "40P01"})

_KEYS = text("""
    SELECT current_setting('lock_timeout') AS previous, set_config('lock_timeout', :timeout, true),
           coalesce(array_agg(quote_ident(conname) ORDER BY conname), '{}') AS names,
           coalesce(array_agg(pg_get_constraintdef(oid) ORDER BY conname), '{}') AS definitions
    FROM pg_constraint WHERE conrelid = CAST(:table AS regclass) AND contype = 'f'
""")


@contextmanager
def foreign_keys_checked_once(connection: Connection, table: str) -> Iterator[bool]:
    """Inside: ``table``'s foreign keys are set aside (yields True), or kept because another
    session holds a lock they need (yields False). On leaving they are added back, which checks
    every row; an exception (a refused row included) rolls the block back to where it began."""
    previous, _, names, definitions = connection.execute(_KEYS, {"table": table,
                                                                 "timeout": LOCK_TIMEOUT}).one()

    def restore_timeout() -> None:
        connection.execute(text("SELECT set_config('lock_timeout', :previous, true)"), {"previous": previous})

    if not names:
        restore_timeout()
        yield False
        return
    savepoint = connection.begin_nested()
    try:
        connection.execute(text(f"ALTER TABLE {table} " + ", ".join(f"DROP CONSTRAINT {n}" for n in names)))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) not in _BUSY:
            raise
        savepoint.rollback()
        restore_timeout()
        yield False
        return
    restore_timeout()
    try:
        yield True
        connection.execute(text(f"ALTER TABLE {table} " + ", ".join(
            f"ADD CONSTRAINT {name} {definition}" for name, definition in zip(names, definitions, strict=True))))
    except BaseException:
        savepoint.rollback()  # the keys as they were; the caller's transaction decides the rest
        raise
    savepoint.commit()
