"""The pure parts of the jobs: when they fall due, what a reminder run decides, the messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jobs.channels import with_recipient
from jobs.messages import achievement_message, reminder_message, team_message
from jobs.moments import latest_check, midnight, month_start, next_moment
from jobs.reminders import plan_reminders
from jobs.runner import scheduled_moment
from jobs.snapshots import build_snapshots, snapshot_types
from models.job_queries import Announcement, OpenReminder, SnapshotSource
from models.redact import mask_secrets, secrets_in_urls
from models.settings import PaceSettings, Settings

NY = ZoneInfo("America/New_York")
CHECKS = ("09:00", "13:00", "17:00")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def test_midnight_and_month_start_are_local() -> None:
    assert midnight(at(3, 15), NY) == at(3, 0)
    assert midnight(datetime(2026, 11, 4, 3, 0, tzinfo=UTC), NY) == at(3, 0)  # still the 3rd in New York
    assert month_start(at(17, 8), NY) == at(1, 0)


def test_latest_check_is_today_or_yesterday_evening() -> None:
    assert latest_check(at(3, 8, 59), NY, CHECKS) == at(2, 17)
    assert latest_check(at(3, 9), NY, CHECKS) == at(3, 9)
    assert latest_check(at(3, 16, 59), NY, CHECKS) == at(3, 13)
    assert latest_check(at(3, 9), NY, ()) is None


def test_next_moment_is_the_next_midnight_or_check() -> None:
    assert next_moment(at(3, 9), NY, CHECKS) == at(3, 13)
    assert next_moment(at(3, 17, 30), NY, CHECKS) == at(4, 0)
    assert next_moment(at(3, 0), NY, ()) == at(4, 0)


def test_moments_across_the_fall_back_night() -> None:
    # 1 November 2026: 01:00-02:00 happens twice in New York; midnight and 09:00 are unaffected.
    first_one_am = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second_one_am = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert midnight(first_one_am, NY) == midnight(second_one_am, NY) == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert next_moment(second_one_am, NY, CHECKS) == datetime(2026, 11, 1, 14, tzinfo=UTC)  # 09:00 EST


def test_scheduled_moments_per_job() -> None:
    settings = Settings(timezone="America/New_York")
    assert scheduled_moment("snapshot", at(3, 10), settings) == at(3, 0)
    assert scheduled_moment("reminders", at(3, 10), settings) == at(3, 9)
    assert scheduled_moment("reminders", at(1, 5), settings) == at(1, 0)  # creation on the 1st
    assert scheduled_moment("achievements", at(3, 10), settings) == at(3, 0)
    with pytest.raises(ValueError, match="unknown job"):
        scheduled_moment("backup", at(3, 10), settings)


def test_snapshot_types_by_day() -> None:
    assert snapshot_types(date(2026, 11, 3)) == ("daily",)
    assert snapshot_types(date(2026, 11, 8)) == ("daily", "weekly")  # a Sunday
    assert snapshot_types(date(2026, 11, 30)) == ("daily", "monthly")
    assert snapshot_types(date(2026, 5, 31)) == ("daily", "weekly", "monthly")


def _source(rep: int, signups: str, goal: int | None, pct: str | None) -> SnapshotSource:
    return SnapshotSource(rep, rep * 10, Decimal(signups), goal, Decimal(pct) if pct else None, Decimal(0), None,
                          None, 0)


def test_snapshots_carry_the_days_pace_and_rank() -> None:
    sources = [_source(1, "4", 10, "40.00"), _source(2, "11", 10, "110.00"), _source(3, "4", 10, "40.00"),
               _source(4, "0", None, None)]
    progress, board = build_snapshots(sources, date(2026, 11, 12), PaceSettings())
    # 12 of 30 days elapsed: 40 % is exactly on pace (ratio 1.00), 110 % is ahead; no goal, no pace.
    assert [(p.sales_rep_id, p.pace_indicator, p.on_pace, p.days_remaining) for p in progress] == [
        (1, "on_track", True, 18), (2, "ahead", True, 18), (3, "on_track", True, 18), (4, None, None, 18)]
    assert [(b.sales_rep_id, b.rank) for b in board] == [(1, 2), (2, 1), (3, 2), (4, 4)]
    early, _ = build_snapshots(sources, date(2026, 11, 2), PaceSettings())
    assert {p.pace_indicator for p in early} == {None}  # "too early" is stored as NULL


def _open(rid: int, kind: str, due: int, *, rep: int = 1, goal_set: bool = False, active: bool = True,
          month: int = 11) -> OpenReminder:
    return OpenReminder(rid, rep, "Ana", "ana@example.com", active, kind, 2026, month,
                        datetime(2026, month, 7, tzinfo=NY), date(2026, month, due), 0, goal_set)


def test_reminder_plan_waits_for_the_first_check_of_the_due_day() -> None:
    reminders = [_open(1, "goal_deadline_3days", 3)]
    assert plan_reminders(reminders, at(3, 8, 59), CHECKS).waiting == 1
    plan = plan_reminders(reminders, at(3, 9), CHECKS)
    assert [r.id for r in plan.send] == [1] and plan.cancel == ()


def test_reminder_plan_cancels_when_the_goal_is_set_or_the_rep_left() -> None:
    plan = plan_reminders([_open(1, "goal_deadline_day", 6, goal_set=True),
                           _open(2, "goal_deadline_day", 6, rep=2, active=False)], at(6, 9), CHECKS)
    assert plan.send == () and sorted(plan.cancel) == [1, 2]


def test_after_downtime_only_the_latest_reminder_is_sent() -> None:
    reminders = [_open(1, "goal_deadline_3days", 3), _open(2, "goal_deadline_1day", 5),
                 _open(3, "goal_deadline_day", 6), _open(4, "goal_overdue", 7)]
    plan = plan_reminders(reminders, at(6, 10), CHECKS)
    assert [r.id for r in plan.send] == [3]
    assert sorted(plan.cancel) == [1, 2]
    assert plan.waiting == 1


def test_reminders_of_a_finished_month_expire() -> None:
    plan = plan_reminders([_open(1, "goal_overdue", 7, month=10)], at(2, 9), CHECKS)
    assert plan.send == () and plan.cancel == (1,)


def test_reminder_text_says_where_and_by_when() -> None:
    settings = Settings(timezone="UTC")
    deadline = datetime(2026, 11, 7, tzinfo=UTC)
    message = reminder_message("goal_deadline_3days", name="Ana", year=2026, month=11, deadline=deadline,
                               today=date(2026, 11, 3), settings=settings)
    assert message.subject == "3 days left to set your November 2026 goals"
    assert ("Please enter your November 2026 goals in the 'Monthly Goals' tab by the end of Friday 6 November "
            "(deadline: 7 Nov 00:00 UTC).") in message.body
    late = reminder_message("goal_deadline_3days", name="Ana", year=2026, month=11, deadline=deadline,
                            today=date(2026, 11, 6), settings=settings)
    assert late.subject == "Last day to set your November 2026 goals"  # never more time than there is
    overdue = reminder_message("goal_overdue", name="Ana", year=2026, month=11, deadline=deadline,
                               today=date(2026, 11, 7), settings=settings)
    assert overdue.subject == "Overdue: your November 2026 goals are not set"
    google = Settings(sheets={"backend": "google", "spreadsheet_id": "abc123",
                              "tabs": {"monthly_goals": "Goals"}})
    linked = reminder_message("goal_deadline_1day", name="", year=2026, month=11, deadline=deadline,
                              today=date(2026, 11, 5), settings=google)
    assert "the 'Goals' tab of https://docs.google.com/spreadsheets/d/abc123" in linked.body


def _announcement(kind: str, **values: object) -> Announcement:
    base: dict[str, object] = dict(id=1, rep_id=1, rep_name="Ana Lima", email="ana@example.com",
                                   achievement_type=kind, year=2026, month=11, goal_value=None,
                                   actual_value=None, percent_achieved=None, bonus_tier=None,
                                   bonus_amount=None, milestone=None, recognition_type=None)
    base.update(values)
    return Announcement(**base)  # type: ignore[arg-type]


def test_achievement_messages() -> None:
    settings = Settings()
    goal = _announcement("monthly_signup_goal", goal_value=Decimal("20.00"), actual_value=Decimal("22.50"),
                         percent_achieved=Decimal("112.50"))
    tier = _announcement("bonus_tier_unlocked", bonus_tier=2, bonus_amount=Decimal("250.00"))
    one = achievement_message("Ana Lima", [goal], settings)
    assert one.subject == "Congratulations, Ana: you reached your November 2026 signup goal"
    assert "22.5 of 20 signups (113%)" in one.body
    two = achievement_message("Ana Lima", [goal, tier], settings)
    assert two.subject == "Congratulations, Ana: 2 new achievements"
    assert "unlocked bonus tier 2 (Silver) for November 2026: $250.00 bonus" in two.body
    team = team_message([goal, tier, _announcement("streak_milestone", milestone=3),
                         _announcement("yearly_revenue_goal", month=None, goal_value=Decimal(1000),
                                       actual_value=Decimal(1200), percent_achieved=Decimal(120))], settings)
    assert team.subject == "4 new achievements"
    assert "- Ana Lima met every goal 3 months in a row (streak reached in November 2026)" in team.body
    assert "- Ana Lima reached the 2026 yearly revenue goal: $1,200.00 of $1,000.00 (120%)" in team.body


def test_the_rep_is_added_as_recipient_and_secrets_are_masked() -> None:
    url = "mailtos://bot:p%40ss-word@smtp.example.com:465?from=bot@example.com&to=old@example.com&name=Goals%20Bot"
    assert with_recipient(url, " ana@example.com ") == (
        "mailtos://bot:p%40ss-word@smtp.example.com:465?from=bot@example.com&name=Goals%20Bot&to=ana@example.com")
    secrets = secrets_in_urls([url, "slack://TokenA123/TokenB456/TokenC789abc"])
    text = f"failed: {url} with p@ss-word and p%40ss-word via TokenB456"
    masked = mask_secrets(text, secrets)
    assert "ss-word" not in masked and "TokenB456" not in masked and "smtp.example.com" not in masked
