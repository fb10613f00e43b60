"""The reminder job: goal-setting deadline reminders, created monthly, sent at the check times.

Each run (at midnight on the 1st and at every ``jobs.reminder_times`` check):

1. creates this month's reminders, one per active rep per type, due on the
   dates of ``models.rules.deadlines.reminder_due_dates`` (existing rows are
   kept, so a rep added mid-month gets theirs at the next check); a rep whose
   goal is set gets those already due created cancelled, as step 2 would
   cancel them (a first run mid-month writes each row once);
2. looks at every unsent, uncancelled reminder whose first check time has come
   (``models.rules.deadlines.reminder_action``) and cancels it when the rep's
   goal is set, the rep is inactive, it was overtaken by a later reminder of
   the same month (after downtime only the latest one is sent, not a burst of
   three), or its month is over (steps 1 and 2 are one transaction); otherwise
3. sends it: the reminder is locked (``FOR UPDATE SKIP LOCKED``), emailed,
   and marked sent in the same transaction, so two daemons never send it
   twice; a failed send adds an attempt and the reason and is retried at the
   next check. After a few failures in a row the run stops early (the mail
   server is probably down) and leaves the rest for the next check.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jobs.messages import reminder_message
from models.errors import NotifyError
from models.job_queries import OpenReminder
from models.rules.deadlines import (
    REMINDER_TYPES,
    checked_through,
    goal_deadline,
    reminder_action,
    reminder_due_dates,
)
from models.rules.periods import month_end
from models.settings import Settings

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.ports import CreatedReminders, JobStore, JobTransaction

log = logging.getLogger("jobs.reminders")

MAX_FAILURES_IN_A_ROW = 3


@dataclass(frozen=True)
class ReminderPlan:
    """What one run does with the open reminders: send these, cancel those, wait for the rest."""

    send: tuple[OpenReminder, ...]
    cancel: tuple[int, ...]
    waiting: int


def plan_reminders(reminders: Sequence[OpenReminder], now_local: datetime,
                   check_times: Sequence[str]) -> ReminderPlan:
    """Decide each open reminder's fate at ``now_local`` (the company-time-zone wall clock). Pure."""
    today = now_local.date()
    send: list[OpenReminder] = []
    cancel: list[int] = []
    waiting = 0
    key = lambda r: (r.rep_id, r.year, r.month)  # noqa: E731 - a sort/group key
    for _, group in itertools.groupby(sorted(reminders, key=key), key=key):
        candidates = []
        for reminder in group:
            action = reminder_action(reminder.due_date, now_local, check_times, goal_is_set=reminder.goal_set,
                                     sent=False, cancelled=False)
            expired = today > max(reminder.due_date, month_end(reminder.year, reminder.month))
            if action == "wait":
                waiting += 1
            elif action == "cancel" or not reminder.rep_active or expired:
                cancel.append(reminder.id)
            else:
                candidates.append(reminder)
        if candidates:
            latest = max(candidates, key=lambda r: (r.due_date, REMINDER_TYPES.index(r.reminder_type)))
            send.append(latest)
            cancel.extend(r.id for r in candidates if r is not latest)
    return ReminderPlan(send=tuple(send), cancel=tuple(cancel), waiting=waiting)


def create_month_reminders(tx: JobTransaction, settings: Settings, now: datetime) -> CreatedReminders:
    """Create the current month's reminders for every active rep (existing ones kept); those a
    set goal makes unnecessary and whose check has come are created cancelled."""
    now_local = now.astimezone(settings.tz)
    today = now_local.date()
    deadline_day = settings.goals.deadline_day
    return tx.create_reminders(
        year=today.year, month=today.month,
        deadline=goal_deadline(today.year, today.month, deadline_day, settings.tz),
        due_dates=reminder_due_dates(today.year, today.month, deadline_day), now=now,
        checked_through=checked_through(now_local, settings.jobs.reminder_times),
    )


def process_reminders(store: JobStore, settings: Settings, notifier: Notifier, now: datetime, *,
                      stop: Callable[[], bool] | None = None) -> dict[str, int | str]:
    """Create this month's reminders, cancel the ones no longer needed and send the due ones.
    Returns counts: ``created``, ``sent``, ``failed``, ``cancelled``, ``waiting``, ``left`` (due but
    not sent this run: no email configured, stopped early, or held by another process)."""
    now_local = now.astimezone(settings.tz)
    # One transaction: a run stopped in between must not leave reminders created but not yet
    # cancelled where the goal is already set, which no complete run leaves.
    with store.job_transaction(now) as tx:
        created = create_month_reminders(tx, settings, now)
        reminders = tx.open_reminders(due_by=now_local.date())
        plan = plan_reminders(reminders, now_local, settings.jobs.reminder_times)
        cancelled = created.cancelled + tx.cancel_reminders(plan.cancel, now)
    counts: dict[str, int | str] = {"created": created.added, "sent": 0, "failed": 0, "cancelled": cancelled,
                                    "waiting": plan.waiting, "left": 0}
    if plan.send and not notifier.can_email:
        log.warning("%d reminders are due but notifications.email_url is empty, so none was sent",
                    len(plan.send))
        counts["left"] = len(plan.send)
        return counts
    failures_in_a_row = 0
    for position, reminder in enumerate(plan.send):
        if (stop is not None and stop()) or failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
            counts["left"] = int(counts["left"]) + len(plan.send) - position
            break
        outcome = _send_one(store, settings, notifier, reminder, now)
        if outcome == "sent":
            failures_in_a_row = 0
        elif outcome == "failed":
            failures_in_a_row += 1
        key = "left" if outcome == "skipped" else outcome
        counts[key] = int(counts[key]) + 1
    if failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
        log.warning("stopped sending reminders after %d failures in a row; the rest wait for the next check",
                    failures_in_a_row)
    return counts


def _send_one(store: JobStore, settings: Settings, notifier: Notifier, reminder: OpenReminder,
              now: datetime) -> str:
    """Claim, send and mark one reminder in one transaction: ``sent``, ``failed`` or ``skipped``."""
    message = reminder_message(reminder.reminder_type, name=reminder.rep_name, year=reminder.year,
                               month=reminder.month, deadline=reminder.deadline,
                               today=now.astimezone(settings.tz).date(), settings=settings)
    with store.job_transaction(now) as tx:
        if not tx.claim_reminder(reminder.id):
            return "skipped"  # sent or cancelled meanwhile, goal just set, or another process has it
        try:
            notifier.send_to_rep(reminder.email, message.subject, message.body)
        except NotifyError as error:
            tx.mark_reminder_failed(reminder.id, str(error))
            log.warning("reminder %s for %s not sent (attempt %d): %s", reminder.reminder_type, reminder.email,
                        reminder.attempts + 1, error)
            return "failed"
        tx.mark_reminder_sent(reminder.id, now)
    return "sent"
