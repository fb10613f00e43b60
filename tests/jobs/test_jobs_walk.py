"""The clock walks from 1 November to 2 December 2026, hour by hour, in New York time.

A real xlsx workbook is synced by real cycles, the jobs run every hour against the
real database, and reminders and announcements go through Apprise to a real SMTP
server. Four active reps: Erin sets her goals early (2 Nov) and meets them, Max
sets his on the 5th at 11:00 (between two reminders), Lee sets his late (8 Nov)
and meets them, Nia never does; Gus is inactive. 1 November is also the day the
clocks fall back, so 01:00 happens twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jobs.channels import ApprisePoster
from jobs.runner import AFTER_CYCLE, BEFORE_CYCLE, JOB_NAMES, run_due, run_job
from models.settings import Settings
from models.store import Store
from tests.jobs.helpers import Book, rows
from tests.jobs.mailbox import TEAM_ADDRESS, Mailbox

TZ = ZoneInfo("America/New_York")
START = datetime(2026, 11, 1, 0, 0, tzinfo=TZ)
END = datetime(2026, 12, 2, 12, 0, tzinfo=TZ)
EARLY, MID, LATE, NEVER, GONE = (f"{who}@example.com" for who in ("early", "mid", "late", "never", "gone"))


def _workbook(path: Path) -> Book:
    return Book(path, {
        "Reps": [
            [EARLY, "Erin Early", "East", True, 10, 30],
            [MID, "Max Mid", "East", True, 10, None],
            [LATE, "Lee Late", "West", True, 5, None],
            [NEVER, "Nia Never", "West", True, 8, None],
            [GONE, "Gus Gone", "West", False, 8, None],
        ],
        # Erin met September and October: November makes a three-month streak.
        "Monthly Goals": [[EARLY, 2026, 9, 10, 5000, None], [EARLY, 2026, 10, 10, 5000, None]],
        "Yearly Goals": [[EARLY, 2026, 30, None]],
        "Actuals": [[EARLY, 2026, 9, 10, 5000], [EARLY, 2026, 10, 10, 5000]],
    })


def _edits(book: Book) -> list[tuple[datetime, Callable[[], None]]]:
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=TZ)

    return [
        (at(2, 10), lambda: book.put("Monthly Goals", [EARLY, 2026, 11], [EARLY, 2026, 11, 10, 5000, 1])),
        (at(5, 11), lambda: book.put("Monthly Goals", [MID, 2026, 11], [MID, 2026, 11, 10, None, None])),
        (at(8, 10), lambda: book.put("Monthly Goals", [LATE, 2026, 11], [LATE, 2026, 11, 5, None, None])),
        (at(10, 12), lambda: book.put("Actuals", [EARLY, 2026, 11], [EARLY, 2026, 11, 5, 2000])),
        (at(20, 12), lambda: book.put("Actuals", [EARLY, 2026, 11], [EARLY, 2026, 11, 10, 5000])),
        (at(25, 12), lambda: book.put("Actuals", [LATE, 2026, 11], [LATE, 2026, 11, 6, None])),
    ]


def _visited(local: datetime) -> bool:
    """Every hour of the reminder days and the month's turn; on quiet days every hour around
    midnight, the check times (09:00, 13:00, 17:00) and the edits (12:00), to keep the test short."""
    busy = local.month == 12 or local.day <= 8 or local.day >= 30
    return busy or local.hour in (0, 1, 8, 9, 10, 12, 13, 14, 16, 17, 18)


def _walk(book: Book, settings: Settings, store: Store, smtp: Mailbox) -> list[tuple[datetime, tuple[str, ...], str]]:
    """Run the month; return every message received as (local time, recipients, subject)."""
    notifier = ApprisePoster(settings.notifications)
    edits = _edits(book)
    received = []
    moment = START
    while moment <= END:
        local = moment.astimezone(TZ)
        if not _visited(local):
            moment = (moment.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(TZ)
            continue
        pending = [edit for edit in edits if edit[0] <= moment]
        for edit in pending:
            edit[1]()
            edits.remove(edit)
        # A turn as the daemon runs it: the midnight snapshot, a cycle, the other jobs. The cycle runs
        # after each edit and at each local midnight only (the daemon runs one every poll; in between
        # nothing changes, so the jobs see the same database).
        outcomes = run_due(store, settings, notifier, moment, jobs=BEFORE_CYCLE)
        if pending or local.hour == 0 or moment == START:
            book.cycle(settings, store, moment)
        outcomes += run_due(store, settings, notifier, moment, jobs=AFTER_CYCLE)
        assert all(outcome.status == "success" for outcome in outcomes), outcomes
        received += [(local, mail.to, mail.subject) for mail in smtp.take()]
        moment = (moment.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(TZ)
    return received


def test_a_month_of_jobs(jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox,
                         workbook_path: Path) -> None:
    settings = jobs_settings(timezone="America/New_York", team=True, sheets={"xlsx_path": str(workbook_path)},
                             notifications={"digest": {"enabled": False}})  # tests/managers walks the digest
    book = _workbook(workbook_path)
    received = _walk(book, settings, store, smtp)

    # --- reminders: exactly these emails, at the first check (09:00) of their due day.
    reminder_mail = [(local, to) for local, to, subject in received
                     if to != (TEAM_ADDRESS,) and not subject.startswith("Congratulations")]
    expected_days = {
        NEVER: [3, 5, 6, 7], LATE: [3, 5, 6, 7], MID: [3, 5],  # Max set his goals on the 5th at 11:00
    }
    assert sorted((to[0], local.day, local.hour) for local, to in reminder_mail) == sorted(
        (email, day, 9) for email, days in expected_days.items() for day in days)
    assert all(local.month == 11 for local, _ in reminder_mail)
    subjects = {(to[0], local.day): subject for local, to, subject in received if to != (TEAM_ADDRESS,)}
    assert subjects[(NEVER, 3)] == "3 days left to set your November 2026 goals"
    assert subjects[(NEVER, 5)] == "1 day left to set your November 2026 goals"
    assert subjects[(NEVER, 6)] == "Last day to set your November 2026 goals"
    assert subjects[(NEVER, 7)] == "Overdue: your November 2026 goals are not set"

    reminders = rows(store, """
        SELECT r.email, d.reminder_type, d.sent, d.sent_at, d.cancelled_at, d.attempts
        FROM goal_deadline_reminders d JOIN sales_reps r ON r.id = d.sales_rep_id
        WHERE d.target_year = 2026 AND d.target_month = 11""")
    sent = {(email, kind, sent_at.astimezone(TZ).date()) for email, kind, was_sent, sent_at, _, _ in reminders
            if was_sent}
    types = {3: "goal_deadline_3days", 5: "goal_deadline_1day", 6: "goal_deadline_day", 7: "goal_overdue"}
    assert sent == {(email, types[day], date(2026, 11, day)) for email, days in expected_days.items()
                    for day in days}
    cancelled = {(email, kind) for email, kind, _, _, cancelled_at, _ in reminders if cancelled_at}
    assert cancelled == {(EARLY, kind) for kind in types.values()} | {
        (MID, "goal_deadline_day"), (MID, "goal_overdue")}
    assert len(reminders) == 16 and GONE not in {email for email, *_ in reminders}
    assert all(attempts == (1 if was_sent else 0) for _, _, was_sent, _, _, attempts in reminders)

    # --- achievements: recorded once each, announced to the rep and the team.
    achievements = rows(store, """
        SELECT r.email, a.achievement_type, a.achievement_year, a.achievement_month, a.bonus_tier, a.milestone,
               a.achievement_date, a.recognized, a.recognition_type
        FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id""")
    found = Counter((email, kind, year, month, tier, milestone)
                    for email, kind, year, month, tier, milestone, *_ in achievements)
    assert found == Counter({
        (EARLY, "monthly_signup_goal", 2026, 10, None, None): 1,  # October, seen on 1 November
        (EARLY, "monthly_revenue_goal", 2026, 10, None, None): 1,
        (EARLY, "bonus_tier_unlocked", 2026, 10, 1, None): 1,
        (EARLY, "monthly_signup_goal", 2026, 11, None, None): 1,
        (EARLY, "monthly_revenue_goal", 2026, 11, None, None): 1,
        (EARLY, "bonus_tier_unlocked", 2026, 11, 1, None): 1,
        (EARLY, "yearly_signup_goal", 2026, None, None, None): 1,
        (EARLY, "streak_milestone", 2026, 11, None, 3): 1,
        (EARLY, "perfect_month", 2026, 11, None, None): 1,
        (LATE, "monthly_signup_goal", 2026, 11, None, None): 1,  # set late: no perfect month
        (LATE, "bonus_tier_unlocked", 2026, 11, 1, None): 1,
    })
    dated = {(email, kind, month): when for email, kind, _, month, _, _, when, _, _ in achievements}
    assert dated[(EARLY, "perfect_month", 11)] == date(2026, 11, 20)
    assert dated[(EARLY, "monthly_signup_goal", 10)] == date(2026, 11, 1)
    assert all(recognized and kind == "email+team" for *_, recognized, kind in achievements)
    congratulations = [(local.day, to) for local, to, subject in received if subject.startswith("Congratulations")]
    assert congratulations == [(1, (EARLY,)), (20, (EARLY,)), (25, (LATE,))]
    team_posts = [(local.day, subject) for local, to, subject in received if to == (TEAM_ADDRESS,)]
    assert team_posts == [(1, "3 new achievements"), (20, "6 new achievements"), (25, "2 new achievements")]

    # --- snapshots: daily for every day, weekly on Sundays, monthly at month end. (On 1 November at
    # midnight the database was still empty: there was no 31 October to snapshot.)
    snapshots = rows(store, """
        SELECT snapshot_type, snapshot_date, count(*) FROM goal_progress_snapshots
        GROUP BY snapshot_type, snapshot_date""")
    by_type: dict[str, dict[date, int]] = {}
    for kind, day, count in snapshots:
        by_type.setdefault(kind, {})[day] = count
    november = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    assert by_type["daily"] == {**{day: 4 for day in november}, date(2026, 12, 1): 4}
    assert by_type["weekly"] == {date(2026, 11, day): 4 for day in (1, 8, 15, 22, 29)}
    assert by_type["monthly"] == {date(2026, 11, 30): 4}
    board = dict(rows(store, "SELECT snapshot_date, count(*) FROM leaderboard_snapshots GROUP BY snapshot_date"))
    assert board == by_type["daily"]
    pace = {email: (indicator, on_pace, remaining) for email, indicator, on_pace, remaining in rows(store, """
        SELECT r.email, s.pace_indicator, s.on_pace, s.days_remaining FROM goal_progress_snapshots s
        JOIN sales_reps r ON r.id = s.sales_rep_id
        WHERE s.snapshot_date = '2026-11-20' AND s.snapshot_type = 'daily'""")}
    assert pace == {EARLY: ("ahead", True, 10), MID: ("critical", False, 10), LATE: ("critical", False, 10),
                    NEVER: ("critical", False, 10)}
    ranks = dict(rows(store, """
        SELECT r.email, l.rank FROM leaderboard_snapshots l JOIN sales_reps r ON r.id = l.sales_rep_id
        WHERE l.snapshot_date = '2026-11-30'"""))
    assert ranks == {LATE: 1, EARLY: 2, MID: 3, NEVER: 3}  # 120 %, 100 %, then two ties at 0 %
    assert len(rows(store, "SELECT 1 FROM job_runs WHERE job = 'snapshot' AND status = 'success'")) == 32

    # --- month-end statuses.
    statuses = dict(rows(store, """
        SELECT r.email, g.status FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id
        WHERE g.goal_year = 2026 AND g.goal_month = 11"""))
    assert statuses == {EARLY: "completed", MID: "missed", LATE: "completed", NEVER: "missed"}

    # --- every job once more, by hand: nothing changes, nothing is sent.
    before = _row_counts(store)
    notifier = ApprisePoster(settings.notifications)
    for job in JOB_NAMES:
        outcome = run_job(store, settings, notifier, job, END, force=True)
        assert outcome.status == "success"
    assert _row_counts(store) == before
    assert smtp.take() == []


def _row_counts(store: Store) -> dict[str, object]:
    return {table: rows(store, f"SELECT count(*), count(*) FILTER (WHERE {flag}) FROM {table}")[0]
            for table, flag in (("goal_progress_snapshots", "true"), ("leaderboard_snapshots", "true"),
                                ("goal_achievements", "recognized"), ("goal_deadline_reminders", "sent"))}
