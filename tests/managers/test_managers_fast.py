"""The pace alerts and the weekly digest on the in-memory job store (no database): who is
alerted, at most once a week, what a digest says and to whom, once per moment, nothing sent
when there is nothing to say, a failed send retried. Milliseconds per test; the month walked
through PostgreSQL and a real SMTP server (``test_digest_walk.py``) proves the same for real.

November 2026 (UTC): the 2nd, 9th, 16th, 23rd and 30th are Mondays. East: Ana and Bo (Manager
Email Mia); West: Cy (no Manager Email: ``team_managers`` names Max); Dee has no team.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from jobs.digest import send_digest, week_achievements, week_alerts
from jobs.pace_alerts import MAX_FAILURES_IN_A_ROW, alert_pace, alerts_to_send
from jobs.runner import run_due
from models.errors import NotifyError
from models.job_queries import Announcement, DatedAchievement, PaceAlert, ProgressSnapshot
from models.rules.achievements import Achievement, MonthState
from models.settings import Settings
from tests.fakes.job_store import FakeJobStore, JobData, Month, Recorded, Rep

MIA, MAX = "mia@example.com", "max@example.com"
DIGEST_AT = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


@dataclass
class Outbox:
    """A notifier that keeps every message (recipient, subject, body); ``refuse``: recipients whose
    send fails (``"team"`` for the team channels), ``down``: every send fails."""

    can_email: bool = True
    has_team: bool = False
    down: bool = False
    refuse: set[str] = field(default_factory=set)
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def _deliver(self, to: str, subject: str, body: str) -> bool:
        if self.down or to in self.refuse:
            raise NotifyError(f"the mail server refused {to}")
        self.sent.append((to, subject, body))
        return True

    def send_to_rep(self, email: str, subject: str, body: str) -> bool:
        return self._deliver(email, subject, body)

    def send_to_team(self, subject: str, body: str, *, team: str | None = None) -> bool:
        return self._deliver(f"team:{team}" if team else "team", subject, body)

    def to(self) -> list[str]:
        return [to for to, _, _ in self.sent]


def settings(**notifications: Any) -> Settings:
    return Settings.model_validate({"timezone": "UTC", "notifications": {
        "email_url": "mailto://a:b@127.0.0.1:1", "pace_alerts": True, "team_managers": {"west": [MAX]},
        "digest": {"weekday": "Monday", "time": "08:00"}, **notifications}})


def month(signups: int, goal: int | None = None, *, when: tuple[int, int] = (2026, 11)) -> MonthState:
    return MonthState(*when, signup_goal=goal, signups_actual=Decimal(signups),
                      goal_set_at=datetime(2026, 10, 30, tzinfo=UTC) if goal else None)


def company(**states: MonthState) -> JobData:
    """The four reps; ``states``: name → that rep's November row (a rep left out has none)."""
    data = JobData(reps={1: Rep(1, "Ana", "ana@example.com", team="East", manager_email=MIA),
                         2: Rep(2, "Bo", "bo@example.com", team="East", manager_email=MIA),
                         3: Rep(3, "Cy", "cy@example.com", team="West"),
                         4: Rep(4, "Dee", "dee@example.com")})
    ids = {"ana": 1, "bo": 2, "cy": 3, "dee": 4}
    for number, (name, state) in enumerate(states.items(), start=1):
        data.months[(ids[name], state.year, state.month)] = Month(number, ids[name], state)
    return data


def snapshot(store: FakeJobStore, rep_id: int, day: date, indicator: str | None) -> None:
    """The daily snapshot of ``day`` said ``indicator`` for the rep."""
    store.data.progress_snapshots[(rep_id, day, "daily")] = ProgressSnapshot(
        rep_id, day, "daily", None, None, None, None, None, None, None, None, None, None, indicator)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


# --------------------------------------------------------------------------------------------- pace alerts


def test_a_rep_who_turns_critical_is_emailed_once() -> None:
    # The 11th: 11 of 30 days gone. Bo at 2 of 20 (10%) is critical, Ana at 4 of 10 (40%) on track.
    store, outbox = FakeJobStore(company(ana=month(4, 10), bo=month(2, 20))), Outbox()
    assert alert_pace(store, settings(), outbox, at(11)) == {"new": 1, "emails": 1, "failed": 0}
    [(to, subject, body)] = outbox.sent
    assert (to, subject) == ("bo@example.com", "Your November goals: behind pace")
    assert body.startswith("Hi Bo,\n\nWith 37% of November gone, you are at 10% of your signup goal")
    assert "That is 0.95 signups a day from now to the end of November." in body
    # The next cycle the same day: nothing new, nothing sent again.
    assert alert_pace(store, settings(), outbox, at(11, 13)) == {"new": 0, "emails": 0, "failed": 0}
    assert len(outbox.sent) == 1


def test_staying_critical_sends_nothing_and_a_second_fall_waits_for_next_week() -> None:
    store, outbox = FakeJobStore(company(bo=month(2, 20))), Outbox()
    alert_pace(store, settings(), outbox, at(11))  # Wednesday: turned critical
    snapshot(store, 2, date(2026, 11, 11), "critical")
    assert alert_pace(store, settings(), outbox, at(12))["new"] == 0  # still critical: not news
    snapshot(store, 2, date(2026, 11, 12), "behind")  # Thursday he was back to behind ...
    assert alert_pace(store, settings(), outbox, at(13))["new"] == 0  # ... and Friday critical again: same week
    snapshot(store, 2, date(2026, 11, 15), "behind")
    assert alert_pace(store, settings(), outbox, at(16))["new"] == 1  # Monday: a new week
    assert outbox.to() == ["bo@example.com", "bo@example.com"]
    assert [(a.new.week_start, a.sent_at) for a in store.data.pace_alerts.values()] == [
        (date(2026, 11, 9), at(11)), (date(2026, 11, 16), at(16))]


def test_too_early_no_goal_and_not_opted_in_alert_nobody() -> None:
    # The 2nd: 2 of 30 days (7%) is below the 10% minimum, so nobody is judged yet.
    store, outbox = FakeJobStore(company(bo=month(0, 20), cy=month(0))), Outbox()
    assert alert_pace(store, settings(), outbox, at(2))["new"] == 0
    # The 11th: Bo is critical; Cy (a row without a goal) and Dee (no row) are not judged.
    assert alert_pace(store, settings(pace_alerts=False), outbox, at(11))["new"] == 0
    assert alert_pace(store, settings(), outbox, at(11))["new"] == 1
    assert outbox.to() == ["bo@example.com"]


def test_alerts_go_out_oldest_first_by_rep_and_not_to_a_rep_who_left() -> None:
    store = FakeJobStore(company(ana=month(0, 10), bo=month(1, 20), cy=month(0, 10)))
    outbox = Outbox(can_email=False)
    assert alert_pace(store, settings(), outbox, at(11))["new"] == 3  # recorded, nowhere to send yet
    store.data.reps[3].active = False  # Cy left before the email could go
    outbox.can_email = True
    assert alert_pace(store, settings(), outbox, at(11, 13)) == {"new": 0, "emails": 2, "failed": 0}
    assert outbox.to() == ["ana@example.com", "bo@example.com"]
    assert store.data.pace_alerts[3].sent_at is None


def test_a_failed_alert_is_retried_and_three_failures_in_a_row_stop_the_run() -> None:
    data = company(ana=month(0, 10), bo=month(1, 20), cy=month(0, 10), dee=month(0, 5))
    store, outbox = FakeJobStore(data), Outbox(down=True)
    counts = alert_pace(store, settings(), outbox, at(11))
    assert counts == {"new": 4, "emails": 0, "failed": MAX_FAILURES_IN_A_ROW}
    assert [a.attempts for a in store.data.pace_alerts.values()] == [1, 1, 1, 0]
    assert store.data.pace_alerts[1].last_error == "the mail server refused ana@example.com"
    outbox.down = False
    assert alert_pace(store, settings(), outbox, at(11, 13)) == {"new": 0, "emails": 4, "failed": 0}
    assert outbox.to() == ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]


def test_which_alerts_are_sent_is_decided_in_python() -> None:
    def alert(alert_id: int, minute: int, *, sent: bool = False, active: bool = True) -> PaceAlert:
        return PaceAlert(alert_id, alert_id, "R", "r@example.com", date(2026, 11, 9), at(11).replace(minute=minute),
                         2026, 11, None, None, Decimal(37), at(11) if sent else None, 0, active)

    week = [alert(4, 5), alert(1, 5), alert(2, 1, sent=True), alert(3, 0, active=False), alert(5, 2)]
    assert [a.id for a in alerts_to_send(week)] == [5, 1, 4]


# --------------------------------------------------------------------------------------------- digest


def digest_company() -> JobData:
    """The 16th: 16 of 30 days gone. Ana 6/10 (ahead), Bo 2/20 (critical), Cy 5/10 (behind), Dee 1/5."""
    return company(ana=month(6, 10), bo=month(2, 20), cy=month(5, 10), dee=month(1, 5))


def test_each_manager_gets_their_teams_digest_once() -> None:
    store, outbox = FakeJobStore(digest_company()), Outbox()
    counts = send_digest(store, settings(), outbox, DIGEST_AT)
    assert counts == {"emails": 2, "team_posts": 0, "already_sent": 0, "failed": 0}
    mails = {to: (subject, body) for to, subject, body in outbox.sent}
    assert mails[MIA] == ("Weekly digest 16 November: East", (
        "Hello,\n\nWhere your team stands on Monday 16 November 2026 (53% of the month gone):\n\n"
        "East (rank 2 of 2, 2 reps): 8 of 30 signups (27%), pace critical\n"
        "Standings:\n"
        "  1. Ana: 6 of 10 signups (60%), ahead\n"
        "  2. Bo: 2 of 20 signups (10%), critical\n"
        "Behind or critical:\n"
        "  - Bo: critical, 2 of 20 signups (10%), 8.7 behind the 10.7 expected by now\n"
        "Achievements this week: none\n\n"
        "The 'Team', 'Summary' and 'Charts' tabs have the details."))
    assert mails[MAX][0] == "Weekly digest 16 November: West"
    assert "West (rank 1 of 2, 1 rep): 5 of 10 signups (50%), pace behind" in mails[MAX][1]
    assert "Dee" not in mails[MIA][1] + mails[MAX][1]  # no team, no manager: in nobody's email
    # Again at the same moment (a second daemon, a cron run): nobody gets it twice.
    again = send_digest(store, settings(), outbox, DIGEST_AT + timedelta(minutes=5))
    assert (again["emails"], again["already_sent"]) == (0, 2) and len(outbox.sent) == 2


def test_a_manager_of_two_teams_gets_one_digest_with_both_in_rank_order() -> None:
    data = digest_company()
    data.reps[3].manager_email = MIA
    store, outbox = FakeJobStore(data), Outbox()
    send_digest(store, settings(), outbox, DIGEST_AT)
    [(to, subject, body)] = outbox.sent
    assert (to, subject) == (MIA, "Weekly digest 16 November: West, East")
    assert "Where your teams stand" in body and body.index("West (rank 1") < body.index("East (rank 2")


def test_team_channels_get_one_post_or_each_team_its_own() -> None:
    outbox = Outbox(can_email=False, has_team=True)
    send_digest(FakeJobStore(digest_company()), settings(team_urls=["json://127.0.0.1:1"]), outbox, DIGEST_AT)
    [(to, subject, body)] = outbox.sent
    assert (to, subject) == ("team", "Weekly digest 16 November: West, East, (no team)")
    assert "  1. Dee: 1 of 5 signups (20%), critical" in body
    outbox = Outbox(can_email=False, has_team=True)
    send_digest(FakeJobStore(digest_company()), settings(team_urls={"East": ["json://127.0.0.1:1"]}), outbox,
                DIGEST_AT)
    assert [(to, subject) for to, subject, _ in outbox.sent] == [("team:East", "Weekly digest 16 November: East")]


def test_the_weeks_achievements_and_alerts_are_the_seven_days_before_the_digest() -> None:
    data = digest_company()

    def earned(number: int, rep_id: int, day: int, *, revoked: bool = False) -> None:
        data.achievements[number] = Recorded(number, Achievement(
            rep_id, "bonus_tier_unlocked", 2026, 11, date(2026, 11, day), bonus_tier=number, bonus_amount=Decimal(100)),
            revoked_at=at(day) if revoked else None)

    earned(1, 1, 8)  # Sunday before the week
    earned(2, 1, 9)  # Monday, the week's first day
    earned(3, 1, 15)  # Sunday, its last
    earned(4, 1, 16)  # the digest's own day: next week's
    earned(5, 2, 12, revoked=True)  # a correction took it back
    store, outbox = FakeJobStore(data), Outbox()
    alert_pace(store, settings(), Outbox(), at(11))  # Bo (and Dee) turned critical on Wednesday
    send_digest(store, settings(), outbox, DIGEST_AT)
    body = dict((to, body) for to, _, body in outbox.sent)[MIA]
    assert ("Achievements this week:\n"
            "  - Ana unlocked bonus tier 2 (Silver) for November 2026: $100.00 bonus\n"
            "  - Ana unlocked bonus tier 3 (Gold) for November 2026: $100.00 bonus\n"
            "Pace alerts this week:\n"
            "  - Bo turned critical on Wednesday 11 November: 10% of the signup goal with 37% of the month gone"
            ) in body
    assert "Dee" not in body


def test_from_the_25th_the_digest_names_who_has_not_set_next_months_goals() -> None:
    data = digest_company()
    late = {(rep_id, 2026, 11): Month(rep_id, rep_id, month(5, 10)) for rep_id in (1, 2, 3)}
    data.months.update(late)
    data.months[(1, 2026, 12)] = Month(9, 1, month(0, 12, when=(2026, 12)))
    data.months[(2, 2026, 12)] = Month(10, 2, month(0, None, when=(2026, 12)))  # a default row, not set
    outbox = Outbox()
    send_digest(FakeJobStore(data), settings(), outbox, datetime(2026, 11, 30, 8, tzinfo=UTC))
    assert "Not yet set their December goals: Bo\n" in dict((to, b) for to, _, b in outbox.sent)[MIA]
    outbox = Outbox()
    send_digest(FakeJobStore(data), settings(), outbox, datetime(2026, 11, 23, 8, tzinfo=UTC))
    assert "December" not in outbox.sent[0][2]  # before the 25th nobody is asked yet


def test_nothing_is_sent_when_there_is_nothing_to_say() -> None:
    nobody = JobData(reps={1: Rep(1, "Ana", "ana@example.com", team="East", manager_email=MIA, active=False)})
    outbox = Outbox(has_team=True)
    counts = send_digest(FakeJobStore(nobody), settings(team_urls=["json://127.0.0.1:1"]), outbox, DIGEST_AT)
    assert counts == {"emails": 0, "team_posts": 0, "already_sent": 0, "failed": 0} and outbox.sent == []
    # Off, or a day late (the service was down over Monday): no digest either.
    store = FakeJobStore(digest_company())
    assert send_digest(store, settings(digest={"enabled": False}), outbox, DIGEST_AT)["disabled"] == 1
    assert send_digest(store, settings(), outbox, DIGEST_AT + timedelta(days=1, minutes=1))["stale"] == 1
    assert outbox.sent == [] and store.data.digests == {}


def test_with_no_email_and_no_team_channel_the_digest_reads_nothing_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    store, outbox = FakeJobStore(digest_company()), Outbox(can_email=False)
    counts = send_digest(store, settings(email_url=""), outbox, DIGEST_AT)
    assert (counts["no_channel"], counts["emails"], outbox.sent) == (1, 0, [])
    assert store.commits == 0  # not one transaction: the standings were never read
    assert "neither notifications.email_url nor team_urls is set" in caplog.text
    [outcome] = run_due(store, settings(email_url=""), outbox, DIGEST_AT, jobs=["digest"])
    assert (outcome.status, outcome.counts["no_channel"]) == ("success", 1)
    # Done for that moment, like a sent digest: the next turn does not try again.
    assert run_due(store, settings(email_url=""), outbox, DIGEST_AT + timedelta(hours=1), jobs=["digest"]) == []


def test_a_failed_digest_is_retried_on_the_next_turn_for_that_recipient_only() -> None:
    store, outbox = FakeJobStore(digest_company()), Outbox(refuse={MAX})
    first = run_due(store, settings(), outbox, DIGEST_AT, jobs=["digest"])
    assert [(o.status, o.error) for o in first] == [
        ("failed", "1 weekly digest(s) not sent, retried on the next turn: the mail server refused max@example.com")]
    assert outbox.to() == [MIA]
    assert store.data.digests[(DIGEST_AT, MAX)].attempts == 1
    outbox.refuse.clear()
    second = run_due(store, settings(), outbox, DIGEST_AT + timedelta(hours=1), jobs=["digest"])
    assert [(o.status, o.counts["emails"], o.counts["already_sent"]) for o in second] == [("success", 1, 1)]
    assert outbox.to() == [MIA, MAX]
    assert run_due(store, settings(), outbox, DIGEST_AT + timedelta(hours=2), jobs=["digest"]) == []


def test_which_achievements_and_alerts_a_digest_lists_is_decided_in_python() -> None:
    def dated(number: int, day: int, *, revoked: bool = False, active: bool = True) -> DatedAchievement:
        announcement = Announcement(number, 7 - number, "R", "r@example.com", "perfect_month", 2026, 11, None, None,
                                    None, None, None, None, None)
        return DatedAchievement(announcement, date(2026, 11, day), revoked, active)

    rows = [dated(1, 9), dated(2, 15), dated(3, 12, revoked=True), dated(4, 12, active=False), dated(5, 16),
            dated(6, 8)]
    assert [a.id for a in week_achievements(rows, today=date(2026, 11, 16))] == [2, 1]  # by rep, then id
    alerts = [PaceAlert(n, n, "R", "r@example.com", date(2026, 11, 9), moment, 2026, 11, None, None, Decimal(1),
                        None, 0) for n, moment in enumerate([DIGEST_AT - timedelta(days=7), DIGEST_AT,
                                                             DIGEST_AT - timedelta(seconds=1),
                                                             DIGEST_AT - timedelta(days=7, seconds=1)])]
    assert [a.id for a in week_alerts(alerts, moment=DIGEST_AT)] == [0, 2]


@pytest.mark.parametrize("goal, wording", [(3, "the bonus pays from tier 3, their Bonus Tier Goal"),
                                           (2, "$250.00 bonus")])
def test_the_digest_reads_the_months_bonus_tier_goal_beside_an_achievement(goal: int, wording: str) -> None:
    data = digest_company()
    data.months[(1, 2026, 11)].bonus_tier_goal = goal
    data.achievements[1] = Recorded(1, Achievement(1, "bonus_tier_unlocked", 2026, 11, date(2026, 11, 12),
                                                   bonus_tier=2, bonus_amount=Decimal(250)))
    outbox = Outbox()
    send_digest(FakeJobStore(data), settings(), outbox, DIGEST_AT)
    body = dict((to, b) for to, _, b in outbox.sent)[MIA]
    assert f"  - Ana unlocked bonus tier 2 (Silver) for November 2026: {wording}\n" in body
