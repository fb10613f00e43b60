"""``python -m sync run``: the long-running daemon.

Every ``sync.poll_seconds`` (a ``schedule.Scheduler`` of its own keeps the
cadence) the daemon runs one *turn*: the midnight snapshot if it is due (before
the cycle, so it freezes the day that ended as it ended), a sync cycle, then
every other job that is due (``jobs.runner.run_due_jobs``). Whether a job is due is decided by the
``job_runs`` table against the clock, not by the scheduler, so a restart, a
``--now`` clock or cron in parallel never changes what runs; the loop also
starts a turn at once when a local midnight or a reminder check time passes,
so jobs are on time even with a long poll interval. (``schedule``'s own
``.at(time, tz)`` needs pytz, which this project does not install, and would
follow the real clock rather than ``--now``.)

The loop sleeps in slices of at most one second. SIGTERM or SIGINT lets the
current step finish (the cycle, or the job running, stops between two
messages; a cycle waiting to retry Google Sheets stops waiting and fails,
rolled back) and exits 0; a second signal stops at once, rolling back the open
transaction. A failed cycle, a failing job or a database outage is logged and
the next turn tries again.

Under systemd (``Type=notify``) it sends READY=1 once it is listening, WATCHDOG=1 after each
turn, while idle and between the steps of a long turn (often enough for ``WatchdogSec``),
STOPPING=1 on the way out, and a STATUS line after each turn. With a metrics port
(``--metrics-port`` / ``metrics.port``) one HTTP thread serves ``/metrics`` and ``/healthz``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

import schedule

from jobs.moments import next_moment
from models.errors import ExitCode, GoalsSyncError
from models.settings import DEFAULT_SOURCE, WEEKDAYS
from models.values import CycleResult
from sync.context import Context, Deployment
from sync.systemd import ServiceNotifier

if TYPE_CHECKING:
    from sync.health import Health
    from sync.metrics import DaemonMetrics, MetricsServer
    from sync.turn import TurnResult

log = logging.getLogger("sync.daemon")

MAX_SLEEP_SECONDS = 1.0
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Abort(BaseException):
    """Raised by a second stop signal to leave the current step at once."""


class _StopFlag:
    """Set by the first SIGTERM/SIGINT; a second one aborts the current step."""

    def __init__(self, heartbeat: Callable[[], None] | None = None) -> None:
        self.event = threading.Event()
        self.heartbeat = heartbeat

    def __call__(self) -> bool:
        # Long steps ask this between messages or rows: a good moment to tell the watchdog we progress.
        if self.heartbeat is not None:
            self.heartbeat()
        return self.event.is_set()

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.event.is_set():
            log.warning("received %s again: stopping now", name)
            raise _Abort
        log.info("received %s: finishing the current step, then stopping", name)
        self.event.set()


class _Turn:
    """One source's sync cycle plus its due jobs, never raising (except for an abort).

    ``release``: close the source's pooled connections after the turn (a daemon serving many
    sources would otherwise keep two idle connections per source open).
    """

    def __init__(self, context: Context, *, dry_run: bool, stop: _StopFlag,
                 observe: Callable[[TurnResult, Context], None], release: bool = False) -> None:
        self.context, self.dry_run, self.stop, self.observe = context, dry_run, stop, observe
        self.release = release
        self.next_moment: datetime | None = None

    def __call__(self) -> None:
        from sync.turn import TurnResult, run_turn

        context = self.context
        now = context.clock.now()
        poll = context.settings.sync.poll_seconds
        try:
            context.store()  # connect (and migrate) first: an outage is one "turn failed" line
            log.debug("turn at %s: sync cycle starting", now.isoformat())
            turn = run_turn(context, now, dry_run=self.dry_run, stop=self.stop)
            if turn.cycle.status == "failed" and not self.stop():  # a stop ends retry waits: no next cycle
                log.warning("the cycle%s failed; the next one runs in %gs", self.of(), poll)
        except GoalsSyncError as error:
            log.error("turn%s failed: %s; retrying in %gs", self.of(), error, poll)
            turn = TurnResult(CycleResult(status="failed", now=now, error=str(error)))
        except Exception as error:
            log.exception("unexpected error in a turn; the daemon keeps running")
            turn = TurnResult(CycleResult(status="failed", now=now, error=f"unexpected error ({type(error).__name__})"))
        self.observe(turn, context)
        if self.release:
            context.close()
        settings = context.settings
        digest = settings.notifications.digest
        weekly = (WEEKDAYS.index(digest.weekday), digest.time) if digest.enabled else None
        self.next_moment = next_moment(context.clock.now(), settings.tz, settings.jobs.reminder_times, weekly)
        log.debug("turn at %s finished", now.isoformat())

    def of(self) -> str:
        """`` of source NAME`` for log lines (nothing for the default source)."""
        return "" if self.context.source == DEFAULT_SOURCE else f" of source {self.context.source}"


class _Observers:
    """Where each turn is reported: the service manager, and the metrics and health when served."""

    def __init__(self, deployment: Deployment, notifier: ServiceNotifier, port: int | None) -> None:
        self.notifier = notifier
        self.metrics: DaemonMetrics | None = None
        self.health: Health | None = None
        self.server: MetricsServer | None = None
        if port is not None:
            from sync.health import Health
            from sync.metrics import DaemonMetrics, MetricsServer, health_and_metrics_app

            self.metrics = DaemonMetrics([c.source for c in deployment.contexts])
            self.health = Health(min(c.settings.sync.poll_seconds for c in deployment.contexts))
            self.server = MetricsServer(health_and_metrics_app(self.metrics, self.health),
                                        deployment.settings.metrics.host, port)
            log.info("metrics at %s/metrics, health at %s/healthz", self.server.address, self.server.address)

    def __call__(self, turn: TurnResult, context: Context) -> None:
        cycle = turn.cycle
        if self.health is not None:
            self.health.record(cycle)
        if self.metrics is not None:
            requests, retries = context.sheets_requests()
            self.metrics.record(turn, requests=requests, retries=retries, source=context.source)
        counts = f"{cycle.rows_read} rows read, {cycle.problem_count} problems" if cycle.status != "failed" \
            else (cycle.error or "see the log")
        self.notifier.watchdog(f"cycle {cycle.status} at {cycle.now:%Y-%m-%d %H:%M:%S} "
                               f"({cycle.seconds:.1f} s): {counts}")

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def run_daemon(deployment: Deployment, args: argparse.Namespace) -> int:
    """Run every selected source's turns until SIGTERM/SIGINT; exit 0 after a clean stop.

    Sources take turns one at a time, each at its own ``poll_seconds``; a failing source is
    logged and does not hold up the others.
    """
    notifier = ServiceNotifier()
    port = getattr(args, "metrics_port", None) or deployment.settings.metrics.port
    try:
        observers = _Observers(deployment, notifier, port)
    except GoalsSyncError:
        deployment.close()
        raise
    stop = _StopFlag(heartbeat=notifier.watchdog_if_due)
    dry_run = bool(getattr(args, "dry_run", False))
    scheduler = schedule.Scheduler()
    polls: list[tuple[_Turn, schedule.Job]] = []
    for context in deployment.contexts:
        settings = context.settings
        context.stop = stop  # a wait for the Sheets quota gives up on a stop
        turn = _Turn(context, dry_run=dry_run, stop=stop, observe=observers, release=deployment.many)
        # schedule annotates ``interval`` as int, but it only builds a timedelta from it: a float works
        polls.append((turn, scheduler.every(settings.sync.poll_seconds).seconds.do(turn)))  # type: ignore[arg-type]
        log.info("daemon started%s: a sync every %gs, reminder checks at %s (%s), clock at %s", turn.of(),
                 settings.sync.poll_seconds, ", ".join(settings.jobs.reminder_times) or "no time",
                 settings.timezone, context.clock.now().isoformat(timespec="seconds"))
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, stop.handle) for sig in _SIGNALS} if in_main_thread else {}
    shortest = min(c.settings.sync.poll_seconds for c in deployment.contexts)
    notifier.ready(f"started: a sync every {shortest:g} s" + (f" ({len(polls)} sources)" if deployment.many else ""))
    try:
        for _turn, poll in polls:  # the first turns at once, then every poll_seconds
            if not stop.event.is_set():
                poll.run()
        if not dry_run and not stop.event.is_set():
            deployment.refresh_rollup()
        while not stop():  # stop() also pings the watchdog when due, so long idle waits are covered
            late = [poll for turn, poll in polls
                    if turn.next_moment is not None and turn.context.clock.now() >= turn.next_moment]
            if late:
                late[0].run()  # a midnight or check time passed: run now, poll again from here
                continue
            scheduler.run_pending()
            idle = scheduler.idle_seconds
            stop.event.wait(min(MAX_SLEEP_SECONDS, max(idle if idle is not None else 0.0, 0.0)) or 0.05)
        log.info("daemon stopped")
    except _Abort:
        log.info("daemon stopped during a step; its open transaction was rolled back")
    finally:
        notifier.stopping("stopping")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        observers.close()
        deployment.close()
        notifier.close()
    return ExitCode.OK
