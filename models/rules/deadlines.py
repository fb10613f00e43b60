"""The goal-setting deadline, a month's deadline status and the deadline reminders.

The deadline of a month is the instant the day after ``deadline_day`` begins in
the company time zone (default: the 7th at 00:00). A goal set exactly at that
instant is on time (``<=``); the deadline has *passed* only strictly after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from models.rules.periods import require_aware

DeadlineStatus = Literal["complete", "pending", "not_set", "overdue"]
ReminderType = Literal["goal_deadline_3days", "goal_deadline_1day", "goal_deadline_day", "goal_overdue"]
ReminderAction = Literal["send", "cancel", "wait", "done"]

REMINDER_TYPES: tuple[ReminderType, ...] = get_args(ReminderType)
# Days relative to the deadline day on which each reminder falls due.
_REMINDER_OFFSETS: dict[ReminderType, int] = {
    "goal_deadline_3days": -3,
    "goal_deadline_1day": -1,
    "goal_deadline_day": 0,
    "goal_overdue": 1,
}


def goal_deadline(year: int, month: int, deadline_day: int, tz: ZoneInfo) -> datetime:
    """The deadline for ``(year, month)``'s goals: the day after ``deadline_day`` at 00:00 in ``tz``.

    The result is timezone-aware in ``tz``. In the rare zones whose clocks jump
    at midnight, a non-existent 00:00 is read with the offset in force before
    the jump (Python's ``fold=0``, PostgreSQL's ``AT TIME ZONE`` rule), and the
    result is normalised to a real wall-clock time.
    """
    day_after = date(year, month, deadline_day) + timedelta(days=1)
    moment = datetime.combine(day_after, time(0), tzinfo=tz)
    return moment.astimezone(UTC).astimezone(tz)


def set_by_deadline(goal_set_at: datetime | None, deadline: datetime) -> bool:
    """True when the goal was first set at or before the deadline (``goal_set_at <= deadline``)."""
    if goal_set_at is None:
        return False
    require_aware(goal_set_at, "goal_set_at")
    require_aware(deadline, "deadline")
    return goal_set_at <= deadline


def deadline_passed(now: datetime, deadline: datetime) -> bool:
    """True strictly after the deadline: at the deadline instant a goal can still be set on time."""
    require_aware(now)
    require_aware(deadline, "deadline")
    return now > deadline


def deadline_status(
    now: datetime,
    deadline: datetime,
    has_row: bool,
    goal_set_at: datetime | None,
    set_by_deadline: bool,
) -> DeadlineStatus:
    """The month's goal-setting status as SPEC.md defines it.

    ``complete``: set by the deadline. Otherwise, before the deadline has passed:
    ``pending`` when the goal row exists (e.g. a default row not yet set by
    anyone), ``not_set`` when there is no row. After it: ``overdue`` (set late
    or not at all). ``set_by_deadline`` is the stored flag; it only counts
    together with a ``goal_set_at``.
    """
    if has_row and goal_set_at is not None and set_by_deadline:
        return "complete"
    if deadline_passed(now, deadline):
        return "overdue"
    return "pending" if has_row else "not_set"


def days_until_deadline(today: date, deadline: datetime, tz: ZoneInfo) -> int:
    """The deadline's local date minus ``today`` (may be negative), as the views compute it.

    With the default deadline (the 7th at 00:00) this is 1 on the 6th and 0 on the 7th.
    """
    require_aware(deadline, "deadline")
    return (deadline.astimezone(tz).date() - today).days


def reminder_due_dates(year: int, month: int, deadline_day: int) -> dict[ReminderType, date]:
    """The local date each reminder of ``(year, month)`` falls due on.

    3 days before, 1 day before, on, and the day after ``deadline_day``; dates
    before the 1st are moved to the 1st. Default deadline day 6 → 3rd, 5th,
    6th and 7th.
    """
    deadline_date = date(year, month, deadline_day)
    first = date(year, month, 1)
    # The overdue reminder may fall on the 1st of the next month (deadline day 28 in February).
    return {kind: max(first, deadline_date + timedelta(days=offset)) for kind, offset in _REMINDER_OFFSETS.items()}


def parse_check_time(value: time | str) -> time:
    """A reminder check time from ``"HH:MM"`` (config) or a ``time``."""
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes))


def reminder_action(
    due_date: date,
    now_local: datetime,
    check_times: Sequence[time | str],
    *,
    goal_is_set: bool,
    sent: bool,
    cancelled: bool,
) -> ReminderAction:
    """What the reminder job does with one reminder at ``now_local``.

    ``done``: already sent or cancelled (a reminder is sent once, ever).
    ``wait``: the local wall clock has not yet reached the first check time on
    the due date. Once it has (that day or any later day): ``cancel`` when the
    rep's goal is set, else ``send``.

    ``now_local`` is the company-time-zone wall clock, e.g. ``now.astimezone(tz)``;
    only its date and time of day are read.
    """
    if sent or cancelled:
        return "done"
    if due_date > checked_through(now_local, check_times):
        return "wait"
    return "cancel" if goal_is_set else "send"


def checked_through(now_local: datetime, check_times: Sequence[time | str]) -> date:
    """The latest due date whose first check time the wall clock ``now_local`` has reached:
    today once the day's first check time has come, else yesterday. A reminder due later waits."""
    first = min((parse_check_time(t) for t in check_times), default=time(0))
    today = now_local.date()
    return today if now_local.replace(tzinfo=None).time() >= first else today - timedelta(days=1)
