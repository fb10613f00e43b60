"""Which jobs are due, running them, and recording each run in ``job_runs``.

A scheduled job is due when its latest scheduled moment at or before ``now``
has no successful ``job_runs`` row ``(job, scheduled_for)``. So cron every few
minutes, a daemon restarted at any time, or one that never stopped, do the same
work; a job that failed (or was killed) is simply due again on the next turn.

- ``snapshot``: every local midnight, for the day that ended; after downtime only the
  latest midnight is caught up (older days are never invented from today's numbers).
- ``reminders``: 00:00 on the 1st and every ``jobs.reminder_times`` check; after downtime
  the latest moment runs, and it handles every reminder due by then.
- ``achievements``, ``notify``: after every sync cycle, without a job lock (they are
  idempotent row by row); a run that found something new, or failed, is recorded in
  one ``job_runs`` row per local day (keyed by its midnight), so the table stays small.

A per-job advisory lock keeps two processes from running the same scheduled
job at the same time (the jobs are idempotent anyway). A failing job is logged and
recorded as ``failed``; it never stops the other jobs or the daemon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jobs.achievements import detect_achievements
from jobs.moments import latest_check, midnight, month_start
from jobs.notifier import ApprisePoster, Notifier
from jobs.notify import announce
from jobs.reminders import process_reminders
from jobs.snapshots import take_snapshots
from models import job_queries as q
from models.errors import GoalsSyncError
from models.settings import DEFAULT_SOURCE, Settings

if TYPE_CHECKING:
    from models.store import Store
    from sync.context import Context

log = logging.getLogger("jobs")

Counts = Mapping[str, int | str]
JobFunction = Callable[..., Counts]

JOB_NAMES: tuple[str, ...] = ("snapshot", "achievements", "notify", "reminders")
# The snapshot freezes the day that ended, so it belongs before the first cycle of the new day
# (which would otherwise mix in edits made after midnight, and rewrite the Summary a second time
# for the new trend point); the other jobs need the cycle's fresh data.
BEFORE_CYCLE: tuple[str, ...] = ("snapshot",)
AFTER_CYCLE: tuple[str, ...] = ("achievements", "notify", "reminders")
EVERY_TURN: frozenset[str] = frozenset({"achievements", "notify"})
_STOPPABLE: frozenset[str] = frozenset({"notify", "reminders"})
_JOBS: dict[str, JobFunction] = {
    "snapshot": take_snapshots,
    "achievements": detect_achievements,
    "notify": announce,
    "reminders": process_reminders,
}
# Counts that mean "something happened": a quiet every-turn run is logged at DEBUG only.
_NEWS: dict[str, tuple[str, ...]] = {
    "achievements": ("new",),
    "notify": ("emails", "team_posts", "announced", "failed"),
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75


@dataclass(frozen=True)
class JobOutcome:
    """How one job run went. ``status``: ``success``, ``failed``, or ``skipped`` (another
    process was running the same job, or it had already run for this moment)."""

    job: str
    scheduled_for: datetime
    status: str
    counts: Counts = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def problems(self) -> int:
        """Sends that failed during an otherwise successful run."""
        failed = self.counts.get("failed", 0)
        return failed if isinstance(failed, int) else 0

    def log_fields(self, source: str = DEFAULT_SOURCE) -> dict[str, object]:
        """Job, status, counts and duration as separate fields (``extra=`` of the job's log line)."""
        return {"event": "job", "source": source, "job": self.job, "status": self.status,
                "scheduled_for": self.scheduled_for.isoformat(), "seconds": round(self.seconds, 3),
                "counts": dict(self.counts), "error": self.error}

    def detail(self) -> str:
        """``key=value`` counts, or the error, for logs and ``job_runs.detail``."""
        if self.error:
            return self.error
        return " ".join(f"{key}={value}" for key, value in self.counts.items())


def scheduled_moment(job: str, now: datetime, settings: Settings) -> datetime:
    """The latest moment at or before ``now`` at which ``job`` was scheduled (its ``job_runs`` key)."""
    tz = settings.tz
    if job == "reminders":
        start = month_start(now, tz)
        check = latest_check(now, tz, settings.jobs.reminder_times)
        return max(start, check) if check is not None else start
    if job in _JOBS:
        return midnight(now, tz)
    raise ValueError(f"unknown job {job!r}; use one of {', '.join(JOB_NAMES)}")


def _record(store: Store, now: datetime, write: Callable[[Any], None]) -> None:
    try:
        with store.transaction(now) as tx:
            write(tx)
    except GoalsSyncError as error:  # the database may be the very reason the job failed
        log.error("could not record the job run: %s", error)


def run_job(store: Store, settings: Settings, notifier: Notifier, job: str, now: datetime, *,
            force: bool = False, stop: Callable[[], bool] | None = None) -> JobOutcome:
    """Run ``job`` for its moment at ``now`` and record it; unless ``force``, skip it when that
    moment already has a successful run. Never raises for a failing job: it is logged,
    recorded as ``failed`` and returned."""
    moment = scheduled_moment(job, now, settings)
    started = time.monotonic()
    try:
        if job in EVERY_TURN:
            # Idempotent on their own (unique key, row locks) and run every turn: no job lock needed.
            counts = _call(job, store, settings, notifier, now, stop)
        else:
            with q.job_lock(store, job) as got:
                if not got:
                    log.info("job %s skipped: another process is running it", job)
                    return JobOutcome(job, moment, "skipped", {"reason": "locked"})
                with store.transaction(now) as tx:
                    if not force and q.successful_runs(tx, [(job, moment)]):
                        return JobOutcome(job, moment, "skipped", {"reason": "done"})
                    q.start_job_run(tx, job, moment, now)
                counts = _call(job, store, settings, notifier, now, stop)
        outcome = JobOutcome(job, moment, "success", counts, time.monotonic() - started)
    except Exception as error:  # a failing job must never stop the others or the daemon
        message = str(error) if isinstance(error, GoalsSyncError) else f"{type(error).__name__}: {error}"
        outcome = JobOutcome(job, moment, "failed", {}, time.monotonic() - started, message)
        log.error("job %s (scheduled %s) failed after %.2fs: %s", job, _when(moment, settings), outcome.seconds,
                  message, exc_info=not isinstance(error, GoalsSyncError), extra=outcome.log_fields())
    quiet = outcome.status == "success" and job in _NEWS and not any(outcome.counts.get(k) for k in _NEWS[job])
    if not quiet:  # a quiet every-turn run (nothing new) leaves no row, so job_runs stays small
        finished = now + timedelta(seconds=outcome.seconds)
        _record(store, now, lambda tx: q.finish_job_run(tx, job, moment, started_at=now, finished_at=finished,
                                                       status=outcome.status, detail=outcome.detail()))
    if outcome.status == "success":
        log.log(logging.DEBUG if quiet else logging.INFO, "job %s (scheduled %s) done in %.2fs: %s", job,
                _when(moment, settings), outcome.seconds, outcome.detail(), extra=outcome.log_fields())
    return outcome


def _call(job: str, store: Store, settings: Settings, notifier: Notifier, now: datetime,  # noqa: PLR0917
          stop: Callable[[], bool] | None) -> Counts:
    extra = {"stop": stop} if job in _STOPPABLE else {}
    return _JOBS[job](store, settings, notifier, now, **extra)


def _when(moment: datetime, settings: Settings) -> str:
    return f"{moment.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}"


def run_due(store: Store, settings: Settings, notifier: Notifier, now: datetime, *,
            jobs: Sequence[str] = JOB_NAMES, stop: Callable[[], bool] | None = None) -> list[JobOutcome]:
    """Run every job of ``jobs`` that is due at ``now``, in ``JOB_NAMES`` order (snapshot,
    achievements, notify, reminders)."""
    wanted = [job for job in JOB_NAMES if job in jobs]
    scheduled = [(job, scheduled_moment(job, now, settings)) for job in wanted if job not in EVERY_TURN]
    try:
        with store.transaction(now) as tx:
            done = q.successful_runs(tx, scheduled)
    except GoalsSyncError as error:
        log.error("could not check which jobs are due: %s", error)
        return []
    outcomes = []
    for job in wanted:
        if stop is not None and stop():
            break
        if job not in EVERY_TURN and (job, scheduled_moment(job, now, settings)) in done:
            continue
        outcomes.append(run_job(store, settings, notifier, job, now, stop=stop))
    return outcomes


def notifier_for(settings: Settings) -> Notifier:
    """The notifier the config describes (Apprise URLs under ``notifications``)."""
    return ApprisePoster(settings.notifications)


def run_due_jobs(context: Context, now: datetime, *, jobs: Sequence[str] = JOB_NAMES,
                 stop: Callable[[], bool] | None = None) -> list[JobOutcome]:
    """Run every job of ``jobs`` due at ``now`` with the command's store and config.

    A turn is ``run_due_jobs(..., jobs=BEFORE_CYCLE)``, the cycle, then
    ``run_due_jobs(..., jobs=AFTER_CYCLE)``; the default (every job) after the cycle works
    too, only the snapshot then also sees what the first cycle after midnight brought.
    """
    try:
        store = context.store()
    except GoalsSyncError as error:
        log.error("jobs skipped: %s", error)
        return []
    return run_due(store, context.settings, notifier_for(context.settings), now, jobs=jobs, stop=stop)


def run_job_now(context: Context, job: str, now: datetime) -> int:
    """``python -m sync jobs JOB``: run one job for ``now`` even if it already ran, print what it
    did. Exit code 0, 1 (failed, or some send failed: it will be retried), 75 (another process
    is running it) or 2 (unknown job)."""
    if job not in _JOBS:
        print(f"error: unknown job {job!r}; use one of {', '.join(JOB_NAMES)}")
        return EXIT_USAGE
    settings = context.settings
    outcome = run_job(context.store(), settings, notifier_for(settings), job, now, force=True)
    print(f"{job} at {now.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}: {outcome.status}"
          f"{' — ' + outcome.detail() if outcome.detail() else ''}")
    if outcome.status == "skipped":
        return EXIT_LOCKED
    if outcome.status == "failed" or outcome.problems:
        return EXIT_FAILED
    return EXIT_OK
