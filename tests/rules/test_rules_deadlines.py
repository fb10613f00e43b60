from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.rules.deadlines import (
    REMINDER_TYPES,
    checked_through,
    days_until_deadline,
    deadline_status,
    goal_deadline,
    reminder_action,
    reminder_due_dates,
    set_by_deadline,
)

NEW_YORK = ZoneInfo("America/New_York")
CHECKS = ("09:00", "13:00", "17:00")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


# --- deadline instant -----------------------------------------------------------


def test_deadline_is_seventh_midnight_local():
    deadline = goal_deadline(2026, 1, 6, NEW_YORK)
    assert deadline == ny(2026, 1, 7, 0, 0)
    assert deadline.utcoffset() == timedelta(hours=-5)
    assert deadline.astimezone(UTC) == datetime(2026, 1, 7, 5, 0, tzinfo=UTC)


def test_deadline_in_summer_time_and_utc():
    # July: EDT, UTC-4.
    assert goal_deadline(2026, 7, 6, NEW_YORK).astimezone(UTC) == datetime(2026, 7, 7, 4, 0, tzinfo=UTC)
    assert goal_deadline(2026, 7, 6, ZoneInfo("UTC")) == datetime(2026, 7, 7, tzinfo=UTC)


def test_deadline_across_dst_change():
    # 2026-03-08 02:00 New York springs forward. A deadline day of 8 puts the
    # deadline at 00:00 on the 9th, after the change (UTC-4); day 7 before it (UTC-5).
    before = goal_deadline(2026, 3, 7, NEW_YORK)
    after = goal_deadline(2026, 3, 8, NEW_YORK)
    assert before.astimezone(UTC) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    # Same-zone subtraction in Python is wall-clock; the real gap is the 23-hour day.
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=23)
    # Fall back on 2026-11-01: deadline the 7th at 00:00 is EST again.
    assert goal_deadline(2026, 11, 6, NEW_YORK).utcoffset() == timedelta(hours=-5)


def test_deadline_when_midnight_does_not_exist():
    # Chile springs forward at 00:00 (2024-09-08 00:00 → 01:00): the deadline is
    # still a real instant, read with the offset in force before the jump.
    santiago = ZoneInfo("America/Santiago")
    deadline = goal_deadline(2024, 9, 7, santiago)
    assert deadline.astimezone(UTC) == datetime(2024, 9, 8, 4, 0, tzinfo=UTC)
    assert deadline.replace(tzinfo=None) == datetime(2024, 9, 8, 1, 0)


def test_deadline_day_setting_moves_it():
    assert goal_deadline(2026, 2, 28, NEW_YORK) == ny(2026, 3, 1)
    assert goal_deadline(2026, 12, 1, NEW_YORK) == ny(2026, 12, 2)


# --- set by deadline --------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_at", "on_time"),
    [
        (ny(2026, 11, 6, 23, 59), True),
        (ny(2026, 11, 6, 23, 59, 59, 999999), True),
        (ny(2026, 11, 7, 0, 0, 0), True),  # exactly at the deadline: <=
        (ny(2026, 11, 7, 0, 0, 1), False),
        (ny(2026, 11, 1, 9, 0), True),
        (ny(2026, 10, 20, 9, 0), True),  # set before the month started
        (ny(2026, 11, 20, 9, 0), False),
    ],
)
def test_set_by_deadline(set_at, on_time):
    assert set_by_deadline(set_at, goal_deadline(2026, 11, 6, NEW_YORK)) is on_time


def test_set_by_deadline_compares_instants_not_wall_clocks():
    deadline = goal_deadline(2026, 11, 6, NEW_YORK)  # 05:00 UTC on the 7th
    assert set_by_deadline(datetime(2026, 11, 7, 4, 59, tzinfo=UTC), deadline)
    assert set_by_deadline(datetime(2026, 11, 7, 5, 0, tzinfo=UTC), deadline)
    assert not set_by_deadline(datetime(2026, 11, 7, 5, 0, 1, tzinfo=UTC), deadline)


def test_never_set_is_not_by_deadline():
    assert not set_by_deadline(None, goal_deadline(2026, 11, 6, NEW_YORK))


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="goal_set_at"):
        set_by_deadline(datetime(2026, 11, 6), goal_deadline(2026, 11, 6, NEW_YORK))


# --- deadline status --------------------------------------------------------------

DEADLINE = ny(2026, 11, 7)


@pytest.mark.parametrize(
    ("now", "has_row", "set_at", "flag", "expected"),
    [
        # set by the deadline: complete before and after it
        (ny(2026, 11, 3, 12), True, ny(2026, 11, 2, 10), True, "complete"),
        (ny(2026, 11, 20, 12), True, ny(2026, 11, 2, 10), True, "complete"),
        # not set yet, before the deadline
        (ny(2026, 11, 3, 12), True, None, False, "pending"),
        (ny(2026, 11, 3, 12), False, None, False, "not_set"),
        # at the deadline instant the goal can still be set on time
        (ny(2026, 11, 7, 0, 0), True, None, False, "pending"),
        (ny(2026, 11, 7, 0, 0), False, None, False, "not_set"),
        # after it
        (ny(2026, 11, 7, 0, 0, 1), True, None, False, "overdue"),
        (ny(2026, 11, 7, 0, 0, 1), False, None, False, "overdue"),
        (ny(2026, 11, 20, 12), True, ny(2026, 11, 9, 10), False, "overdue"),  # set late
    ],
)
def test_deadline_status(now, has_row, set_at, flag, expected):
    assert deadline_status(now, DEADLINE, has_row, set_at, flag) == expected


def test_days_until_deadline_uses_the_deadline_date():
    deadline = goal_deadline(2026, 11, 6, NEW_YORK)
    assert days_until_deadline(date(2026, 11, 1), deadline, NEW_YORK) == 6
    assert days_until_deadline(date(2026, 11, 6), deadline, NEW_YORK) == 1
    assert days_until_deadline(date(2026, 11, 7), deadline, NEW_YORK) == 0
    assert days_until_deadline(date(2026, 11, 10), deadline, NEW_YORK) == -3
    # The same instant read in UTC is 05:00 on the 7th: still the 7th.
    assert days_until_deadline(date(2026, 11, 6), deadline.astimezone(UTC), NEW_YORK) == 1


# --- reminders --------------------------------------------------------------------


def test_reminder_due_dates_default_deadline():
    assert reminder_due_dates(2026, 11, 6) == {
        "goal_deadline_3days": date(2026, 11, 3),
        "goal_deadline_1day": date(2026, 11, 5),
        "goal_deadline_day": date(2026, 11, 6),
        "goal_overdue": date(2026, 11, 7),
    }
    assert tuple(reminder_due_dates(2026, 11, 6)) == REMINDER_TYPES


def test_reminder_due_dates_clamp_to_first():
    dates = reminder_due_dates(2026, 11, 2)
    assert dates["goal_deadline_3days"] == date(2026, 11, 1)
    assert dates["goal_deadline_1day"] == date(2026, 11, 1)
    assert dates["goal_deadline_day"] == date(2026, 11, 2)
    assert dates["goal_overdue"] == date(2026, 11, 3)
    # The latest allowed deadline day (28) in February: overdue on the 1st of March.
    assert reminder_due_dates(2026, 2, 28)["goal_overdue"] == date(2026, 3, 1)
    assert reminder_due_dates(2026, 2, 28)["goal_deadline_day"] == date(2026, 2, 28)


def action(due: date, now: datetime, *, goal_is_set=False, sent=False, cancelled=False):
    return reminder_action(due, now, CHECKS, goal_is_set=goal_is_set, sent=sent, cancelled=cancelled)


def test_reminder_waits_until_first_check_of_due_day():
    due = date(2026, 11, 3)
    assert action(due, ny(2026, 11, 2, 17, 0)) == "wait"
    assert action(due, ny(2026, 11, 3, 8, 59)) == "wait"
    assert action(due, ny(2026, 11, 3, 8, 59, 59)) == "wait"
    assert action(due, ny(2026, 11, 3, 9, 0)) == "send"
    assert action(due, ny(2026, 11, 3, 13, 30)) == "send"


def test_reminder_is_still_sent_days_later_if_missed():
    # A daemon that was down on the due day sends it at its next check.
    assert action(date(2026, 11, 3), ny(2026, 11, 5, 2, 0)) == "send"


def test_reminder_cancelled_when_goal_set_and_done_once_handled():
    due = date(2026, 11, 5)
    assert action(due, ny(2026, 11, 5, 9, 0), goal_is_set=True) == "cancel"
    assert action(due, ny(2026, 11, 5, 8, 0), goal_is_set=True) == "wait"
    assert action(due, ny(2026, 11, 5, 9, 0), sent=True) == "done"
    assert action(due, ny(2026, 11, 5, 9, 0), cancelled=True) == "done"
    assert action(due, ny(2026, 11, 9, 9, 0), sent=True) == "done"


def test_reminder_action_reads_the_local_wall_clock():
    # 13:30 UTC is 08:30 in New York: not yet due when passed as local time.
    now = datetime(2026, 11, 3, 13, 30, tzinfo=UTC)
    assert action(date(2026, 11, 3), now.astimezone(NEW_YORK)) == "wait"


def test_reminder_check_times_order_and_default():
    due = date(2026, 11, 3)
    assert reminder_action(due, ny(2026, 11, 3, 8, 0), ["17:00", "07:30"],
                           goal_is_set=False, sent=False, cancelled=False) == "send"
    assert reminder_action(due, ny(2026, 11, 3, 0, 0), [],
                           goal_is_set=False, sent=False, cancelled=False) == "send"
    # The earliest check time counts, whatever the order it is configured in.
    assert reminder_action(due, ny(2026, 11, 3, 8, 59), [time(13), "09:00"],
                           goal_is_set=False, sent=False, cancelled=False) == "wait"
    assert reminder_action(due, ny(2026, 11, 3, 9, 0), [time(13), "09:00"],
                           goal_is_set=False, sent=False, cancelled=False) == "send"


def test_checked_through_is_today_once_the_first_check_has_come():
    assert checked_through(ny(2026, 11, 3, 8, 59, 59), CHECKS) == date(2026, 11, 2)
    assert checked_through(ny(2026, 11, 3, 9, 0), CHECKS) == date(2026, 11, 3)
    assert checked_through(ny(2026, 11, 3, 0, 0), []) == date(2026, 11, 3)
    # a reminder waits exactly while it is due after that day
    for hour in (8, 9):
        now = ny(2026, 11, 3, hour, 0)
        for day in (2, 3, 4):
            due = date(2026, 11, day)
            assert (action(due, now) == "wait") == (due > checked_through(now, CHECKS))
