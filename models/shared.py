"""What every source and every process share in one database: schema ``goals_shared``.

- ``source_turns``: when each source's next turn is due, so that the workers' periodic
  tick defers one turn per source per ``poll_seconds``, whichever worker runs the tick.
- ``sheets_requests`` + ``take_sheets_request()``: the Sheets API quota, a sliding 60-second
  window per service account that every process consults before each HTTP request (a
  transaction-level advisory lock per account makes count-then-insert atomic).

None of this is a migration of a source's schema (those run once per source); it is created
with ``IF NOT EXISTS`` by ``prepare`` on start-up and by ``db upgrade``. The job queue's own
schema (Procrastinate's, in schema ``procrastinate``) is applied here too: created whole when
missing, else brought up to the installed Procrastinate's version with the SQL migrations it
ships (``queue_schema`` records the last one applied; a schema newer than the code stops
the start with ``QueueSchemaTooNew``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from models.engine import database_url, make_engine, store_error
from models.errors import GoalsSyncError, StoreError
from models.locks import MIGRATION_LOCK_KEY, QUOTA_LOCK_NAMESPACE, hold_session_lock
from models.settings import Settings

log = logging.getLogger("models.shared")

SHARED_SCHEMA = "goals_shared"
QUEUE_SCHEMA = "procrastinate"
WINDOW_SECONDS = 60

_SHARED_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SHARED_SCHEMA};
CREATE TABLE IF NOT EXISTS {SHARED_SCHEMA}.source_turns (
    source text PRIMARY KEY,
    due_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {SHARED_SCHEMA}.sheets_requests (
    account text NOT NULL,
    sent_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sheets_requests_account_sent ON {SHARED_SCHEMA}.sheets_requests (account, sent_at);
CREATE TABLE IF NOT EXISTS {SHARED_SCHEMA}.queue_schema (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    migration text NOT NULL,
    procrastinate_version text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION {SHARED_SCHEMA}.take_sheets_request(who text, per_window integer)
RETURNS double precision LANGUAGE plpgsql AS $$
-- 0 when a request may be sent now (and it is counted); otherwise the seconds until the
-- oldest request of the window leaves it. Serialised per account by an xact advisory lock.
DECLARE
    since timestamptz;
    taken integer;
    oldest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock({QUOTA_LOCK_NAMESPACE}, hashtext(who));
    since := clock_timestamp() - interval '{WINDOW_SECONDS} seconds';
    DELETE FROM {SHARED_SCHEMA}.sheets_requests WHERE account = who AND sent_at <= since;
    SELECT count(*), min(sent_at) INTO taken, oldest FROM {SHARED_SCHEMA}.sheets_requests WHERE account = who;
    IF taken < per_window THEN
        INSERT INTO {SHARED_SCHEMA}.sheets_requests (account, sent_at) VALUES (who, clock_timestamp());
        RETURN 0;
    END IF;
    RETURN greatest(extract(epoch FROM oldest - since), 0.001);
END
$$;
"""


QUEUE_BASELINE = "03.04.00_50_post_add_retry_failed_job_procedure"
"""The last migration in Procrastinate 3.10.0's whole schema: what every queue schema this
project created before it recorded the version is at (3.10.0 was the only version pinned)."""


def migration_key(name: str) -> tuple[int, ...]:
    """The order of a Procrastinate migration: ``03.04.00_50_post_…`` → (3, 4, 0, 50)."""
    version, _, rest = name.partition("_")
    index = rest.partition("_")[0]
    return (*(int(part) for part in version.split(".")), int(index or 0))


@dataclass(frozen=True)
class QueueSchema:
    """Procrastinate's schema as the installed version ships it: the whole schema for a new
    database, and its SQL migrations (name without ``.sql``, SQL), oldest first."""

    version: str
    schema_sql: str
    migrations: tuple[tuple[str, str], ...]

    @property
    def latest(self) -> str:
        """The last migration this version ships: what its whole schema is at."""
        return self.migrations[-1][0]

    def after(self, migration: str) -> list[tuple[str, str]]:
        """The migrations to apply to a schema at ``migration``, in order."""
        return [(name, sql) for name, sql in self.migrations if migration_key(name) > migration_key(migration)]


class QueueSchemaTooNew(StoreError):
    """The job queue's schema was upgraded by a newer version than the one installed here."""


class QuotaWaitStopped(GoalsSyncError):
    """The process is stopping while a request waited for the quota."""


class SharedStore:
    """The shared schema, over its own engine (no source's search path)."""

    def __init__(self, engine: Engine | Callable[[], Engine]) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine, made on first use (finding the URL may start the embedded server)."""
        if not isinstance(self._engine, Engine):
            self._engine = self._engine()
        return self._engine

    @classmethod
    def open(cls, settings: Settings) -> SharedStore:
        """An engine on the configured database (nothing is connected yet)."""
        return cls(make_engine(database_url(settings)))

    @classmethod
    def lazy(cls, settings: Settings) -> SharedStore:
        """Like ``open``, but the database URL is only worked out when first needed."""
        return cls(lambda: make_engine(database_url(settings)))

    def dispose(self) -> None:
        """Close pooled connections (nothing to do if it never connected)."""
        if isinstance(self._engine, Engine):
            self._engine.dispose()

    def prepare(self, queue: QueueSchema | None = None) -> None:
        """Create the shared schema, and with ``queue`` the job queue's schema when it does not exist
        yet or bring it up to ``queue``'s version, under the migration lock (two workers starting
        together). Raises ``QueueSchemaTooNew`` when the database's queue schema is newer."""
        try:
            with self.engine.connect() as connection:
                with connection.begin():
                    if self._ready(connection, queue):
                        return
                with hold_session_lock(connection, MIGRATION_LOCK_KEY):
                    with connection.begin():
                        connection.exec_driver_sql(_SHARED_DDL)
                        if queue is None:
                            return
                        at = self._queue_state(connection, queue)
                    # One transaction per migration: a value added to an enum type can only be
                    # used once committed, and a later migration may use it.
                    for name, sql in queue.after(at):
                        with connection.begin():
                            connection.exec_driver_sql(f"SET LOCAL search_path = {QUEUE_SCHEMA}")
                            connection.exec_driver_sql(sql.replace("%", "%%"))
                            self._record(connection, name, queue)
                        log.info("job queue schema upgraded: Procrastinate migration %s applied", name)
        except SQLAlchemyError as error:
            raise store_error(error, self.engine.url, "prepare the shared schema") from None

    def _queue_state(self, connection: Connection, queue: QueueSchema) -> str:
        """The migration the queue schema is at, after creating it whole if it was missing."""
        present = connection.execute(text("SELECT to_regclass(:t)"),
                                     {"t": f"{QUEUE_SCHEMA}.procrastinate_jobs"}).scalar()
        recorded = connection.execute(text(f"SELECT migration FROM {SHARED_SCHEMA}.queue_schema")).scalar()
        if present is None:
            connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
            connection.exec_driver_sql(f"SET LOCAL search_path = {QUEUE_SCHEMA}")
            # The driver sees placeholders in % signs, as procrastinate's own apply_schema knows.
            connection.exec_driver_sql(queue.schema_sql.replace("%", "%%"))
            connection.exec_driver_sql("SET LOCAL search_path = DEFAULT")
            self._record(connection, queue.latest, queue)
            log.info("job queue schema created (schema %s, Procrastinate %s)", QUEUE_SCHEMA, queue.version)
            return queue.latest
        if recorded is None:
            self._record(connection, QUEUE_BASELINE, queue)
            recorded = QUEUE_BASELINE
        _refuse_newer(str(recorded), queue)
        return str(recorded)

    @staticmethod
    def _record(connection: Connection, migration: str, queue: QueueSchema) -> None:
        connection.execute(text(f"""
            INSERT INTO {SHARED_SCHEMA}.queue_schema (migration, procrastinate_version) VALUES (:m, :v)
            ON CONFLICT (singleton) DO UPDATE SET migration = excluded.migration,
                procrastinate_version = excluded.procrastinate_version, updated_at = now()
        """), {"m": migration, "v": queue.version})

    @staticmethod
    def _ready(connection: Connection, queue: QueueSchema | None) -> bool:
        """Everything already there and the queue schema at ``queue``'s version (the usual case
        after the first start); raises ``QueueSchemaTooNew`` for a newer one."""
        found = connection.execute(text("""
            SELECT to_regprocedure(:function) IS NOT NULL AND to_regclass(:turns) IS NOT NULL
                   AND to_regclass(:versions) IS NOT NULL AND (NOT :queue OR to_regclass(:jobs) IS NOT NULL)
        """), {"function": f"{SHARED_SCHEMA}.take_sheets_request(text, integer)",
               "turns": f"{SHARED_SCHEMA}.source_turns", "versions": f"{SHARED_SCHEMA}.queue_schema",
               "queue": queue is not None, "jobs": f"{QUEUE_SCHEMA}.procrastinate_jobs"}).scalar()
        if not found or queue is None:
            return bool(found)
        recorded = connection.execute(text(f"SELECT migration FROM {SHARED_SCHEMA}.queue_schema")).scalar()
        if recorded is None:
            return False
        _refuse_newer(str(recorded), queue)
        return str(recorded) == queue.latest

    def due_sources(self, polls: Mapping[str, float]) -> list[str]:
        """The sources whose turn is due now (new ones at once); each is marked due again
        ``poll_seconds`` later in the same statement, so concurrent ticks never both pick it."""
        names, seconds = list(polls), [float(polls[name]) for name in polls]
        try:
            with self.engine.begin() as connection:
                connection.execute(text(f"""
                    INSERT INTO {SHARED_SCHEMA}.source_turns (source, due_at)
                    SELECT unnest(CAST(:names AS text[])), now() ON CONFLICT (source) DO NOTHING
                """), {"names": names})
                due = connection.execute(text(f"""
                    UPDATE {SHARED_SCHEMA}.source_turns t SET due_at = now() + make_interval(secs => v.poll)
                    FROM unnest(CAST(:names AS text[]), CAST(:polls AS float8[])) AS v(source, poll)
                    WHERE t.source = v.source AND t.due_at <= now()
                    RETURNING t.source
                """), {"names": names, "polls": seconds}).scalars().all()
        except SQLAlchemyError as error:
            raise store_error(error, self.engine.url, "find the sources that are due") from None
        return sorted(due)

    def take_request(self, account: str, per_minute: int) -> float:
        """Count one Sheets request for ``account`` if the window has room (returns 0), else the
        seconds to wait before asking again (nothing counted)."""
        try:
            with self.engine.begin() as connection:
                return float(connection.execute(text(f"SELECT {SHARED_SCHEMA}.take_sheets_request(:who, :n)"),
                                                {"who": account, "n": per_minute}).scalar_one())
        except SQLAlchemyError as error:
            raise store_error(error, self.engine.url, "count a Sheets request against the quota") from None


def _refuse_newer(recorded: str, queue: QueueSchema) -> None:
    if migration_key(recorded) > migration_key(queue.latest):
        raise QueueSchemaTooNew(
            f"the job queue's schema in the database (schema {QUEUE_SCHEMA}) is at Procrastinate migration "
            f"{recorded}, newer than this installation's Procrastinate {queue.version} knows (up to "
            f"{queue.latest}): a newer goals-sync has upgraded this database. Install that same version "
            "here (pip/pipx/uv) instead of running an older one against it.")


class RequestQuota:
    """``quota(account)`` blocks until ``account`` may send one more Sheets request: at most
    ``per_minute`` requests in any sliding 60 s, counted in the database across every process.

    ``stop``: when it turns true during a wait (SIGTERM), ``QuotaWaitStopped`` is raised at once
    instead of keeping a stopping process waiting for up to a minute.
    """

    SLICE_SECONDS = 0.5

    def __init__(self, shared: SharedStore, per_minute: int, *,
                 sleep: Callable[[float], None] = time.sleep, stop: Callable[[], bool] | None = None) -> None:
        self.shared, self.per_minute, self._sleep, self.stop = shared, per_minute, sleep, stop
        self.waited_seconds = 0.0
        self._prepared = False

    def __call__(self, account: str) -> None:
        if not self._prepared:  # the shared schema appears with the first process that needs it
            self.shared.prepare()
            self._prepared = True
        while (wait := self.shared.take_request(account, self.per_minute)) > 0:
            log.debug("Sheets quota of %s full (%d per minute): waiting %.2f s", account, self.per_minute, wait)
            for _ in range(max(1, math.ceil(wait / self.SLICE_SECONDS))):
                if self.stop is not None and self.stop():
                    raise QuotaWaitStopped("stopping: the Sheets request waiting for the shared quota "
                                           "(sheets.requests_per_minute) was not sent; the next turn syncs")
                step = min(self.SLICE_SECONDS, wait)
                self._sleep(step)
                self.waited_seconds += step
                wait -= step
