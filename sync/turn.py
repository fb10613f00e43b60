"""One turn, as cron's ``run --once`` and the daemon both run it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from models.values import CycleResult
from sync.context import Context
from sync.cycle import run_cycle

if TYPE_CHECKING:
    from jobs.runner import JobOutcome
    from sync.reuse import CycleMemo


@dataclass(frozen=True)
class TurnResult:
    """What one turn did: its sync cycle and the jobs that ran (for logs, metrics and exit codes)."""

    cycle: CycleResult
    jobs: tuple[JobOutcome, ...] = ()


def run_turn(context: Context, now: datetime, *, dry_run: bool = False,
             stop: Callable[[], bool] | None = None, memo: CycleMemo | None = None) -> TurnResult:
    """The midnight snapshot if due, one sync cycle, then every other due job.

    The snapshot goes first so it freezes the day that ended as it ended; the
    other jobs run only after a cycle that neither failed nor was skipped, so
    reminders and achievements never act on stale data. A dry run runs no job.
    """
    from jobs.runner import AFTER_CYCLE, BEFORE_CYCLE, run_due_jobs

    jobs: list[JobOutcome] = []
    if not dry_run:
        jobs += run_due_jobs(context, now, jobs=BEFORE_CYCLE, stop=stop)
    result = run_cycle(context.settings, context.store(), context.backend(), now, dry_run=dry_run,
                       memo=memo or context.cycle_memo())
    if not dry_run and result.status not in {"failed", "skipped"} and not (stop is not None and stop()):
        jobs += run_due_jobs(context, now, jobs=AFTER_CYCLE, stop=stop)
    return TurnResult(result, tuple(jobs))
