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
  idempotent row by row), but only when they may have work: ``achievements`` when the
  day's successful run saw other data (reps, monthly or yearly goals changed since: their
  ``updated_at``) or other goal settings, ``notify`` when an achievement is waiting to be
  announced and a channel is configured. Every achievement run, and a notify run that
  sent something or failed, is recorded in one ``job_runs`` row per local day (keyed by
  its midnight), so the table stays small; the achievement row's detail names the data
  it evaluated.

One query (``job_queries.due_state``) decides all of this, so a turn with nothing due
costs one round trip and imports none of the jobs.

A per-job advisory lock keeps two processes from running the same scheduled
job at the same time (the jobs are idempotent anyway). A failing job is logged and
recorded as ``failed``; it never stops the other jobs or the daemon.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from jobs.channels import ApprisePoster, Notifier
from jobs.moments import latest_check, latest_weekly, midnight, month_start
from models.errors import ExitCode, GoalsSyncError
from models.rules.achievements import announced_since
from models.settings import DEFAULT_SOURCE, WEEKDAYS, Settings

if TYPE_CHECKING:
    from models.ports import JobStore
    from sync.context import Context

log = logging.getLogger("jobs")

Counts = Mapping[str, int | str]
JobFunction = Callable[..., Counts]

JOB_NAMES: tuple[str, ...] = ("snapshot", "achievements", "notify", "reminders", "pace_alerts", "digest")
# The snapshot freezes the day that ended, so it belongs before the first cycle of the new day
# (which would otherwise mix in edits made after midnight, and rewrite the Summary a second time
# for the new trend point); the other jobs need the cycle's fresh data.
BEFORE_CYCLE: tuple[str, ...] = ("snapshot",)
AFTER_CYCLE: tuple[str, ...] = ("achievements", "notify", "reminders", "pace_alerts", "digest")
EVERY_TURN: frozenset[str] = frozenset({"achievements", "notify", "pace_alerts"})
_STOPPABLE: frozenset[str] = frozenset({"notify", "reminders", "pace_alerts", "digest"})
# Each job's function as (module, name), imported when the job runs: a turn with nothing due loads none.
_JOBS: dict[str, tuple[str, str]] = {
    "snapshot": ("jobs.snapshots", "take_snapshots"),
    "achievements": ("jobs.achievements", "detect_achievements"),
    "notify": ("jobs.notify", "announce"),
    "reminders": ("jobs.reminders", "process_reminders"),
    "pace_alerts": ("jobs.pace_alerts", "alert_pace"),
    "digest": ("jobs.digest", "send_digest"),
}
# Counts that mean "something happened": a quiet every-turn run is logged at DEBUG only.
_NEWS: dict[str, tuple[str, ...]] = {
    "achievements": ("new", "revoked", "reinstated"),
    "notify": ("emails", "team_posts", "announced", "failed", "corrections"),
    "pace_alerts": ("new", "emails", "failed"),
}

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
    if job == "digest":
        digest = settings.notifications.digest
        return latest_weekly(now, tz, WEEKDAYS.index(digest.weekday), digest.time)
    if job in _JOBS:
        return midnight(now, tz)
    raise ValueError(f"unknown job {job!r}; use one of {', '.join(JOB_NAMES)}")


def _record(store: JobStore, now: datetime, write: Callable[[Any], None]) -> None:
    try:
        with store.job_transaction(now) as tx:
            write(tx)
    except GoalsSyncError as error:  # the database may be the very reason the job failed
        log.error("could not record the job run: %s", error)


def evaluated_data(data_version: datetime | None, settings: Settings) -> dict[str, str]:
    """What an achievement run evaluated, as it is kept in its ``job_runs.detail``: the data
    version (see ``job_queries.DueState``) and a fingerprint of the goal settings."""
    goals = hashlib.sha256(settings.goals.model_dump_json().encode()).hexdigest()[:12]
    # In UTC, so the session's time zone never makes the same version look different.
    return {"data_as_of": data_version.astimezone(UTC).isoformat() if data_version else "-", "goals": goals}


def _parse_detail(detail: str | None) -> dict[str, str]:
    """The ``key=value`` pairs of ``JobOutcome.detail``."""
    return dict(part.split("=", 1) for part in (detail or "").split() if "=" in part)


def _evaluated_version(evaluated: Mapping[str, str], current: Mapping[str, str]) -> datetime | None:
    """The data version the day's last achievement run evaluated, when it used the goal settings
    in force now (then only what changed after it needs evaluating); None otherwise."""
    if evaluated.get("goals") != current["goals"] or evaluated.get("data_as_of", "-") == "-":
        return None
    return datetime.fromisoformat(evaluated["data_as_of"])


def _data_version(store: JobStore, now: datetime) -> datetime | None:
    with store.job_transaction(now) as tx:
        return tx.due_state([], every_turn=True).data_version


def run_job(store: JobStore, settings: Settings, notifier: Notifier, job: str, now: datetime, *,
            force: bool = False, stop: Callable[[], bool] | None = None,
            data_version: datetime | None = None, changed_since: datetime | None = None) -> JobOutcome:
    """Run ``job`` for its moment at ``now`` and record it; unless ``force``, skip it when that
    moment already has a successful run. Never raises for a failing job: it is logged,
    recorded as ``failed`` and returned. ``data_version``: the achievement job's, read
    before it (``run_due`` has it; else it is read here); ``changed_since``: the data version
    the day's last achievement run evaluated with these settings (only later changes are
    evaluated; None: everything)."""
    moment = scheduled_moment(job, now, settings)
    started = time.monotonic()
    counts: Counts
    try:
        if job in EVERY_TURN:
            # Idempotent on their own (unique key, row locks) and run every turn: no job lock needed.
            if job == "achievements":
                # The version is read before the job reads its states, so a change made meanwhile
                # is seen as a change on the next turn.
                version = data_version if data_version is not None else _data_version(store, now)
                counts = {**_call(job, store, settings, notifier, now, stop, changed_since=changed_since),
                          **evaluated_data(version, settings)}
            else:
                counts = _call(job, store, settings, notifier, now, stop)
        else:
            with store.job_lock(job) as got:
                if not got:
                    log.info("job %s skipped: another process is running it", job)
                    return JobOutcome(job, moment, "skipped", {"reason": "locked"})
                with store.job_transaction(now) as tx:
                    if not force and tx.successful_runs([(job, moment)]):
                        return JobOutcome(job, moment, "skipped", {"reason": "done"})
                    tx.start_job_run(job, moment, now)
                counts = _call(job, store, settings, notifier, now, stop)
        outcome = JobOutcome(job, moment, "success", counts, time.monotonic() - started)
    except Exception as error:  # a failing job must never stop the others or the daemon
        message = str(error) if isinstance(error, GoalsSyncError) else f"{type(error).__name__}: {error}"
        outcome = JobOutcome(job, moment, "failed", {}, time.monotonic() - started, message)
        log.error("job %s (scheduled %s) failed after %.2fs: %s", job, _when(moment, settings), outcome.seconds,
                  message, exc_info=not isinstance(error, GoalsSyncError), extra=outcome.log_fields())
    quiet = outcome.status == "success" and job in _NEWS and not any(outcome.counts.get(k) for k in _NEWS[job])
    # A quiet notify run leaves no row; an achievement run always updates its day's row, whose
    # detail says which data it evaluated (so the next turn knows whether to run again).
    if not quiet or job == "achievements":
        finished = now + timedelta(seconds=outcome.seconds)
        _record(store, now, lambda tx: tx.finish_job_run(job, moment, started_at=now, finished_at=finished,
                                                       status=outcome.status, detail=outcome.detail()))
    if outcome.status == "success":
        log.log(logging.DEBUG if quiet else logging.INFO, "job %s (scheduled %s) done in %.2fs: %s", job,
                _when(moment, settings), outcome.seconds, outcome.detail(), extra=outcome.log_fields())
    return outcome


def _call(job: str, store: JobStore, settings: Settings, notifier: Notifier, now: datetime,  # noqa: PLR0917
          stop: Callable[[], bool] | None, changed_since: datetime | None = None) -> Counts:
    extra: dict[str, Any] = {"stop": stop} if job in _STOPPABLE else {}
    if changed_since is not None:
        extra["changed_since"] = changed_since
    module, name = _JOBS[job]
    function = cast(JobFunction, getattr(importlib.import_module(module), name))
    return function(store, settings, notifier, now, **extra)


def _when(moment: datetime, settings: Settings) -> str:
    return f"{moment.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}"


def run_due(store: JobStore, settings: Settings, notifier: Notifier, now: datetime, *,
            jobs: Sequence[str] = JOB_NAMES, stop: Callable[[], bool] | None = None) -> list[JobOutcome]:
    """Run every job of ``jobs`` that is due at ``now``, in ``JOB_NAMES`` order (snapshot,
    achievements, notify, reminders). Which are due is one query."""
    wanted = [job for job in JOB_NAMES if job in jobs]
    keys = {job: (job, scheduled_moment(job, now, settings)) for job in wanted}
    try:
        with store.job_transaction(now) as tx:
            due = tx.due_state(list(keys.values()), every_turn=any(job in EVERY_TURN for job in wanted),
                              earned_since=announced_since(now.astimezone(settings.tz).date(),
                                                           settings.notifications.max_age_days))
    except GoalsSyncError as error:
        log.error("could not check which jobs are due: %s", error)
        return []
    outcomes: list[JobOutcome] = []
    changed_since: datetime | None = None
    for job in wanted:
        if stop is not None and stop():
            break
        if job == "achievements":
            evaluated = _parse_detail(due.details.get(keys[job]))
            current = evaluated_data(due.data_version, settings)
            if evaluated.items() >= current.items():
                continue  # the day's run saw this very data with these settings
            changed_since = _evaluated_version(evaluated, current)
        elif job == "notify":
            found = any(o.job == "achievements" and any(o.counts.get(k) for k in _NEWS["achievements"])
                        for o in outcomes)
            if not ((notifier.can_email or notifier.has_team) and (due.pending_announcements or found)):
                continue  # nothing waits to be announced, or nowhere to announce it
        elif job == "pace_alerts":
            if not settings.notifications.pace_alerts:
                continue  # opt-in; when on it runs every turn: a rep may turn critical at any cycle
        elif keys[job] in due.done or (job == "digest" and not settings.notifications.digest.enabled):
            continue
        outcomes.append(run_job(store, settings, notifier, job, now, stop=stop, data_version=due.data_version,
                                changed_since=changed_since if job == "achievements" else None))
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
        return ExitCode.USAGE
    settings = context.settings
    outcome = run_job(context.store(), settings, notifier_for(settings), job, now, force=True)
    print(f"{job} at {now.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}: {outcome.status}"
          f"{' — ' + outcome.detail() if outcome.detail() else ''}")
    if outcome.status == "skipped":
        return ExitCode.LOCKED
    if outcome.status == "failed" or outcome.problems:
        return ExitCode.FAILED
    return ExitCode.OK
