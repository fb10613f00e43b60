"""What every source and every process share in one database: schema ``goals_shared``.

- ``source_turns``: when each source's next turn is due, so that the workers' periodic
  tick defers one turn per source per ``poll_seconds``, whichever worker runs the tick.
- ``sheets_requests`` + ``take_sheets_request()``: the Sheets API quota, a sliding 60-second
  window per service account that every process consults before each HTTP request (a
  transaction-level advisory lock per account makes count-then-insert atomic).

None of this is a migration of a source's schema (those run once per source); it is created
with ``IF NOT EXISTS`` by ``prepare`` on start-up and by ``db upgrade``. The job queue's own
schema (Procrastinate's, in schema ``procrastinate``) is applied here too when missing.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from models.engine import database_url, make_engine, store_error
from models.errors import GoalsSyncError
from models.locks import MIGRATION_LOCK_KEY, QUOTA_LOCK_NAMESPACE, wait_for_xact_lock
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

    def prepare(self, queue_schema_sql: str | None = None) -> None:
        """Create the shared schema, and the job queue's schema from ``queue_schema_sql`` when it
        does not exist yet, under the migration lock (two workers starting together)."""
        try:
            with self.engine.begin() as connection:
                if self._ready(connection, queue=queue_schema_sql is not None):
                    return
                wait_for_xact_lock(connection, MIGRATION_LOCK_KEY)
                connection.exec_driver_sql(_SHARED_DDL)
                present = connection.execute(text("SELECT to_regclass(:t)"),
                                             {"t": f"{QUEUE_SCHEMA}.procrastinate_jobs"}).scalar()
                if queue_schema_sql is not None and present is None:
                    connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
                    connection.exec_driver_sql(f"SET LOCAL search_path = {QUEUE_SCHEMA}")
                    # The driver sees placeholders in % signs, as procrastinate's own apply_schema knows.
                    connection.exec_driver_sql(queue_schema_sql.replace("%", "%%"))
                    log.info("job queue schema created (schema %s)", QUEUE_SCHEMA)
        except SQLAlchemyError as error:
            raise store_error(error, self.engine.url, "prepare the shared schema") from None

    @staticmethod
    def _ready(connection: Connection, *, queue: bool) -> bool:
        """Everything already there (one query; the usual case after the first start)."""
        found = connection.execute(text("""
            SELECT to_regprocedure(:function) IS NOT NULL AND to_regclass(:turns) IS NOT NULL
                   AND (NOT :queue OR to_regclass(:jobs) IS NOT NULL)
        """), {"function": f"{SHARED_SCHEMA}.take_sheets_request(text, integer)",
               "turns": f"{SHARED_SCHEMA}.source_turns", "queue": queue,
               "jobs": f"{QUEUE_SCHEMA}.procrastinate_jobs"}).scalar()
        return bool(found)

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
