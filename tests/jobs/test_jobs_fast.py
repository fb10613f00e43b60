"""The jobs' decisions on the in-memory store (no database): reminders, snapshots, achievements,
announcements and which jobs are due. Milliseconds per test; the month walked hour by hour
through PostgreSQL and a real SMTP server (``test_jobs_walk.py``) proves the same for real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from jobs.achievements import detect_achievements
from jobs.notify import announce
from jobs.reminders import MAX_FAILURES_IN_A_ROW, process_reminders
from jobs.runner import run_due
from jobs.snapshots import take_snapshots
from models.errors import NotifyError
from models.rules.achievements import MonthState
from models.settings import Settings
from tests.fakes.job_store import FakeJobStore, FakeJobTransaction, JobData, Month, Rep

SETTINGS = Settings.model_validate({"timezone": "UTC"})
EMAIL = Settings.model_validate({"timezone": "UTC", "notifications": {"email_url": "mailto://a:b@127.0.0.1:1"}})


@dataclass
class Outbox:
    """A notifier that keeps what it was asked to send (or refuses, when ``down``)."""

    can_email: bool = True
    has_team: bool = False
    down: bool = False
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send_to_rep(self, email: str, subject: str, body: str) -> bool:
        if self.down:
            raise NotifyError("the mail server refused the connection")
        self.sent.append((email, subject))
        return True

    def send_to_team(self, subject: str, body: str, *, team: str | None = None) -> bool:
        self.sent.append(("team", subject))
        return True


def roster(*months: tuple[int, MonthState]) -> JobData:
    data = JobData(reps={1: Rep(1, "Ann", "ann@example.com"), 2: Rep(2, "Bo", "bo@example.com")})
    for number, (rep_id, state) in enumerate(months, start=1):
        data.months[(rep_id, state.year, state.month)] = Month(number, rep_id, state, stale=True)
    return data


def test_the_due_reminder_goes_to_reps_without_a_goal_once():
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10, goal_set_at=datetime(2026, 11, 2,
                                                                                               tzinfo=UTC)))))
    outbox = Outbox()
    counts = process_reminders(store, EMAIL, outbox, datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    assert outbox.sent == [("bo@example.com", outbox.sent[0][1])] and "goal" in outbox.sent[0][1].lower()
    assert (counts["created"], counts["sent"], counts["cancelled"]) == (8, 1, 1)
    # Ann's goal is set: her due reminder is cancelled, never sent; nothing goes out twice.
    assert process_reminders(store, EMAIL, outbox, datetime(2026, 11, 3, 13, 30, tzinfo=UTC))["sent"] == 0
    assert len(outbox.sent) == 1


def test_a_run_stopped_before_it_cancels_leaves_no_reminder_it_created(monkeypatch: pytest.MonkeyPatch):
    # Ann's goal is set: a complete run creates her reminders and cancels the one due. Stopped
    # between the two (here: the read of the open reminders fails), it leaves neither.
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10, goal_set_at=datetime(2026, 11, 2,
                                                                                               tzinfo=UTC)))))

    def stopped(*_: object, **__: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(FakeJobTransaction, "open_reminders", stopped)
    with pytest.raises(RuntimeError):
        process_reminders(store, EMAIL, Outbox(), datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    assert store.data.reminders == {}


def test_a_first_run_mid_month_creates_a_set_goals_reminders_cancelled(monkeypatch: pytest.MonkeyPatch):
    # Started on the 15th: Ann's goal is set, so her four reminders are written once, cancelled;
    # only Bo's are left for the check to decide (the latest sent, the others overtaken).
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10, goal_set_at=datetime(2026, 11, 2,
                                                                                               tzinfo=UTC)))))
    cancel_calls: list[list[int]] = []
    cancel = FakeJobTransaction.cancel_reminders

    def spy(self: FakeJobTransaction, ids: list[int], now: datetime) -> int:
        cancel_calls.append(sorted(ids))
        return cancel(self, ids, now)

    monkeypatch.setattr(FakeJobTransaction, "cancel_reminders", spy)
    now = datetime(2026, 11, 15, 9, 30, tzinfo=UTC)
    outbox = Outbox()
    counts = process_reminders(store, EMAIL, outbox, now)
    anns = [r for r in store.data.reminders.values() if r.rep_id == 1]
    assert len(anns) == 4 and all(r.cancelled_at == now and r.acknowledged and not r.sent for r in anns)
    bos = {r.id for r in store.data.reminders.values() if r.rep_id == 2 and not r.sent}
    assert cancel_calls == [sorted(bos)] and len(bos) == 3
    assert (counts["created"], counts["sent"], counts["cancelled"]) == (8, 1, 7)
    assert outbox.sent == [("bo@example.com", outbox.sent[0][1])]


def test_after_downtime_only_the_latest_reminder_is_sent():
    store, outbox = FakeJobStore(roster()), Outbox()
    counts = process_reminders(store, EMAIL, outbox, datetime(2026, 11, 6, 9, 30, tzinfo=UTC))
    assert counts["sent"] == 2 and counts["cancelled"] == 4  # the 3rd and 5th overtaken by the 6th
    kinds = {r.reminder_type for r in store.data.reminders.values() if r.sent}
    assert kinds == {"goal_deadline_day"}


def test_a_mail_server_down_stops_the_run_and_keeps_reminders_for_the_next_check():
    data = roster()
    data.reps.update({n: Rep(n, f"R{n}", f"r{n}@example.com") for n in range(3, 8)})
    store, outbox = FakeJobStore(data), Outbox(down=True)
    counts = process_reminders(store, EMAIL, outbox, datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    assert counts["failed"] == MAX_FAILURES_IN_A_ROW and counts["left"] == 7 - MAX_FAILURES_IN_A_ROW
    assert not any(r.sent for r in store.data.reminders.values())
    outbox.down = False
    assert process_reminders(store, EMAIL, outbox, datetime(2026, 11, 3, 13, 30, tzinfo=UTC))["sent"] == 7


def test_snapshots_are_taken_once_per_day_and_ranked():
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(5))),
                                (2, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(8)))))
    now = datetime(2026, 11, 4, 0, 5, tzinfo=UTC)
    counts = take_snapshots(store, SETTINGS, None, now)
    assert (counts["day"], counts["daily"], counts["leaderboard"]) == ("2026-11-03", 2, 2)
    assert {e.sales_rep_id: e.rank for e in store.data.leaderboard.values()} == {2: 1, 1: 2}
    assert take_snapshots(store, SETTINGS, None, now)["daily"] == 0


def test_achievements_are_recorded_once_and_revoked_by_a_correction():
    met = MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(10), bonus_tier=1)
    store = FakeJobStore(roster((1, met)))
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    detect_achievements(store, SETTINGS, None, now)
    kinds = sorted(r.achievement.achievement_type for r in store.data.achievements.values())
    assert kinds == ["bonus_tier_unlocked", "monthly_signup_goal"]
    assert detect_achievements(store, SETTINGS, None, now).get("added", 0) == 0
    store.data.months[(1, 2026, 11)].state = MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(9))
    store.data.months[(1, 2026, 11)].stale = True
    detect_achievements(store, SETTINGS, None, now)
    goal = next(r for r in store.data.achievements.values() if r.achievement.achievement_type == "monthly_signup_goal")
    assert goal.revoked_at == now and "9" in (goal.revoked_reason or "")


def test_new_achievements_are_announced_once_to_the_rep():
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(10)))))
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    detect_achievements(store, EMAIL, None, now)
    outbox = Outbox()
    announce(store, EMAIL, outbox, now)
    assert {email for email, _ in outbox.sent} == {"ann@example.com"} and outbox.sent
    count = len(outbox.sent)
    announce(store, EMAIL, outbox, now)
    assert len(outbox.sent) == count


def test_a_done_job_is_not_due_again_and_a_held_job_lock_skips_it():
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10))))
    now = datetime(2026, 11, 4, 0, 5, tzinfo=UTC)
    first = run_due(store, SETTINGS, Outbox(can_email=False), now, jobs=("snapshot",))
    assert [(o.job, o.status) for o in first] == [("snapshot", "success")]
    assert run_due(store, SETTINGS, Outbox(can_email=False), now, jobs=("snapshot",)) == []
    held = FakeJobStore(roster(), locked=frozenset({"snapshot"}))
    outcome = run_due(held, SETTINGS, Outbox(can_email=False), now, jobs=("snapshot",))
    assert [(o.job, o.status, o.counts) for o in outcome] == [("snapshot", "skipped", {"reason": "locked"})]
    assert date(2026, 11, 3) not in {key[1] for key in held.data.progress_snapshots}


def test_a_tier_below_the_bonus_tier_goal_is_announced_without_a_bonus():
    # Ana reaches tier 2 (Silver) with a Bonus Tier Goal of 3; Bo reaches it with a goal of 2.
    data = roster((1, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(12), bonus_tier=2)),
                  (2, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(12), bonus_tier=2)))
    data.months[(1, 2026, 11)].bonus_tier_goal, data.months[(2, 2026, 11)].bonus_tier_goal = 3, 2
    store, now = FakeJobStore(data), datetime(2026, 11, 20, 9, tzinfo=UTC)
    detect_achievements(store, EMAIL, None, now)
    bodies: dict[str, str] = {}

    class Mail(Outbox):
        def send_to_rep(self, email: str, subject: str, body: str) -> bool:
            bodies[email] = body
            return True

    announce(store, EMAIL, Mail(), now)
    assert ("You unlocked bonus tier 2 (Silver) for November 2026: the bonus pays from tier 3, "
            "your Bonus Tier Goal.") in bodies["ann@example.com"]
    assert "$" not in bodies["ann@example.com"]
    assert "You unlocked bonus tier 2 (Silver) for November 2026: $250.00 bonus." in bodies["bo@example.com"]


def test_a_later_run_of_the_day_evaluates_only_the_reps_whose_data_changed():
    store = FakeJobStore(roster((1, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(10))),
                                (2, MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(4)))))
    store.data.data_version = datetime(2026, 11, 20, 8, tzinfo=UTC)

    def run(hour: int) -> dict[str, int | str]:
        outcome = run_due(store, SETTINGS, Outbox(can_email=False), datetime(2026, 11, 20, hour, tzinfo=UTC),
                          jobs=("achievements",))
        return dict(outcome[0].counts) if outcome else {}

    assert run(9)["evaluated"] == 2
    # Bo reaches his goal: only he is evaluated, and he earns it.
    store.data.months[(2, 2026, 11)].state = MonthState(2026, 11, signup_goal=10, signups_actual=Decimal(11))
    store.data.months[(2, 2026, 11)].stale = True
    store.data.data_version = datetime(2026, 11, 20, 10, tzinfo=UTC)
    counts = run(10)
    assert (counts["evaluated"], counts["new"]) == (1, 1)
    assert {r.achievement.sales_rep_id for r in store.data.achievements.values()} == {1, 2}
    # Ann's yearly goals change (no month of hers is stale): she is evaluated.
    store.data.reps[1].changed_at = store.data.data_version = datetime(2026, 11, 20, 11, tzinfo=UTC)
    assert run(11)["evaluated"] == 1
    # Nothing changed: no run at all; a new day evaluates everyone again.
    assert run(12) == {}
    assert dict(run_due(store, SETTINGS, Outbox(can_email=False), datetime(2026, 11, 21, 0, 5, tzinfo=UTC),
                        jobs=("achievements",))[0].counts)["evaluated"] == 2
