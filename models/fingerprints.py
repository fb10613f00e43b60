"""What the last successful cycle saw, so that the next one, in any process, can tell nothing changed.

A cycle is *unchanged* when the spreadsheet answered the same bytes, with the same settings,
on the same local day, with the same code, and no transaction wrote to a table its output
reads since (the *data version*: the row count of ``data_changes``, one row per writing
transaction, inserted by statement triggers; migration 0004). The last successful cycle's
fingerprint, the data version it left and what it reported are one ``sync_fingerprints`` row
per spreadsheet. One statement per unchanged cycle (the check), one more after a cycle that did
the work (the save), and now and then one that empties ``data_changes``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from models.values import Problem

_PROBLEM_FIELDS = ("tab", "cell", "email", "value", "problem")
PRUNE_ABOVE = 1000
"""``data_changes`` rows a cycle lets pile up before it empties the table (one statement then)."""


@dataclass(frozen=True)
class LastCycle:
    """The last successful cycle's fingerprint, the data version it left, and what it reported."""

    fingerprint: str
    data_version: int
    status: str
    rows_read: int
    problem_count: int
    problems: tuple[Problem, ...]


def last_cycle(connection: Connection, spreadsheet: str) -> tuple[LastCycle | None, int]:
    """The last successful cycle of ``spreadsheet`` (None before the first) and the data version now."""
    row = connection.execute(text("""
        SELECT (SELECT count(*) FROM data_changes) AS version, f.fingerprint, f.data_version, f.status,
               f.rows_read, f.problem_count, f.problems
        FROM (SELECT 1) AS one LEFT JOIN sync_fingerprints f ON f.spreadsheet = :spreadsheet
    """), {"spreadsheet": spreadsheet}).one()
    if row.fingerprint is None:
        return None, int(row.version)
    problems = tuple(Problem(**{k: str(p.get(k, "")) for k in _PROBLEM_FIELDS}) for p in row.problems)
    return LastCycle(row.fingerprint, int(row.data_version), row.status, int(row.rows_read),
                     int(row.problem_count), problems), int(row.version)


def start_version(connection: Connection, seen: int, *, keep: int = PRUNE_ABOVE) -> int:
    """For a cycle about to read and write everything, which saw data version ``seen`` (its check, in
    this transaction, before any other read): the version it starts from. Above ``keep`` rows the
    changes it is about to see are forgotten (it holds the cycle lock; rows of transactions still
    running are not visible to the delete, so they stay), and it starts from 0. A transaction that
    commits after the check adds a row this does not count: the next cycle then does the work again."""
    if seen <= keep:
        return seen
    connection.execute(text("DELETE FROM data_changes"))
    return 0


def save(connection: Connection, spreadsheet: str, *, fingerprint: str, start: int, status: str, rows_read: int,
         problem_count: int, problems: list[dict[str, str]], now: datetime, context: str | None = None,
         stored_rows: bytes | None = None) -> None:
    """Remember a successful cycle that started from data version ``start``: the version it leaves
    counts its own transaction's row once it commits. A transaction that committed meanwhile adds
    a row this does not count, so the next cycle does the work again (never the other way).
    ``context`` and ``stored_rows``: what it stored (see ``stored_rows``)."""
    connection.execute(text("""
        INSERT INTO sync_fingerprints (spreadsheet, fingerprint, data_version, status, rows_read, problem_count,
                                       problems, recorded_at, context, stored_rows)
        VALUES (:spreadsheet, :fingerprint,
                :start + (SELECT count(*) FROM data_changes WHERE txid = txid_current()),
                :status, :rows_read, :problem_count, CAST(:problems AS jsonb), :now, :context, :stored_rows)
        ON CONFLICT (spreadsheet) DO UPDATE SET
            fingerprint = excluded.fingerprint, data_version = excluded.data_version, status = excluded.status,
            rows_read = excluded.rows_read, problem_count = excluded.problem_count, problems = excluded.problems,
            recorded_at = excluded.recorded_at, context = excluded.context, stored_rows = excluded.stored_rows
    """), {"spreadsheet": spreadsheet, "fingerprint": fingerprint, "start": start, "status": status,
           "rows_read": rows_read, "problem_count": problem_count, "problems": json.dumps(problems), "now": now,
           "context": context, "stored_rows": stored_rows})


def stored_rows(connection: Connection, spreadsheet: str, *, fingerprint: str, context: str) -> bytes | None:
    """The row hashes the last successful cycle of ``spreadsheet`` stored, if that cycle is the one
    with ``fingerprint`` and ran in ``context`` (settings, day, code); else None. Read only when a
    cycle may use them (the data version is the one that cycle left), so an unchanged cycle never
    transfers them."""
    blob = connection.execute(text("""
        SELECT stored_rows FROM sync_fingerprints
        WHERE spreadsheet = :spreadsheet AND fingerprint = :fingerprint AND context = :context
    """), {"spreadsheet": spreadsheet, "fingerprint": fingerprint, "context": context}).scalar_one_or_none()
    return bytes(blob) if blob is not None else None
