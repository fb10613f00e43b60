"""The database as the sync cycle and the jobs see it: one facade over SQLAlchemy.

``Store`` owns the engine, the advisory lock and transactions; ``Transaction``
offers the set-based reads and writes of one unit of work. Every SQLAlchemy
error leaving here is a ``StoreError`` whose message has no password in it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from models import derived, fingerprints, history, readings
from models.engine import database_url, make_engine, store_error
from models.errors import LockHeld
from models.job_queries import SqlJobTransaction
from models.locks import CYCLE_LOCK_KEY, job_lock, lock_key, try_xact_lock
from models.migrate import is_current, upgrade, write_app_settings
from models.ports import OutputState, UpsertCounts
from models.settings import DEFAULT_SOURCE, BonusSettings, Settings, schema_for
from models.values import CycleResult, Problem, RepStanding

if TYPE_CHECKING:  # pandas, numpy and the upserts: imported by a cycle that stores input, not by every process
    import pandas as pd

    from models.rules.changes import LockedEdit

SYSTEM_USER_EMAIL = "goals-sync@system.local"
LOG_PROBLEMS_KEPT = 100
"""Problems stored per ``sheets_sync_log`` row (``rows_rejected`` has the full count)."""
LOG_TEXT_CHARS = 300
"""Longest value or message stored per problem in the sync log."""
LOG_ERROR_CHARS = 2000
"""Longest cycle error stored in the sync log."""

log = logging.getLogger(__name__)


class Store:
    """The database behind the product."""

    def __init__(self, engine: Engine, source: str = DEFAULT_SOURCE) -> None:
        self.engine = engine
        self.source = source
        self.cycle_lock_key = lock_key(CYCLE_LOCK_KEY, source)
        self._statements = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self._statements += 1

    @property
    def statement_count(self) -> int:
        """SQL statements sent so far (COPY included), for the log and the benchmark."""
        return self._statements

    @classmethod
    def open(cls, settings: Settings, *, source: str = DEFAULT_SOURCE, migrate: bool = True) -> Store:
        """Connect to the configured database (starting the embedded one if needed), working in
        ``source``'s schema, and migrate that schema."""
        url = database_url(settings)
        store = cls(make_engine(url, schema_for(source)), source)
        if migrate:
            store.upgrade()
        return store

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of this store's source."""
        return schema_for(self.source)

    def lock_name(self, name: str) -> str:
        """``name`` scoped to this source, for the jobs' named advisory locks (the default
        source keeps the bare name, as before sources existed)."""
        return name if self.source == DEFAULT_SOURCE else f"{self.source}/{name}"

    def _for_source(self) -> str:
        return "" if self.source == DEFAULT_SOURCE else f" for source {self.source!r}"

    def upgrade(self) -> None:
        """Apply any pending migration to this source's schema."""
        if is_current(self.engine):
            return
        try:
            upgrade(self.engine, schema=self.schema)
        except SQLAlchemyError as error:
            raise store_error(error, self.engine.url, "migrate the database") from None

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    @contextmanager
    def transaction(self, now: datetime, *, commit: bool = True, cycle_lock: bool = False) -> Iterator[Transaction]:
        """One unit of work; ``now`` reaches triggers and views. Rolled back on error or when
        ``commit`` is false (dry runs).

        ``cycle_lock``: first take the cycle's advisory lock *inside this transaction* (raise
        ``LockHeld`` when another process has it). The lock then lives exactly as long as the
        work it protects: if this session is terminated (``pg_terminate_backend``, an idle or
        failover timeout), the lock and the uncommitted work go together, and the commit fails
        instead of a second cycle running beside this one. A lock held by a separate session could
        be lost while the cycle carried on.
        """
        try:
            with self.engine.connect() as connection:
                transaction = connection.begin()
                try:
                    if cycle_lock and not try_xact_lock(connection, self.cycle_lock_key):
                        raise LockHeld(f"another sync cycle is running on this database{self._for_source()}; "
                                       "this one was skipped")
                    connection.execute(text("SELECT set_config('goals.now', :now, true)"),
                                       {"now": now.isoformat()})
                    yield Transaction(connection, self)
                    if commit:
                        transaction.commit()
                    else:
                        transaction.rollback()
                except BaseException:
                    transaction.rollback()
                    raise
        except SQLAlchemyError as error:
            raise store_error(error, self.engine.url, "complete the database work") from None

    @contextmanager
    def job_transaction(self, now: datetime) -> Iterator[SqlJobTransaction]:
        """One unit of work for a job (``models.ports.JobStore``)."""
        with self.transaction(now) as tx:
            yield SqlJobTransaction(tx.connection)

    def job_lock(self, job: str) -> AbstractContextManager[bool]:
        """``job``'s session advisory lock while the block runs (``models.locks.job_lock``)."""
        return job_lock(self, job)

    def record_cycle(self, result: CycleResult, *, spreadsheet: str) -> None:
        """Write a sync log row in its own transaction (for cycles whose main work failed)."""
        with self.transaction(result.now) as tx:
            tx.log_cycle(result, spreadsheet=spreadsheet)


class Transaction:
    """Reads and writes inside one database transaction."""

    def __init__(self, connection: Connection, store: Store) -> None:
        self.connection = connection
        self._store = store

    def copy_counted(self, statements: int) -> None:
        """Count COPY statements that bypass the cursor-execute event."""
        self._store._statements += statements

    def write_settings(self, settings: Settings) -> None:
        """Copy the config the SQL views read (time zone, deadline day, pace) into app_settings."""
        write_app_settings(self.connection, settings)

    def system_user(self) -> uuid.UUID:
        """The ``users`` row of the system account that syncs (created on first use)."""
        return self.connection.execute(text("""
            WITH added AS (
                INSERT INTO users (email, name, role) VALUES (:email, 'Goals Sync', 'system')
                ON CONFLICT (email) DO NOTHING RETURNING id
            )
            SELECT id FROM added UNION ALL SELECT id FROM users WHERE email = :email LIMIT 1
        """), {"email": SYSTEM_USER_EMAIL}).scalar_one()

    def database_summary(self) -> tuple[str, int]:
        """(PostgreSQL server version, reps stored), for ``check``."""
        version = self.connection.exec_driver_sql("SHOW server_version").scalar_one()
        reps = self.connection.exec_driver_sql("SELECT count(*) FROM sales_reps").scalar_one()
        return str(version), int(reps)

    def known_emails(self) -> frozenset[str]:
        """Emails of every rep already stored."""
        return frozenset(self.connection.execute(text("SELECT email FROM sales_reps")).scalars())

    def upsert_reps(self, frame: pd.DataFrame) -> UpsertCounts:
        """Store the Reps tab (set-based)."""
        from models import upserts

        self.copy_counted(1 if not frame.empty else 0)
        return upserts.upsert_reps(self.connection, frame)

    def upsert_months(self, frame: pd.DataFrame, *, now: datetime, deadline_day: int, timezone: str,
                      system_user: uuid.UUID, lock_after_deadline: bool,
                      bonus: BonusSettings) -> tuple[UpsertCounts, list[LockedEdit]]:
        """Store Monthly Goals and Actuals (already joined by ``upserts.month_frame``) as the pure
        plan (``models.rules.changes``) decides."""
        from models import upserts
        from models.rules.changes import MonthRules

        self.copy_counted(1 if not frame.empty else 0)
        rules = MonthRules(deadline_day=deadline_day, tz=ZoneInfo(timezone),
                           lock_after_deadline=lock_after_deadline, bonus=bonus)
        return upserts.upsert_months(self.connection, frame, now=now, rules=rules, system_user=system_user)

    def upsert_years(self, frame: pd.DataFrame, *, now: datetime, timezone: str,
                     system_user: uuid.UUID) -> UpsertCounts:
        """Store the Yearly Goals tab as the pure plan decides."""
        from models import upserts

        self.copy_counted(1 if not frame.empty else 0)
        return upserts.upsert_years(self.connection, frame, now=now, tz=ZoneInfo(timezone), system_user=system_user)

    def ensure_period_rows(self, settings: Settings, *, year: int, month: int) -> int:
        """Default goal rows for the current month (and year rows for every year with months)."""
        return derived.ensure_period_rows(self.connection, year=year, month=month,
                                          deadline_day=settings.goals.deadline_day, timezone=settings.timezone)

    def refresh_derived(self, settings: Settings, *, now: datetime, year: int, month: int) -> int:
        """Default rows, month/year close, bonus tiers, yearly actuals, rep roll-ups, reminder
        acknowledgements. Returns the rows changed."""
        goals = settings.goals
        changed = self.ensure_period_rows(settings, year=year, month=month)
        changed += derived.close_past_periods(self.connection, year=year, month=month)
        changed += derived.refresh_bonus_tiers(self.connection, goals.bonus)
        changed += derived.refresh_rollups(self.connection, year=year, month=month)
        changed += derived.acknowledge_reminders(self.connection, now)
        return changed

    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        """Every active rep's current month and year."""
        return readings.standings(self.connection, year=year, month=month,
                                  deadline_day=settings.goals.deadline_day, timezone=settings.timezone)

    def manager_history(self, *, year: int, month: int,
                        previous: history.ManagerHistory | None = None) -> history.ManagerHistory:
        """Past months, final leaderboards and this month's daily points (History and Charts tabs);
        ``previous`` is returned again when none of it changed."""
        return history.manager_history(self.connection, year=year, month=month, previous=previous)

    def last_cycle_fingerprint(self, spreadsheet: str) -> tuple[fingerprints.LastCycle | None, int]:
        """The last successful cycle of ``spreadsheet`` (its fingerprint, data version and report) and
        the data version now (see ``models.fingerprints``)."""
        return fingerprints.last_cycle(self.connection, spreadsheet)

    def start_data_version(self, seen: int) -> int:
        """A cycle that reads and writes everything, having seen data version ``seen``: the version
        it starts from (``models.fingerprints.start_version``)."""
        return fingerprints.start_version(self.connection, seen)

    def save_fingerprint(self, spreadsheet: str, fingerprint: str, *, start: int, result: CycleResult,
                         context: str | None = None, stored_rows: bytes | None = None) -> None:
        """Remember this successful cycle's fingerprint, the data version it leaves and its report,
        and what it stored (``stored_rows``, in ``context``) for the next cycle in any process."""
        fingerprints.save(self.connection, spreadsheet, fingerprint=fingerprint, start=start, status=result.status,
                          rows_read=result.rows_read, problem_count=result.problem_count,
                          problems=[dataclasses.asdict(p) for p in result.problems], now=result.now,
                          context=context, stored_rows=stored_rows)

    def stored_rows(self, spreadsheet: str, *, fingerprint: str, context: str) -> bytes | None:
        """The row hashes the last successful cycle stored, when it had ``fingerprint`` and ran in
        ``context`` (``models.fingerprints.stored_rows``)."""
        return fingerprints.stored_rows(self.connection, spreadsheet, fingerprint=fingerprint, context=context)

    def output_state(self, spreadsheet: str) -> dict[str, OutputState]:
        """What was last written to each output tab of ``spreadsheet``."""
        rows = self.connection.execute(text("""
            SELECT tab, content_hash, layout_hash, row_count, column_count
            FROM sheet_output_state WHERE spreadsheet = :spreadsheet
        """), {"spreadsheet": spreadsheet}).all()
        return {row.tab: OutputState(row.content_hash, row.layout_hash, row.row_count, row.column_count)
                for row in rows}

    def forget_output_state(self, spreadsheet: str) -> None:
        """Forget what was written to ``spreadsheet`` (its file was replaced): every tab is written next."""
        self.connection.execute(text("DELETE FROM sheet_output_state WHERE spreadsheet = :spreadsheet"),
                                {"spreadsheet": spreadsheet})

    def save_output_state(self, spreadsheet: str, states: dict[str, OutputState], now: datetime) -> None:
        """Remember what was just written (one statement for all tabs)."""
        if not states:
            return
        self.connection.execute(text("""
            INSERT INTO sheet_output_state (spreadsheet, tab, content_hash, layout_hash, row_count,
                                            column_count, written_at)
            VALUES (:spreadsheet, :tab, :content_hash, :layout_hash, :row_count, :column_count, :now)
            ON CONFLICT (spreadsheet, tab) DO UPDATE SET
                content_hash = excluded.content_hash, layout_hash = excluded.layout_hash,
                row_count = excluded.row_count, column_count = excluded.column_count,
                written_at = excluded.written_at
        """), [
            {"spreadsheet": spreadsheet, "tab": tab, "content_hash": s.content_hash,
             "layout_hash": s.layout_hash, "row_count": s.row_count, "column_count": s.column_count,
             "now": now}
            for tab, s in states.items()
        ])

    def last_cycle(self) -> dict[str, Any] | None:
        """The newest sync log row, for ``status`` and ``check``."""
        row = self.connection.execute(text("""
            SELECT started_at, finished_at, status, rows_read, rows_rejected, error
            FROM sheets_sync_log ORDER BY started_at DESC, id DESC LIMIT 1
        """)).mappings().first()
        return dict(row) if row else None

    def log_cycle(self, result: CycleResult, *, spreadsheet: str) -> int:
        """Insert one ``sheets_sync_log`` row (the cycle's clock is its start; ``finished_at`` adds
        the seconds it took); its id. ``rows_rejected`` holds the count of problems, ``problems``
        only the first ``LOG_PROBLEMS_KEPT`` of them, each field cut to ``LOG_TEXT_CHARS``, so one
        row stays small however bad the sheet (the Sync Errors tab and the log line show the rest)."""
        return int(self.connection.execute(text("""
            INSERT INTO sheets_sync_log (started_at, finished_at, cycle_now, status, spreadsheet, rows_read,
                rows_upserted, rows_unchanged, rows_rejected, api_reads, api_writes, sql_statements, error,
                problems, unchanged)
            VALUES (:started_at, :finished_at, :cycle_now, :status, :spreadsheet, :rows_read, :rows_upserted,
                :rows_unchanged, :rows_rejected, :api_reads, :api_writes, :sql_statements, :error,
                CAST(:problems AS jsonb), :unchanged)
            RETURNING id
        """), {
            "started_at": result.now, "finished_at": result.now + timedelta(seconds=result.seconds),
            "cycle_now": result.now, "status": result.status, "spreadsheet": spreadsheet,
            "rows_read": result.rows_read, "rows_upserted": result.rows_upserted,
            "rows_unchanged": result.rows_unchanged, "rows_rejected": result.problem_count,
            "api_reads": result.api_reads, "api_writes": result.api_writes,
            "sql_statements": result.sql_statements, "error": _cut(result.error),
            "problems": json.dumps([_problem_dict(p) for p in result.problems[:LOG_PROBLEMS_KEPT]]),
            "unchanged": result.unchanged,
        }).scalar_one())

    def amend_cycle_log(self, log_id: int, result: CycleResult) -> None:
        """Record, on the cycle's log row, the API writes and the time the spreadsheet write took.

        Runs after the spreadsheet was written, so it is kept apart in a savepoint: if it fails,
        the row keeps its pre-write figures and the cycle still commits (undoing the cycle for
        a statistic would leave the sheet showing values the database rolled back).
        """
        try:
            with self.connection.begin_nested():
                self.connection.execute(text("""
                    UPDATE sheets_sync_log SET api_writes = :api_writes, finished_at = :finished_at,
                        sql_statements = :sql_statements
                    WHERE id = :id
                """), {"id": log_id, "api_writes": result.api_writes,
                       "finished_at": result.now + timedelta(seconds=result.seconds),
                       "sql_statements": result.sql_statements})
        except SQLAlchemyError as error:
            log.warning("could not add the write figures to sync log row %d: %s", log_id,
                        store_error(error, self.connection.engine.url, "update the sync log"))

    def prune_cycle_log(self, now: datetime, *, keep_days: int) -> int:
        """Delete sync log rows older than ``keep_days`` before ``now`` (0: keep every row); the
        number deleted. Uses the ``started_at`` index, so a turn with nothing to prune costs
        one index probe; running it again deletes nothing more."""
        if keep_days <= 0:
            return 0
        return self.connection.execute(text("DELETE FROM sheets_sync_log WHERE started_at < :cutoff"),
                                       {"cutoff": now - timedelta(days=keep_days)}).rowcount


def _cut(text_: str | None, limit: int = LOG_ERROR_CHARS) -> str | None:
    """``text_`` cut to ``limit`` characters, saying so."""
    if text_ is None or len(text_) <= limit:
        return text_
    return text_[:limit - 1] + "…"


def _problem_dict(problem: Problem) -> dict[str, str]:
    return {key: _cut(value, LOG_TEXT_CHARS) or "" for key, value in (
        ("tab", problem.tab), ("cell", problem.cell), ("email", problem.email), ("value", problem.value),
        ("problem", problem.problem))}
