"""An in-memory ``JobStore`` (models/ports.py): the jobs' database in a few dicts.

Each method does what its SQL twin in ``models.job_queries.SqlJobTransaction`` does, on
plain rows; a unit of work is all-or-nothing, and a job lock can be held by "another
process", so the jobs' decisions are tested in milliseconds.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from models.job_queries import (
    AchievementRow,
    AchievementScope,
    Announcement,
    DatedAchievement,
    DueState,
    LeaderboardEntry,
    NewPaceAlert,
    OpenReminder,
    PaceAlert,
    ProgressSnapshot,
    RecordedAchievement,
    RepMonth,
    SnapshotSource,
    StaleMark,
)
from models.ports import CreatedReminders, JobStore
from models.readings import TREND_DAYS
from models.rules.achievements import Achievement, MonthState, streak_ending
from models.rules.announcements import AnnouncementState, RevokedState, pending, reinstatements, waits
from models.rules.deadlines import ReminderType, goal_deadline
from models.rules.periods import previous_month
from models.rules.reminders import RepMonthGoal, goal_is_set, month_reminders, needs_sending
from models.settings import Settings
from models.values import RepStanding


@dataclass
class Rep:
    """A rep as the jobs see one."""

    id: int
    name: str
    email: str
    active: bool = True
    team: str | None = None
    manager_email: str | None = None
    changed_at: datetime | None = None
    """When the rep row or one of its yearly goal rows last changed (their ``updated_at``)."""


@dataclass
class Month:
    """A monthly goal row as the jobs see one."""

    id: int
    rep_id: int
    state: MonthState
    stale: bool = False
    bonus_tier_goal: int | None = None


@dataclass
class Reminder:
    """A ``goal_deadline_reminders`` row."""

    id: int
    rep_id: int
    reminder_type: str
    year: int
    month: int
    deadline: datetime
    due_date: date
    acknowledged: bool = False
    sent: bool = False
    sent_at: datetime | None = None
    cancelled_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass
class Recorded:
    """A ``goal_achievements`` row."""

    id: int
    achievement: Achievement
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    recognized: bool = False
    recognition_type: str | None = None
    correction_recognition_type: str | None = None


@dataclass
class Alert:
    """A ``pace_alerts`` row."""

    id: int
    new: NewPaceAlert
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass
class Delivery:
    """A ``digest_deliveries`` row."""

    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass
class JobData:
    """Everything the fake stores."""

    reps: dict[int, Rep] = field(default_factory=dict)
    months: dict[tuple[int, int, int], Month] = field(default_factory=dict)
    runs: dict[tuple[str, datetime], dict[str, Any]] = field(default_factory=dict)
    progress_snapshots: dict[tuple[int, date, str], ProgressSnapshot] = field(default_factory=dict)
    leaderboard: dict[tuple[date, int], LeaderboardEntry] = field(default_factory=dict)
    achievements: dict[int, Recorded] = field(default_factory=dict)
    reminders: dict[int, Reminder] = field(default_factory=dict)
    pace_alerts: dict[int, Alert] = field(default_factory=dict)
    digests: dict[tuple[datetime, str], Delivery] = field(default_factory=dict)
    data_version: datetime | None = None

    def goal_set_at(self, rep_id: int, year: int, month: int) -> datetime | None:
        row = self.months.get((rep_id, year, month))
        return row.state.goal_set_at if row is not None else None

    def goal_set(self, rep_id: int, year: int, month: int) -> bool:
        return goal_is_set(self.goal_set_at(rep_id, year, month))


class FakeJobTransaction:
    """The jobs' reads and writes on a copy of the fake's data."""

    def __init__(self, data: JobData) -> None:
        self.data = data

    # job runs
    def successful_runs(self, keys: Sequence[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
        return {key for key in keys if self.data.runs.get(key, {}).get("status") == "success"}

    def start_job_run(self, job: str, scheduled_for: datetime, started_at: datetime) -> None:
        for (name, moment), run in self.data.runs.items():
            if name == job and run["status"] == "running" and moment < scheduled_for:
                run.update(status="failed", detail="interrupted (the process stopped during the run)")
        self.data.runs[(job, scheduled_for)] = {"started_at": started_at, "finished_at": None,
                                                "status": "running", "detail": None}

    def finish_job_run(self, job: str, scheduled_for: datetime, *, started_at: datetime,
                       finished_at: datetime, status: str, detail: str) -> None:
        self.data.runs[(job, scheduled_for)] = {"started_at": started_at, "finished_at": finished_at,
                                                "status": status, "detail": detail}

    def due_state(self, keys: Sequence[tuple[str, datetime]], *, every_turn: bool,
                  earned_since: date | None = None) -> DueState:
        done = self.successful_runs(keys)
        details = {key: self.data.runs[key]["detail"] for key in done}
        if not every_turn:
            return DueState(frozenset(done), details)
        since = earned_since or date.min
        pending = bool(self.pending_announcements(earned_since=since)
                       or self.pending_announcements(earned_since=since, correction=True))
        return DueState(frozenset(done), details, self.data.data_version, pending)

    # snapshots
    def snapshot_sources(self, *, year: int, month: int) -> list[SnapshotSource]:
        out = []
        for rep in sorted(self.data.reps.values(), key=lambda r: r.id):
            row = self.data.months.get((rep.id, year, month))
            if rep.active and row is not None:
                s = row.state
                out.append(SnapshotSource(rep.id, row.id, s.signups_actual, s.signup_goal, s.signup_percent,
                                          s.revenue_actual, s.revenue_goal, s.revenue_percent, s.bonus_tier))
        return out

    def insert_progress_snapshots(self, rows: Sequence[ProgressSnapshot]) -> dict[str, int]:
        added: Counter[str] = Counter()
        for row in rows:
            key = (row.sales_rep_id, row.snapshot_date, row.snapshot_type)
            if key not in self.data.progress_snapshots:
                self.data.progress_snapshots[key] = row
                added[row.snapshot_type] += 1
        return dict(added)

    def insert_leaderboard_snapshots(self, rows: Sequence[LeaderboardEntry]) -> int:
        added = 0
        for row in rows:
            if (row.snapshot_date, row.sales_rep_id) not in self.data.leaderboard:
                self.data.leaderboard[(row.snapshot_date, row.sales_rep_id)] = row
                added += 1
        return added

    # achievements
    def _active_months(self) -> list[Month]:
        return sorted((m for m in self.data.months.values() if self.data.reps[m.rep_id].active),
                      key=lambda m: (m.rep_id, m.state.year, m.state.month))

    def achievement_scope(self, *, changed_since: datetime | None = None) -> AchievementScope:
        stale = [m for m in self._active_months() if m.stale]
        marks = tuple(StaleMark(m.id, str(m.id), m.rep_id, m.state.year, m.state.month) for m in stale)
        if changed_since is None:
            return AchievementScope(marks=marks)
        changed = {rep.id for rep in self.data.reps.values()
                   if rep.active and rep.changed_at is not None and rep.changed_at > changed_since}
        return AchievementScope(frozenset({m.rep_id for m in stale} | changed), marks)

    def achievement_states(self, *, evaluate_from: tuple[int, int], reps: Collection[int] | None = None,
                           starts: Mapping[int, tuple[int, int]] | None = None) -> list[RepMonth]:
        # The whole history (the SQL cuts it where no streak can cross: the same answers).
        return [RepMonth(m.rep_id, m.id, m.state, stale=m.stale, token=str(m.id)) for m in self._active_months()
                if reps is None or m.rep_id in reps]

    def clear_stale(self, marks: Sequence[StaleMark]) -> int:
        cleared = 0
        ids = {mark.monthly_goal_id for mark in marks}
        for month in self.data.months.values():
            if month.stale and month.id in ids:
                month.stale = False
                cleared += 1
        return cleared

    def recorded_achievements(self, *, from_year: int,
                              reps: Collection[int] | None = None) -> list[RecordedAchievement]:
        return [RecordedAchievement(r.id, r.achievement, r.revoked_at is not None,
                                    bool(r.correction_recognition_type))
                for r in sorted(self.data.achievements.values(), key=lambda r: r.id)
                if r.achievement.achievement_year >= from_year and self.data.reps[r.achievement.sales_rep_id].active
                and (reps is None or r.achievement.sales_rep_id in reps)]

    def revoke_achievements(self, reasons: Mapping[int, str], now: datetime) -> int:
        revoked = 0
        for achievement_id, reason in reasons.items():
            row = self.data.achievements[achievement_id]
            if row.revoked_at is None:
                row.revoked_at, row.revoked_reason = now, reason
                revoked += 1
        return revoked

    def reinstate_achievements(self, ids: Sequence[int], today: date) -> int:
        rows = [self.data.achievements[i] for i in dict.fromkeys(ids)]
        decided = reinstatements([RevokedState(r.id, r.revoked_at is not None, r.recognized, r.recognition_type,
                                               r.correction_recognition_type, r.achievement.achievement_date)
                                  for r in rows], today)
        for change in decided:
            row = self.data.achievements[change.id]
            row.recognized, row.recognition_type = change.recognized, change.recognition_type
            row.achievement = replace(row.achievement, achievement_date=change.achievement_date)
            row.revoked_at = row.revoked_reason = row.correction_recognition_type = None
        return len(decided)

    def insert_achievements(self, rows: Sequence[AchievementRow]) -> int:
        keys = {r.achievement.key for r in self.data.achievements.values()}
        added = 0
        for row in rows:
            if row.achievement.key not in keys:
                new_id = len(self.data.achievements) + 1
                self.data.achievements[new_id] = Recorded(new_id, row.achievement)
                keys.add(row.achievement.key)
                added += 1
        return added

    # announcements
    def _state(self, row: Recorded) -> AnnouncementState:
        return AnnouncementState(self.data.reps[row.achievement.sales_rep_id].active, row.achievement.achievement_date,
                                 row.revoked_at.date() if row.revoked_at else None, row.recognized,
                                 row.recognition_type, row.correction_recognition_type)

    def _pending(self, row: Recorded, correction: bool) -> bool:
        return waits(self._state(row), correction=correction)

    def _announcement(self, row: Recorded, correction: bool) -> Announcement:
        a, rep = row.achievement, self.data.reps[row.achievement.sales_rep_id]
        return Announcement(row.id, rep.id, rep.name, rep.email, a.achievement_type, a.achievement_year,
                            a.achievement_month, a.goal_value, a.actual_value, a.percent_achieved, a.bonus_tier,
                            a.bonus_amount, a.milestone,
                            row.correction_recognition_type if correction else row.recognition_type,
                            row.revoked_reason, row.recognition_type, self._bonus_tier_goal(a))

    def _bonus_tier_goal(self, achievement: Achievement) -> int | None:
        """The Bonus Tier Goal of the achievement's month as it is now (as ``announcement_columns``)."""
        if achievement.achievement_month is None:
            return None
        month = self.data.months.get((achievement.sales_rep_id, achievement.achievement_year,
                                      achievement.achievement_month))
        return month.bonus_tier_goal if month is not None else None

    def pending_announcements(self, *, earned_since: date, correction: bool = False) -> list[Announcement]:
        rows = [row for row in self.data.achievements.values()
                if pending(self._state(row), correction=correction, since=earned_since)]
        return [self._announcement(r, correction) for r in sorted(rows, key=lambda r: (r.achievement.sales_rep_id,
                                                                                       r.id))]

    def claim_announcements(self, ids: Sequence[int], *, correction: bool = False) -> list[Announcement]:
        return [self._announcement(self.data.achievements[i], correction) for i in sorted(ids)
                if self._pending(self.data.achievements[i], correction)]

    def set_recognition(self, updates: Mapping[int, tuple[str, bool]], *, correction: bool = False) -> int:
        for achievement_id, (kind, done) in updates.items():
            row = self.data.achievements[achievement_id]
            if correction:
                row.correction_recognition_type = kind
            else:
                row.recognition_type, row.recognized = kind, done
        return len(updates)

    # reminders
    def create_reminders(self, *, year: int, month: int, deadline: datetime,
                         due_dates: Mapping[ReminderType, date], now: datetime,
                         checked_through: date | None = None) -> CreatedReminders:
        existing = {(r.rep_id, r.reminder_type, r.year, r.month) for r in self.data.reminders.values()}
        reps = [RepMonthGoal(rep.id, rep.active, self.data.goal_set_at(rep.id, year, month))
                for rep in self.data.reps.values()]
        added = cancelled = 0
        for row in month_reminders(reps, due_dates, now, checked_through=checked_through):
            if (row.rep_id, row.reminder_type, year, month) not in existing:
                new_id = len(self.data.reminders) + 1
                self.data.reminders[new_id] = Reminder(new_id, row.rep_id, row.reminder_type, year, month, deadline,
                                                       row.due_date, acknowledged=row.acknowledged,
                                                       cancelled_at=row.cancelled_at)
                added += 1
                cancelled += row.cancelled_at is not None
        return CreatedReminders(added, cancelled)

    def open_reminders(self, *, due_by: date) -> list[OpenReminder]:
        rows = sorted((r for r in self.data.reminders.values()
                       if not r.sent and r.cancelled_at is None and r.due_date <= due_by),
                      key=lambda r: (r.rep_id, r.year, r.month, r.due_date, r.id))
        return [OpenReminder(r.id, r.rep_id, self.data.reps[r.rep_id].name, self.data.reps[r.rep_id].email,
                             self.data.reps[r.rep_id].active, r.reminder_type, r.year, r.month, r.deadline,
                             r.due_date, r.attempts, self.data.goal_set(r.rep_id, r.year, r.month))
                for r in rows]

    def cancel_reminders(self, ids: Sequence[int], now: datetime) -> int:
        cancelled = 0
        for reminder_id in ids:
            row = self.data.reminders[reminder_id]
            if not row.sent and row.cancelled_at is None:
                row.cancelled_at = now
                cancelled += 1
        return cancelled

    def claim_reminder(self, reminder_id: int) -> bool:
        row = self.data.reminders[reminder_id]
        return needs_sending(sent=row.sent, cancelled_at=row.cancelled_at,
                             goal_set_at=self.data.goal_set_at(row.rep_id, row.year, row.month))

    def mark_reminder_sent(self, reminder_id: int, now: datetime) -> None:
        row = self.data.reminders[reminder_id]
        row.sent, row.sent_at, row.attempts, row.last_error = True, now, row.attempts + 1, None

    def mark_reminder_failed(self, reminder_id: int, error: str) -> None:
        row = self.data.reminders[reminder_id]
        row.attempts, row.last_error = row.attempts + 1, error[:500]

    # the managers' jobs
    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        out = []
        for rep in self.data.reps.values():
            if not rep.active:
                continue
            months = [m.state for m in self.data.months.values() if m.rep_id == rep.id]
            row = self.data.months.get((rep.id, year, month))
            state = row.state if row is not None else MonthState(year, month)
            deadline = goal_deadline(year, month, settings.goals.deadline_day, settings.tz)
            # The streak ends this month when it is met, else last month (as the Summary's).
            current = state.counts_for_streak if row is not None else False
            ending = (year, month) if current else previous_month(year, month)
            first_trend_day = date(year, month, 1) - timedelta(days=31)
            trend = sorted((snap.snapshot_date, snap.signup_progress_percent)
                           for (rep_id, day, kind), snap in self.data.progress_snapshots.items()
                           if rep_id == rep.id and kind == "daily" and day >= first_trend_day)[-TREND_DAYS:]
            out.append(RepStanding(
                rep_id=rep.id, name=rep.name, email=rep.email, team=rep.team, year=year, month=month,
                has_goal_row=row is not None, signup_goal=state.signup_goal, signups=state.signups_actual,
                signup_pct=state.signup_percent, revenue_goal=state.revenue_goal, revenue=state.revenue_actual,
                revenue_pct=state.revenue_percent, bonus_tier_goal=row.bonus_tier_goal if row else None,
                bonus_tier=state.bonus_tier, bonus_amount=Decimal(0), bonus_triggered=False, deadline=deadline,
                goal_set_at=state.goal_set_at, set_by_deadline=state.set_by_deadline,
                status=("completed" if state.complete else "active") if row is not None else None,
                # The fake holds no yearly rows: the year's figures of a rep without one.
                ytd_signups=Decimal(0), yearly_signup_goal=None, ytd_signup_pct=None, ytd_revenue=Decimal(0),
                yearly_revenue_goal=None, ytd_revenue_pct=None, monthly_signup_target=None,
                streak=streak_ending(months, *ending), trend=tuple(pct for _, pct in trend)))
        return sorted(out, key=lambda s: (s.team is None, s.team or "", s.name, s.rep_id))

    def manager_emails(self) -> dict[int, str | None]:
        return {rep.id: rep.manager_email for rep in self.data.reps.values()}

    def goal_set_times(self, *, year: int, month: int) -> dict[int, datetime | None]:
        return {m.rep_id: m.state.goal_set_at for (_, y, mo), m in self.data.months.items() if (y, mo) == (year, month)}

    def achievements_dated(self, first: date, last: date) -> list[DatedAchievement]:
        rows = sorted((r for r in self.data.achievements.values()
                       if first <= r.achievement.achievement_date <= last),
                      key=lambda r: (r.achievement.sales_rep_id, r.id))
        return [DatedAchievement(self._announcement(r, False), r.achievement.achievement_date,
                                 r.revoked_at is not None, self.data.reps[r.achievement.sales_rep_id].active)
                for r in rows]

    def pace_indicators(self, day: date) -> dict[int, str | None]:
        return {rep_id: snap.pace_indicator for (rep_id, when, kind), snap in self.data.progress_snapshots.items()
                if when == day and kind == "daily"}

    def _alert(self, row: Alert) -> PaceAlert:
        rep, new = self.data.reps[row.new.rep_id], row.new
        return PaceAlert(row.id, rep.id, rep.name, rep.email, new.week_start, new.detected_at, new.year, new.month,
                         new.signup_pct, new.revenue_pct, new.expected_pct, row.sent_at, row.attempts, rep.active)

    def pace_alerts_of_week(self, week_start: date) -> list[PaceAlert]:
        return [self._alert(row) for row in sorted(self.data.pace_alerts.values(),
                                                   key=lambda row: (row.new.detected_at, row.id))
                if row.new.week_start == week_start]

    def pace_alerts_detected(self, start: datetime, end: datetime) -> list[PaceAlert]:
        return [self._alert(row) for row in sorted(self.data.pace_alerts.values(),
                                                   key=lambda row: (row.new.detected_at, row.id))
                if start <= row.new.detected_at < end]

    def insert_pace_alerts(self, rows: Sequence[NewPaceAlert]) -> int:
        weeks = {(row.new.rep_id, row.new.week_start) for row in self.data.pace_alerts.values()}
        added = 0
        for new in rows:
            if (new.rep_id, new.week_start) not in weeks:  # uq_pace_alerts_rep_week
                alert_id = len(self.data.pace_alerts) + 1
                self.data.pace_alerts[alert_id] = Alert(alert_id, new)
                weeks.add((new.rep_id, new.week_start))
                added += 1
        return added

    def claim_pace_alert(self, alert_id: int) -> bool:
        return self.data.pace_alerts[alert_id].sent_at is None

    def mark_pace_alert_sent(self, alert_id: int, now: datetime) -> None:
        row = self.data.pace_alerts[alert_id]
        row.sent_at, row.attempts, row.last_error = now, row.attempts + 1, None

    def mark_pace_alert_failed(self, alert_id: int, error: str) -> None:
        row = self.data.pace_alerts[alert_id]
        row.attempts, row.last_error = row.attempts + 1, error[:500]

    def claim_digest(self, moment: datetime, recipient: str) -> bool:
        return self.data.digests.setdefault((moment, recipient), Delivery()).sent_at is None

    def mark_digest_sent(self, moment: datetime, recipient: str, now: datetime) -> None:
        row = self.data.digests[(moment, recipient)]
        row.sent_at, row.attempts, row.last_error = now, row.attempts + 1, None

    def mark_digest_failed(self, moment: datetime, recipient: str, error: str) -> None:
        row = self.data.digests[(moment, recipient)]
        row.attempts, row.last_error = row.attempts + 1, error[:500]


class FakeJobStore:
    """The in-memory job store: ``data`` holds what was committed; ``locked`` the jobs whose lock
    another process holds."""

    def __init__(self, data: JobData | None = None, *, locked: frozenset[str] = frozenset()) -> None:
        self.data = data or JobData()
        self.locked = locked
        self.commits = 0

    @contextmanager
    def job_transaction(self, now: datetime) -> Iterator[FakeJobTransaction]:
        working = copy.deepcopy(self.data)
        yield FakeJobTransaction(working)
        self.data = working  # not reached when the block raised: rolled back
        self.commits += 1

    @contextmanager
    def job_lock(self, job: str) -> Iterator[bool]:
        yield job not in self.locked


def as_job_store(store: FakeJobStore) -> JobStore:
    """The fake where a ``JobStore`` is expected (mypy checks that it implements the Protocol)."""
    return store
