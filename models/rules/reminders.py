"""Which deadline reminders a month gets, which are acknowledged, and which may still be sent.

The database reads the candidates (reps, reminders, and the goal row of the reminder's
month) and writes what these functions give; it decides nothing. The rules:

- **Goal set**: a month's goal is set once its row records ``goal_set_at`` (the first time
  a Signup or Revenue Goal was seen; a default row nobody has set has none).
- **A month's reminders**: every *active* rep gets one reminder per type, due on the
  dates given (``deadlines.reminder_due_dates``); a rep whose goal is already set gets
  them acknowledged at once, at ``now`` (as the cycle would do on its next run), and
  those already due (on or before ``checked_through``, ``deadlines.checked_through``)
  cancelled at once, at ``now``, as the same run's check would cancel them.
- **Acknowledgement**: setting a month's goal acknowledges that month's reminders that
  are not acknowledged yet, at ``now``.
- **Sending**: a reminder may still be sent while it is neither sent nor cancelled and
  the rep's goal for its month is not set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import NamedTuple

from models.rules.deadlines import ReminderType


class RepMonthGoal(NamedTuple):
    """A rep and the ``goal_set_at`` of its goal row for the month (None: no row, or not set)."""

    rep_id: int
    active: bool
    goal_set_at: datetime | None


class ReminderGoal(NamedTuple):
    """A reminder, whether it is acknowledged, and the ``goal_set_at`` of its month's goal row."""

    id: int
    acknowledged: bool
    goal_set_at: datetime | None


class NewReminder(NamedTuple):
    """A ``goal_deadline_reminders`` row to add."""

    rep_id: int
    reminder_type: ReminderType
    due_date: date
    acknowledged: bool
    acknowledged_at: datetime | None
    cancelled_at: datetime | None = None


def goal_is_set(goal_set_at: datetime | None) -> bool:
    """True when the month's goal row records a first set (a default row nobody set has none)."""
    return goal_set_at is not None


def month_reminders(reps: Iterable[RepMonthGoal], due_dates: Mapping[ReminderType, date],
                    now: datetime, *, checked_through: date | None = None) -> list[NewReminder]:
    """One reminder per active rep per type, due on ``due_dates``; acknowledged at ``now`` when
    the rep's goal is already set, and then also cancelled at ``now`` when due on or before
    ``checked_through`` (None: none is due yet). Inactive reps get none."""
    rows = []
    for rep in reps:
        if not rep.active:
            continue
        acknowledged = goal_is_set(rep.goal_set_at)
        at = now if acknowledged else None
        for kind, due in due_dates.items():
            settled = acknowledged and checked_through is not None and due <= checked_through
            rows.append(NewReminder(rep.rep_id, kind, due, acknowledged, at, now if settled else None))
    return rows


def reminders_to_acknowledge(reminders: Iterable[ReminderGoal]) -> list[int]:
    """The ids of the reminders not yet acknowledged whose month's goal is set."""
    return [r.id for r in reminders if not r.acknowledged and goal_is_set(r.goal_set_at)]


def needs_sending(*, sent: bool, cancelled_at: datetime | None, goal_set_at: datetime | None) -> bool:
    """True while a reminder is neither sent nor cancelled and its month's goal is not set."""
    return not sent and cancelled_at is None and not goal_is_set(goal_set_at)
