"""The reminder decisions of ``models.rules.reminders``: a month's reminders, acknowledgement, sending."""

from datetime import UTC, date, datetime

from models.rules.deadlines import reminder_due_dates
from models.rules.reminders import (
    NewReminder,
    ReminderGoal,
    RepMonthGoal,
    goal_is_set,
    month_reminders,
    needs_sending,
    reminders_to_acknowledge,
)

NOW = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)
SET_AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
DUES = reminder_due_dates(2026, 11, 6)


def test_a_goal_is_set_once_its_row_records_a_first_set():
    assert goal_is_set(SET_AT)
    assert not goal_is_set(None)  # no row, or a default row nobody set


def test_every_active_rep_gets_one_reminder_per_type_on_its_due_date():
    rows = month_reminders([RepMonthGoal(1, True, None), RepMonthGoal(2, False, None)], DUES, NOW)
    assert rows == [NewReminder(1, kind, due, False, None) for kind, due in DUES.items()]
    assert [row.due_date for row in rows] == [date(2026, 11, 3), date(2026, 11, 5), date(2026, 11, 6),
                                              date(2026, 11, 7)]


def test_a_rep_whose_goal_is_set_gets_them_acknowledged_at_once():
    rows = month_reminders([RepMonthGoal(7, True, SET_AT)], DUES, NOW)
    assert {(row.acknowledged, row.acknowledged_at) for row in rows} == {(True, NOW)}
    assert month_reminders([], DUES, NOW) == []


def test_setting_the_goal_acknowledges_only_the_reminders_not_yet_acknowledged():
    reminders = [ReminderGoal(1, False, SET_AT), ReminderGoal(2, True, SET_AT), ReminderGoal(3, False, None)]
    assert reminders_to_acknowledge(reminders) == [1]


def test_a_reminder_is_sent_only_while_unsent_uncancelled_and_the_goal_unset():
    assert needs_sending(sent=False, cancelled_at=None, goal_set_at=None)
    assert not needs_sending(sent=True, cancelled_at=None, goal_set_at=None)
    assert not needs_sending(sent=False, cancelled_at=NOW, goal_set_at=None)
    assert not needs_sending(sent=False, cancelled_at=None, goal_set_at=SET_AT)


def test_a_set_goals_reminders_already_due_are_created_cancelled():
    rows = month_reminders([RepMonthGoal(7, True, SET_AT), RepMonthGoal(8, True, None)], DUES, NOW,
                           checked_through=date(2026, 11, 5))
    cancelled = {(row.rep_id, row.due_date) for row in rows if row.cancelled_at == NOW}
    assert cancelled == {(7, date(2026, 11, 3)), (7, date(2026, 11, 5))}  # not the 6th, 7th; not rep 8's
    assert all(row.cancelled_at is None for row in month_reminders([RepMonthGoal(7, True, SET_AT)], DUES, NOW))
