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
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import datetime
from types import FrameType

import schedule

from jobs.moments import next_moment
from models.errors import GoalsSyncError
from sync.context import Context

log = logging.getLogger("sync.daemon")

MAX_SLEEP_SECONDS = 1.0
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Abort(BaseException):
    """Raised by a second stop signal to leave the current step at once."""


class _StopFlag:
    """Set by the first SIGTERM/SIGINT; a second one aborts the current step."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
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

    def __init__(self, context: Context, *, dry_run: bool, stop: _StopFlag) -> None:
        self.context, self.dry_run, self.stop = context, dry_run, stop
        self.next_moment: datetime | None = None

    def __call__(self) -> None:
        from sync.turn import run_turn

        context = self.context
        now = context.clock.now()
        try:
            context.store()  # connect (and migrate) first: an outage is one "turn failed" line
            log.debug("turn at %s: sync cycle starting", now.isoformat())
            result = run_turn(context, now, dry_run=self.dry_run, stop=self.stop)
            if result.status == "failed":
                log.warning("the cycle failed; the next one runs in %gs", context.settings.sync.poll_seconds)
        except GoalsSyncError as error:
            log.error("turn failed: %s; retrying in %gs", error, context.settings.sync.poll_seconds)
        except Exception:
            log.exception("unexpected error in a turn; the daemon keeps running")
        settings = context.settings
        self.next_moment = next_moment(context.clock.now(), settings.tz, settings.jobs.reminder_times)
        log.debug("turn at %s finished", now.isoformat())


def run_daemon(context: Context, args: argparse.Namespace) -> int:
    """Run turns until SIGTERM/SIGINT; exit 0 after a clean stop."""
    settings = context.settings
    stop = _StopFlag()
    turn = _Turn(context, dry_run=bool(getattr(args, "dry_run", False)), stop=stop)
    scheduler = schedule.Scheduler()
    # schedule annotates ``interval`` as int, but it only builds a timedelta from it: a float works
    poll = scheduler.every(settings.sync.poll_seconds).seconds.do(turn)  # type: ignore[arg-type]
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, stop.handle) for sig in _SIGNALS} if in_main_thread else {}
    log.info("daemon started: a sync every %gs, reminder checks at %s (%s), clock at %s", settings.sync.poll_seconds,
             ", ".join(settings.jobs.reminder_times) or "no time", settings.timezone,
             context.clock.now().isoformat(timespec="seconds"))
    try:
        poll.run()  # the first turn at once, then every poll_seconds
        while not stop():
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
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        context.close()
    return 0
