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
messages) and exits 0; a second signal stops at once, rolling back the open
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
from models.errors import GoalsSyncError
from models.settings import WEEKDAYS
from models.values import CycleResult
from sync.context import Context
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
    """One sync cycle plus the due jobs, never raising (except for an abort)."""

    def __init__(self, context: Context, *, dry_run: bool, stop: _StopFlag,
                 observe: Callable[[TurnResult], None]) -> None:
        self.context, self.dry_run, self.stop, self.observe = context, dry_run, stop, observe
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
            if turn.cycle.status == "failed":
                log.warning("the cycle failed; the next one runs in %gs", poll)
        except GoalsSyncError as error:
            log.error("turn failed: %s; retrying in %gs", error, poll)
            turn = TurnResult(CycleResult(status="failed", now=now, error=str(error)))
        except Exception as error:
            log.exception("unexpected error in a turn; the daemon keeps running")
            turn = TurnResult(CycleResult(status="failed", now=now, error=f"unexpected error ({type(error).__name__})"))
        self.observe(turn)
        settings = context.settings
        digest = settings.notifications.digest
        weekly = (WEEKDAYS.index(digest.weekday), digest.time) if digest.enabled else None
        self.next_moment = next_moment(context.clock.now(), settings.tz, settings.jobs.reminder_times, weekly)
        log.debug("turn at %s finished", now.isoformat())


class _Observers:
    """Where each turn is reported: the service manager, and the metrics and health when served."""

    def __init__(self, context: Context, notifier: ServiceNotifier, port: int | None) -> None:
        self.context, self.notifier = context, notifier
        self.metrics: DaemonMetrics | None = None
        self.health: Health | None = None
        self.server: MetricsServer | None = None
        if port is not None:
            from sync.health import Health
            from sync.metrics import DaemonMetrics, MetricsServer, health_and_metrics_app

            self.metrics = DaemonMetrics()
            self.health = Health(context.settings.sync.poll_seconds)
            self.server = MetricsServer(health_and_metrics_app(self.metrics, self.health),
                                        context.settings.metrics.host, port)
            log.info("metrics at %s/metrics, health at %s/healthz", self.server.address, self.server.address)

    def __call__(self, turn: TurnResult) -> None:
        cycle = turn.cycle
        if self.health is not None:
            self.health.record(cycle)
        if self.metrics is not None:
            requests, retries = self.context.sheets_requests()
            self.metrics.record(turn, requests=requests, retries=retries)
        counts = f"{cycle.rows_read} rows read, {len(cycle.problems)} problems" if cycle.status != "failed" \
            else (cycle.error or "see the log")
        self.notifier.watchdog(f"cycle {cycle.status} at {cycle.now:%Y-%m-%d %H:%M:%S} "
                               f"({cycle.seconds:.1f} s): {counts}")

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def run_daemon(context: Context, args: argparse.Namespace) -> int:
    """Run turns until SIGTERM/SIGINT; exit 0 after a clean stop."""
    settings = context.settings
    notifier = ServiceNotifier()
    port = getattr(args, "metrics_port", None) or settings.metrics.port
    try:
        observers = _Observers(context, notifier, port)
    except GoalsSyncError:
        context.close()
        raise
    stop = _StopFlag(heartbeat=notifier.watchdog_if_due)
    turn = _Turn(context, dry_run=bool(getattr(args, "dry_run", False)), stop=stop, observe=observers)
    scheduler = schedule.Scheduler()
    # schedule annotates ``interval`` as int, but it only builds a timedelta from it: a float works
    poll = scheduler.every(settings.sync.poll_seconds).seconds.do(turn)  # type: ignore[arg-type]
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, stop.handle) for sig in _SIGNALS} if in_main_thread else {}
    log.info("daemon started: a sync every %gs, reminder checks at %s (%s), clock at %s", settings.sync.poll_seconds,
             ", ".join(settings.jobs.reminder_times) or "no time", settings.timezone,
             context.clock.now().isoformat(timespec="seconds"))
    notifier.ready(f"started: a sync every {settings.sync.poll_seconds:g} s")
    try:
        poll.run()  # the first turn at once, then every poll_seconds
        while not stop():  # stop() also pings the watchdog when due, so long idle waits are covered
            if turn.next_moment is not None and context.clock.now() >= turn.next_moment:
                poll.run()  # a midnight or check time passed: run now, poll again from here
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
        context.close()
        notifier.close()
    return 0
