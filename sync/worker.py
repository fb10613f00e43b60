"""``python -m sync worker``: a Procrastinate worker; run several, on several machines.

Procrastinate is a PostgreSQL-based task queue (its tables live in schema ``procrastinate``
of our database: no other server). Tasks:

- ``goals.tick`` — periodic (every ``tick_seconds``): puts back any job of a worker whose
  heartbeat stopped (killed, machine lost), then defers ``goals.turn`` for every source whose
  ``poll_seconds`` have passed (``goals_shared.source_turns``, shared by all workers).
- ``goals.turn(source)`` — the midnight snapshot if due, then the source's sync cycle; after a
  cycle that neither failed nor was skipped it defers ``goals.jobs(source)``.
- ``goals.jobs(source)`` — achievements, notify and reminders that are due, as ``run`` does.

Turn and jobs of a source share the Procrastinate ``lock`` ``source:<name>`` (never two at
once, run in the order deferred) and each has a queueing lock (at most one waiting); the
source's PostgreSQL advisory cycle lock still guards the cycle itself, so even a job put
back while its old worker was merely slow cannot run a source twice at the same time.
Each source has its own queue ``source_<name>``; ``--source`` limits a worker to some.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.errors import ExitCode
from sync.context import Context, Deployment

if TYPE_CHECKING:
    import procrastinate

    from models.shared import QueueSchema, SharedStore
    from sync.health import Health
    from sync.metrics import DaemonMetrics

log = logging.getLogger("sync.worker")

TICK_QUEUE = "goals_tick"
_TICK_CHOICES = (1, 2, 3, 4, 5, 6, 10)  # seconds that divide a minute: a regular cron


@dataclass(frozen=True)
class Timing:
    """How often the worker ticks, beats and polls, from the shortest ``poll_seconds``.

    A killed worker's job is put back once its heartbeat is ``stalled_seconds`` old; the
    next tick notices, and a worker fetches it within ``fetch_seconds``: all well inside two
    poll intervals (``stalled + tick + fetch <= 0.5 + 0.25 + 0.25`` of a poll, capped).
    """

    tick_seconds: int
    heartbeat_seconds: float
    stalled_seconds: float
    fetch_seconds: float

    @classmethod
    def for_poll(cls, poll_seconds: float) -> Timing:
        """The timing for a deployment whose shortest poll interval is ``poll_seconds``."""
        tick = max([t for t in _TICK_CHOICES if t <= poll_seconds / 4] or [1])
        heartbeat = min(max(poll_seconds / 10, 0.5), 10.0)
        stalled = min(max(poll_seconds / 2, 3 * heartbeat), 30.0)
        return cls(tick_seconds=tick, heartbeat_seconds=heartbeat, stalled_seconds=stalled,
                   fetch_seconds=min(max(poll_seconds / 4, 0.5), 5.0))


def queue_of(source: str) -> str:
    """The Procrastinate queue of ``source``'s tasks."""
    return f"source_{source}"


class _Sources:
    """The worker's contexts by source name, with the turn and jobs each task runs, and the
    metrics and health they report to when ``--metrics-port`` is given."""

    def __init__(self, deployment: Deployment, metrics: DaemonMetrics | None = None,
                 health: Health | None = None) -> None:
        self.deployment, self.metrics, self.health = deployment, metrics, health
        self.by_name: dict[str, Context] = {c.source: c for c in deployment.contexts}

    def turn(self, source: str) -> str:
        """Snapshot if due, then the cycle; returns the cycle's status."""
        from jobs.runner import BEFORE_CYCLE, run_due_jobs
        from sync.cycle import run_cycle

        context = self.by_name[source]
        now = context.clock.now()
        log.info("turn of source %s", source)
        try:
            before = run_due_jobs(context, now, jobs=BEFORE_CYCLE)
            result = run_cycle(context.settings, context.store(), context.backend(), now,
                               memo=context.cycle_memo())
        finally:
            self._release(context)
        if self.health is not None:
            self.health.record(result)
        if self.metrics is not None:
            from sync.turn import TurnResult

            requests, retries = context.sheets_requests()
            self.metrics.record(TurnResult(result, tuple(before)), requests=requests, retries=retries,
                                source=source)
        return result.status

    def jobs(self, source: str) -> None:
        """The jobs due after a cycle."""
        from jobs.runner import AFTER_CYCLE, run_due_jobs

        context = self.by_name[source]
        try:
            outcomes = run_due_jobs(context, context.clock.now(), jobs=AFTER_CYCLE)
        finally:
            self._release(context)
        if self.metrics is not None:
            for outcome in outcomes:
                self.metrics.job_runs.labels(source, outcome.job, outcome.status).inc()

    def _release(self, context: Context) -> None:
        """Close the source's pooled connections when the worker serves several: 40 sources with
        idle pools would exhaust PostgreSQL's connection limit (the next task reconnects)."""
        if self.deployment.many:
            context.close()


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def build_app(deployment: Deployment, shared: SharedStore, timing: Timing,
              metrics: DaemonMetrics | None = None, health: Health | None = None) -> procrastinate.App:
    """The Procrastinate app: its connector (schema ``procrastinate``) and the three tasks."""
    import procrastinate

    from models.engine import database_url
    from models.shared import QUEUE_SCHEMA

    connector = procrastinate.PsycopgConnector(
        conninfo=_conninfo(database_url(deployment.settings)),
        kwargs={"options": f"-c search_path={QUEUE_SCHEMA}"}, min_size=1, max_size=3,
    )
    app = procrastinate.App(connector=connector)
    sources = _Sources(deployment, metrics, health)
    # Every configured source, not only this worker's: a tick may be run by a worker limited to
    # some sources (--source), and must still defer every source's turn into its queue.
    polls = {s.name: s.settings.sync.poll_seconds for s in deployment.settings.source_list()}

    @app.task(name="goals.jobs", pass_context=False)
    def jobs_task(source: str) -> None:
        sources.jobs(source)

    @app.task(name="goals.turn", pass_context=False)
    def turn_task(source: str) -> str:
        status = sources.turn(source)
        if status not in {"failed", "skipped"}:
            _defer(jobs_task, source, f"jobs:{source}")
        return status

    async def tick(timestamp: int) -> list[str]:
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=timing.stalled_seconds)
        for job in stalled:
            log.warning("job %s of %s: its worker stopped beating; putting it back", job.id, job.task_name)
            await app.job_manager.retry_job(job)
        due = await asyncio.to_thread(shared.due_sources, polls)
        for source in due:
            await _defer_async(turn_task, source, f"turn:{source}")
        return due

    # croniter reads a sixth field as seconds (the last field, not the first).
    app.periodic(cron=f"* * * * * */{timing.tick_seconds}", periodic_id="tick")(
        app.task(name="goals.tick", queue=TICK_QUEUE, pass_context=False)(tick))
    return app


def _configured(task: Any, source: str, queueing_lock: str) -> Any:
    return task.configure(queue=queue_of(source), lock=f"source:{source}", queueing_lock=queueing_lock)


def _defer(task: Any, source: str, queueing_lock: str) -> None:
    import procrastinate.exceptions

    # One already waiting will see the newest data anyway.
    with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
        _configured(task, source, queueing_lock).defer(source=source)


async def _defer_async(task: Any, source: str, queueing_lock: str) -> None:
    import procrastinate.exceptions

    try:
        await _configured(task, source, queueing_lock).defer_async(source=source)
    except procrastinate.exceptions.AlreadyEnqueued:
        log.debug("turn of %s already waiting", source)


def queue_schema() -> QueueSchema:
    """Procrastinate's own schema (tables, functions, triggers) and its SQL migrations, as the
    installed version ships them (``procrastinate/sql/migrations``)."""
    from importlib import resources

    import procrastinate
    from procrastinate.schema import SchemaManager

    from models.shared import QueueSchema, migration_key

    files = [f for f in resources.files("procrastinate.sql.migrations").iterdir() if f.name.endswith(".sql")]
    migrations = sorted(((f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files),
                        key=lambda item: migration_key(item[0]))
    return QueueSchema(version=procrastinate.__version__, schema_sql=SchemaManager.get_schema(),
                       migrations=tuple(migrations))


def prepare(deployment: Deployment) -> SharedStore:
    """Migrate every selected source, rebuild the roll-up, create the shared schema and create or
    upgrade the queue schema (``QueueSchemaTooNew`` when the database's is newer than the code)."""
    from models.shared import SharedStore

    for context in deployment.contexts:
        context.store()
    deployment.refresh_rollup()
    shared = SharedStore.open(deployment.settings)
    shared.prepare(queue_schema())
    return shared


def run_worker(deployment: Deployment, args: argparse.Namespace) -> int:
    """Run the worker until SIGTERM/SIGINT (it finishes the task in hand, then exits 0)."""
    shared = prepare(deployment)
    shortest = min(c.settings.sync.poll_seconds for c in deployment.contexts)
    timing = Timing.for_poll(shortest)
    metrics, health, server = None, None, None
    port = getattr(args, "metrics_port", None) or deployment.settings.metrics.port
    if port is not None:
        from sync.health import Health
        from sync.metrics import DaemonMetrics, MetricsServer, health_and_metrics_app

        metrics, health = DaemonMetrics([c.source for c in deployment.contexts]), Health(shortest)
        server = MetricsServer(health_and_metrics_app(metrics, health), deployment.settings.metrics.host, port)
        log.info("metrics at %s/metrics, health at %s/healthz", server.address, server.address)
    app = build_app(deployment, shared, timing, metrics, health)
    queues = [TICK_QUEUE, *(queue_of(c.source) for c in deployment.contexts)]
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    log.info("worker %s started for sources %s (tick every %ds, heartbeat %.1fs, stalled after %.1fs)", name,
             ", ".join(c.source for c in deployment.contexts), timing.tick_seconds, timing.heartbeat_seconds,
             timing.stalled_seconds)
    clock = deployment.contexts[0].clock
    if clock.start is not None:
        log.info("pretend clock: %s now, running %g times as fast", clock.now().isoformat(timespec="seconds"),
                 clock.rate)
    stopping = threading.Event()
    for context in deployment.contexts:
        context.stop = stopping.is_set  # a turn waiting for the Sheets quota gives up at once

    from sync.systemd import ServiceNotifier

    notifier = ServiceNotifier()

    async def keep_alive() -> None:
        # systemd's watchdog (deploy/goals-sync-worker.service): the event loop, which also
        # sends the worker's heartbeats to the database, is alive.
        while True:
            notifier.watchdog_if_due()
            await asyncio.sleep(1)

    async def work() -> None:
        async with app.open_async():
            task = asyncio.create_task(app.run_worker_async(
                queues=queues, name=name, concurrency=args.concurrency, delete_jobs="successful",
                update_heartbeat_interval=timing.heartbeat_seconds, stalled_worker_timeout=timing.stalled_seconds,
                fetch_job_polling_interval=timing.fetch_seconds, install_signal_handlers=False))

            def on_signal(signum: signal.Signals) -> None:
                log.info("received %s: finishing the task in hand, then stopping", signum.name)
                notifier.stopping("stopping: finishing the task in hand")
                stopping.set()
                task.cancel()  # procrastinate's worker then stops gracefully (no new task)

            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, on_signal, signum)
            notifier.ready(f"worker {name}: {len(deployment.contexts)} source(s)")
            pinger = asyncio.create_task(keep_alive())
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            finally:
                pinger.cancel()

    try:
        asyncio.run(work())
    finally:
        shared.dispose()
        notifier.close()
        if server is not None:
            server.close()
    log.info("worker %s stopped", name)
    return ExitCode.OK
