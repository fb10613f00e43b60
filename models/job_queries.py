"""The SQL of the scheduled jobs (``jobs/``): the methods of ``SqlJobTransaction``, and frozen dataclasses.

``SqlJobTransaction`` implements ``models.ports.JobTransaction`` over one connection
(``Store.job_transaction``), so the jobs never touch SQLAlchemy and a fake of the same
Protocol tests them without a database. Reads are one query each and writes one
set-based statement each, whatever the number of reps; the only per-row
statements are the claims of a reminder, an announcement, a pace alert or a
digest recipient, which must each be committed together with their own send.
No statement decides who is alerted or what counts: the jobs do, in Python.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, text

from models import readings
from models.bulk import BULK_ROWS, foreign_keys_checked_once
from models.ports import CreatedReminders
from models.rules.achievements import Achievement, MonthState, YearState
from models.rules.reminders import goal_is_set
from models.sql_arrays import array_literal

if TYPE_CHECKING:
    from models.rules.announcements import AnnouncementState
    from models.rules.deadlines import ReminderType
    from models.settings import Settings
    from models.values import RepStanding


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _json_rows(rows: Sequence[Mapping[str, object]]) -> str:
    return json.dumps([{key: _jsonable(value) for key, value in row.items()} for row in rows])


# --------------------------------------------------------------------------------------------- job runs


@dataclass(frozen=True)
class DueState:
    """What decides which jobs are due at a turn, read in one query (``due_state``)."""

    done: frozenset[tuple[str, datetime]]
    """The asked ``(job, scheduled_for)`` keys that already have a successful run."""
    details: Mapping[tuple[str, datetime], str | None]
    """The ``detail`` of each of those successful runs."""
    data_version: datetime | None = None
    """The newest ``updated_at`` of reps, monthly and yearly goals: it moves whenever one of
    them really changes (the trigger leaves it alone on a write of identical values)."""
    pending_announcements: bool = False
    """Whether an active rep has an achievement (or a correction) still to announce
    (``models.rules.announcements.any_pending``)."""


def _every_turn_state() -> str:
    """The data version and the distinct announcement states of the candidate achievements (see
    ``_candidates``), as JSON: whether one is pending is ``any_pending``'s. Only asked for when
    an every-turn job is wanted: the snapshot's turn needs none of it."""
    return f"""
        greatest((SELECT max(updated_at) FROM sales_reps), (SELECT max(updated_at) FROM rep_monthly_goals),
                 (SELECT max(updated_at) FROM rep_yearly_goals)) AS data_version,
        (SELECT json_agg(s) FROM (
            SELECT DISTINCT {_STATE_COLUMNS}
            FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
            WHERE ({_candidates(False)}) OR ({_candidates(True)})
        ) s) AS pending
    """


def _pending_states(states: Sequence[Mapping[str, object]] | None, since: date) -> bool:
    """``any_pending`` over the JSON states ``_every_turn_state`` read."""
    from models.rules.announcements import AnnouncementState, any_pending

    def day(value: object) -> date | None:
        return date.fromisoformat(str(value)) if value is not None else None

    return any_pending((AnnouncementState(bool(s["is_active"]), date.fromisoformat(str(s["achievement_date"])),
                                          day(s["revoked_on"]), bool(s["recognized"]),
                                          _text(s["recognition_type"]), _text(s["correction_recognition_type"]))
                        for s in states or ()), since=since)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class SnapshotSource:
    """An active rep's goal row for the month being snapshotted."""

    rep_id: int
    monthly_goal_id: int
    signups: Decimal | None
    signup_goal: int | None
    signup_pct: Decimal | None
    revenue: Decimal | None
    revenue_goal: Decimal | None
    revenue_pct: Decimal | None
    bonus_tier: int | None


@dataclass(frozen=True)
class ProgressSnapshot:
    """One ``goal_progress_snapshots`` row."""

    sales_rep_id: int
    snapshot_date: date
    snapshot_type: str
    monthly_goal_id: int | None
    signups_to_date: Decimal | None
    signup_goal: int | None
    signup_progress_percent: Decimal | None
    revenue_to_date: Decimal | None
    revenue_goal: Decimal | None
    revenue_progress_percent: Decimal | None
    bonus_tier: int | None
    days_remaining: int | None
    on_pace: bool | None
    pace_indicator: str | None


@dataclass(frozen=True)
class LeaderboardEntry:
    """One ``leaderboard_snapshots`` row."""

    snapshot_date: date
    sales_rep_id: int
    rank: int
    signups: Decimal | None
    revenue: Decimal | None
    signup_progress_percent: Decimal | None
    revenue_progress_percent: Decimal | None
    bonus_tier: int | None


# --------------------------------------------------------------------------------------------- achievements


@dataclass(frozen=True)
class RepMonth:
    """One monthly goal row of an active rep, as the achievement rules see it, with the ids an
    achievement row links to. ``year_state`` is only loaded for the months being evaluated.
    ``stale``: its achievement basis changed since the job last looked (``token`` identifies
    the row version that was read, so a row changed meanwhile stays stale)."""

    rep_id: int
    monthly_goal_id: int
    state: MonthState
    yearly_goal_id: int | None = None
    year_state: YearState | None = None
    stale: bool = False
    token: str = ""


class StaleMark(NamedTuple):
    """A month whose achievement basis changed since the job last looked (a row of
    ``achievement_stale_months``): its goal row, the mark's row version (``token``: a month marked
    again after the read keeps its mark), its rep and month. A named tuple: a first load has one
    per goal row (48,000 at 2,000 reps × 24 months), and a tuple is the cheapest to build."""

    monthly_goal_id: int
    token: str
    rep_id: int
    year: int
    month: int


@dataclass(frozen=True)
class AchievementScope:
    """Where the achievement job must look. ``reps``: the active reps with a stale month or whose
    rep row or yearly goals changed after a given time (the same day's last run, with the same
    settings: nobody else can have news), or None for every active rep."""

    reps: frozenset[int] | None = None
    marks: tuple[StaleMark, ...] = ()
    """Every stale month of an active rep (what ``clear_stale`` takes once they are evaluated)."""

    @property
    def earliest_stale(self) -> tuple[int, int] | None:
        """The oldest (year, month) of the marks, or None."""
        return min(((mark.year, mark.month) for mark in self.marks), default=None)


@dataclass(frozen=True)
class RecordedAchievement:
    """A ``goal_achievements`` row as the revocation rule needs it."""

    id: int
    achievement: Achievement
    revoked: bool
    correction_announced: bool


@dataclass(frozen=True)
class AchievementRow:
    """An achievement and the goal rows it belongs to."""

    achievement: Achievement
    monthly_goal_id: int | None
    yearly_goal_id: int | None


# --------------------------------------------------------------------------------------------- announcements


@dataclass(frozen=True)
class Announcement:
    """An achievement not yet announced on every channel, with its rep; or, for a correction,
    a revoked achievement already announced (``recognition_type``: the channels the correction
    went to so far; ``announced_on``: the channels the achievement itself went to)."""

    id: int
    rep_id: int
    rep_name: str
    email: str
    achievement_type: str
    year: int
    month: int | None
    goal_value: Decimal | None
    actual_value: Decimal | None
    percent_achieved: Decimal | None
    bonus_tier: int | None
    bonus_amount: Decimal | None
    milestone: int | None
    recognition_type: str | None
    revoked_reason: str | None = None
    announced_on: str | None = None
    bonus_tier_goal: int | None = None
    """The month's Bonus Tier Goal as it is now: a tier below it pays no bonus."""


def announcement_columns(correction: bool = False) -> str:
    """The ``Announcement`` columns of ``goal_achievements a`` joined with ``sales_reps r``."""
    done = "a.correction_recognition_type" if correction else "a.recognition_type"
    return f"""
        a.id, a.sales_rep_id, r.name, r.email, a.achievement_type, a.achievement_year, a.achievement_month,
        a.goal_value, a.actual_value, a.percent_achieved, a.bonus_tier, a.bonus_amount, a.milestone,
        {done}, a.revoked_reason, a.recognition_type,
        (SELECT g.bonus_tier_goal FROM rep_monthly_goals g WHERE g.sales_rep_id = a.sales_rep_id
            AND g.goal_year = a.achievement_year AND g.goal_month = a.achievement_month)
    """


# What ``models.rules.announcements`` reads of ``goal_achievements a`` and ``sales_reps r``
# (``AnnouncementState``'s fields, in order).
_STATE_COLUMNS = """r.is_active, a.achievement_date, CAST(a.revoked_at AS date) AS revoked_on, a.recognized,
    a.recognition_type, a.correction_recognition_type"""


def _candidates(correction: bool) -> str:
    """The achievements read as candidates for announcing: earned (``correction``: revoked) on or
    after ``:since`` and, for an achievement, not recognized. Conditions every pending row meets,
    so the read is narrower but never decides: whether a candidate is pending is
    ``models.rules.announcements.pending``'s (tests/agreement/test_announcements_match_sql.py)."""
    if correction:
        return "a.revoked_at >= CAST(:since AS date)"
    return "a.achievement_date >= CAST(:since AS date) AND NOT a.recognized"


def _announcements(rows: Sequence[Any], keep: Callable[[AnnouncementState], bool]) -> list[Announcement]:
    """The ``Announcement`` of each row (its columns, then ``_STATE_COLUMNS``) whose state ``keep`` takes."""
    from models.rules.announcements import AnnouncementState

    width = len(fields(Announcement))
    return [Announcement(*row[:width]) for row in rows
            if keep(AnnouncementState(*row[width:]))]


# --------------------------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class OpenReminder:
    """A reminder neither sent nor cancelled, whose due date has come, with its rep and goal state."""

    id: int
    rep_id: int
    rep_name: str
    email: str
    rep_active: bool
    reminder_type: str
    year: int
    month: int
    deadline: datetime
    due_date: date
    attempts: int
    goal_set: bool



# --------------------------------------------------------------------------------------------- managers


@dataclass(frozen=True)
class PaceAlert:
    """A ``pace_alerts`` row: a rep who turned critical (at most one per rep and week), with its rep."""

    id: int
    rep_id: int
    rep_name: str
    email: str
    week_start: date
    detected_at: datetime
    year: int
    month: int
    signup_pct: Decimal | None
    revenue_pct: Decimal | None
    expected_pct: Decimal
    sent_at: datetime | None
    attempts: int
    rep_active: bool = True


_ALERT_COLUMNS = """
    p.id, p.sales_rep_id, r.name, r.email, p.week_start, p.detected_at, p.goal_year, p.goal_month,
    p.signup_progress_percent, p.revenue_progress_percent, p.expected_percent, p.sent_at, p.attempts, r.is_active
"""


@dataclass(frozen=True)
class NewPaceAlert:
    """A ``pace_alerts`` row to record (``jobs.pace_alerts`` decides who gets one)."""

    rep_id: int
    week_start: date
    detected_at: datetime
    year: int
    month: int
    signup_pct: Decimal | None
    revenue_pct: Decimal | None
    expected_pct: Decimal


@dataclass(frozen=True)
class DatedAchievement:
    """An achievement dated within a window, as the digest weighs it: revoked ones and those of
    reps who left are read too (``jobs.digest.week_achievements`` leaves them out)."""

    announcement: Announcement
    achievement_date: date
    revoked: bool
    rep_active: bool


class SqlJobTransaction:
    """The jobs' reads and writes inside one database transaction (``models.ports.JobTransaction``)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def successful_runs(self, keys: Sequence[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
        """Which of the ``(job, scheduled_for)`` keys already have a successful run."""
        if not keys:
            return set()
        rows = self._connection.execute(text("""
            SELECT r.job, r.scheduled_for FROM job_runs r
            JOIN unnest(CAST(:jobs AS text[]), CAST(:moments AS timestamptz[])) AS k(job, scheduled_for)
              ON k.job = r.job AND k.scheduled_for = r.scheduled_for
            WHERE r.status = 'success'
        """), {"jobs": [job for job, _ in keys], "moments": [moment for _, moment in keys]}).all()
        return {(row.job, row.scheduled_for) for row in rows}

    def start_job_run(self, job: str, scheduled_for: datetime, started_at: datetime) -> None:
        """Record that ``job`` started for ``scheduled_for`` (status ``running``). Call it holding the
        job's lock: an older run still marked ``running`` was interrupted (process killed) and is
        marked ``failed``."""
        self._connection.execute(text("""
            UPDATE job_runs SET status = 'failed', detail = 'interrupted (the process stopped during the run)'
            WHERE job = :job AND status = 'running' AND scheduled_for < :scheduled_for
        """), {"job": job, "scheduled_for": scheduled_for})
        self._connection.execute(text("""
            INSERT INTO job_runs (job, scheduled_for, started_at, status)
            VALUES (:job, :scheduled_for, :started_at, 'running')
            ON CONFLICT (job, scheduled_for) DO UPDATE
            SET started_at = excluded.started_at, finished_at = NULL, status = 'running'
        """), {"job": job, "scheduled_for": scheduled_for, "started_at": started_at})

    def finish_job_run(self, job: str, scheduled_for: datetime, *, started_at: datetime,
                       finished_at: datetime, status: str, detail: str) -> None:
        """Record how ``job`` ended for ``scheduled_for`` (``success`` or ``failed``, with a detail line)."""
        self._connection.execute(text("""
            INSERT INTO job_runs (job, scheduled_for, started_at, finished_at, status, detail)
            VALUES (:job, :scheduled_for, :started_at, :finished_at, :status, :detail)
            ON CONFLICT (job, scheduled_for) DO UPDATE
            SET started_at = excluded.started_at, finished_at = excluded.finished_at,
                status = excluded.status, detail = excluded.detail
        """), {"job": job, "scheduled_for": scheduled_for, "started_at": started_at, "finished_at": finished_at,
               "status": status, "detail": detail})

    def due_state(self, keys: Sequence[tuple[str, datetime]], *, every_turn: bool,
                  earned_since: date | None = None) -> DueState:
        """Which of ``keys`` have a successful run (with its detail) and, when ``every_turn``, the
        data version and whether announcements earned (or corrections made) on or after
        ``earned_since`` are pending: one statement, whatever is asked."""
        state = _every_turn_state() if every_turn else "NULL::timestamptz AS data_version, NULL::json AS pending"
        rows = self._connection.execute(text(f"""
            WITH state AS (SELECT {state})
            SELECT s.data_version, s.pending, d.job, d.scheduled_for, d.detail
            FROM state s LEFT JOIN (
                SELECT r.job, r.scheduled_for, r.detail FROM job_runs r
                JOIN unnest(CAST(:jobs AS text[]), CAST(:moments AS timestamptz[])) AS k(job, scheduled_for)
                  ON k.job = r.job AND k.scheduled_for = r.scheduled_for
                WHERE r.status = 'success'
            ) d ON true
        """), {"jobs": [job for job, _ in keys], "moments": [moment for _, moment in keys],
               "since": earned_since or date.min}).all()
        details = {(row.job, row.scheduled_for): row.detail for row in rows if row.job is not None}
        pending = every_turn and _pending_states(rows[0].pending, earned_since or date.min)
        return DueState(frozenset(details), details, rows[0].data_version, pending)

    def snapshot_sources(self, *, year: int, month: int) -> list[SnapshotSource]:
        """Every active rep that has a ``(year, month)`` goal row, with that row, by rep id (a rep
        without a row for the month has nothing to snapshot)."""
        rows = self._connection.execute(text("""
            SELECT r.id, g.id, g.signups_actual, g.signup_goal, g.signup_progress_percent, g.revenue_actual,
                   g.revenue_goal, g.revenue_progress_percent, g.bonus_tier_actual
            FROM sales_reps r
            JOIN rep_monthly_goals g ON g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
            WHERE r.is_active
            ORDER BY r.id
        """), {"year": year, "month": month}).all()
        return [SnapshotSource(*row) for row in rows]

    def insert_progress_snapshots(self, rows: Sequence[ProgressSnapshot]) -> dict[str, int]:
        """Insert snapshots (one statement); rows already there are kept. Returns rows added per type."""
        if not rows:
            return {}
        added = self._connection.execute(text("""
            INSERT INTO goal_progress_snapshots (sales_rep_id, snapshot_date, snapshot_type, monthly_goal_id,
                signups_to_date, signup_goal, signup_progress_percent, revenue_to_date, revenue_goal,
                revenue_progress_percent, bonus_tier, days_remaining, on_pace, pace_indicator)
            SELECT sales_rep_id, snapshot_date, snapshot_type, monthly_goal_id, signups_to_date, signup_goal,
                   signup_progress_percent, revenue_to_date, revenue_goal, revenue_progress_percent, bonus_tier,
                   days_remaining, on_pace, pace_indicator
            FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
                sales_rep_id int, snapshot_date date, snapshot_type text, monthly_goal_id int,
                signups_to_date numeric, signup_goal int, signup_progress_percent numeric, revenue_to_date numeric,
                revenue_goal numeric, revenue_progress_percent numeric, bonus_tier smallint,
                days_remaining smallint, on_pace boolean, pace_indicator text)
            ON CONFLICT ON CONSTRAINT uq_snapshots_rep_date_type DO NOTHING
            RETURNING snapshot_type
        """), {"rows": _json_rows([asdict(row) for row in rows])}).scalars().all()
        return dict(Counter(added))

    def insert_leaderboard_snapshots(self, rows: Sequence[LeaderboardEntry]) -> int:
        """Insert daily leaderboard rows (one statement); rows already there are kept. Returns rows added."""
        if not rows:
            return 0
        return self._connection.execute(text("""
            INSERT INTO leaderboard_snapshots (snapshot_date, sales_rep_id, rank, signups, revenue,
                signup_progress_percent, revenue_progress_percent, bonus_tier)
            SELECT snapshot_date, sales_rep_id, rank, signups, revenue, signup_progress_percent,
                   revenue_progress_percent, bonus_tier
            FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
                snapshot_date date, sales_rep_id int, rank int, signups numeric, revenue numeric,
                signup_progress_percent numeric, revenue_progress_percent numeric, bonus_tier smallint)
            ON CONFLICT ON CONSTRAINT uq_leaderboard_rep_date DO NOTHING
        """), {"rows": _json_rows([asdict(row) for row in rows])}).rowcount

    def achievement_scope(self, *, changed_since: datetime | None = None) -> AchievementScope:
        """Where the achievement job must look (see ``AchievementScope``); the reps only when
        ``changed_since`` is given. One query."""
        row = self._connection.execute(text("""
            WITH stale AS (
                SELECT g.sales_rep_id, s.monthly_goal_id, s.xmin::text AS token, g.goal_year, g.goal_month
                FROM achievement_stale_months s
                JOIN rep_monthly_goals g ON g.id = s.monthly_goal_id
                JOIN sales_reps r ON r.id = g.sales_rep_id AND r.is_active
            )
            SELECT ARRAY(SELECT sales_rep_id FROM stale
                         UNION SELECT r.id FROM sales_reps r
                               WHERE r.is_active AND r.updated_at > CAST(:since AS timestamptz)
                         UNION SELECT y.sales_rep_id FROM rep_yearly_goals y
                               JOIN sales_reps r ON r.id = y.sales_rep_id AND r.is_active
                               WHERE y.updated_at > CAST(:since AS timestamptz)) AS reps,
                   (SELECT string_agg(concat_ws(' ', monthly_goal_id, token, sales_rep_id, goal_year, goal_month), ' '
                                      ORDER BY monthly_goal_id)
                    FROM stale) AS marks
        """), {"since": changed_since}).one()
        # One text of five numbers per mark: tens of thousands after a first load, cheaper than rows.
        fields = row.marks.split(" ") if row.marks else []
        marks = tuple(StaleMark(int(fields[at]), fields[at + 1], int(fields[at + 2]), int(fields[at + 3]),
                                int(fields[at + 4])) for at in range(0, len(fields), 5))
        return AchievementScope(frozenset(row.reps) if changed_since is not None else None, marks)

    def achievement_states(self, *, evaluate_from: tuple[int, int], reps: Collection[int] | None = None,
                           starts: Mapping[int, tuple[int, int]] | None = None) -> list[RepMonth]:
        """The monthly goal rows of every active rep (of ``reps`` when given) from ``evaluate_from``
        (year, month) on, or from the rep's own ``starts[rep]`` when given, carrying their yearly goal
        row, plus the streak history before it; by rep and month. One query.

        The history stops at the rep's latest earlier month that a streak cannot cross (status
        ``active``/``missed``: the trigger's twin of the completeness rule, or a goal lowered after
        the deadline); that month itself is included, so the rules still see the break. Without the
        cut a rep with years of history would be read whole after every cycle.
        """
        year, month = evaluate_from
        starts = starts or {}
        own = sorted(starts)
        rows = self._connection.execute(text(f"""
            WITH reps AS (
                SELECT r.id, coalesce(w.start, :from_index) AS start
                FROM sales_reps r
                LEFT JOIN unnest(CAST(:start_reps AS int[]), CAST(:start_indexes AS int[])) AS w(rep, start)
                     ON w.rep = r.id
                WHERE r.is_active AND (CAST(:reps AS int[]) IS NULL OR r.id = ANY(CAST(:reps AS int[])))
            ), breaks AS (
                SELECT g.sales_rep_id, max(g.goal_year * 12 + g.goal_month) AS last_break
                FROM rep_monthly_goals g JOIN reps ON reps.id = g.sales_rep_id
                WHERE {readings.STREAK_BREAK}
                  AND g.goal_year * 12 + g.goal_month < reps.start
                GROUP BY g.sales_rep_id
            )
            SELECT g.sales_rep_id, g.id, g.goal_year, g.goal_month, g.signup_goal, g.signups_actual,
                   g.signup_progress_percent, g.revenue_goal, g.revenue_actual, g.revenue_progress_percent,
                   g.bonus_tier_actual, g.set_by_deadline, g.goal_set_at, g.lowered_after_deadline,
                   s.monthly_goal_id IS NOT NULL AS stale, coalesce(s.xmin::text, '') AS token,
                   y.id AS yearly_id, y.yearly_signup_goal, y.yearly_signups_actual, y.yearly_signup_progress_percent,
                   y.yearly_revenue_goal, y.yearly_revenue_actual, y.yearly_revenue_progress_percent
            FROM rep_monthly_goals g
            JOIN reps ON reps.id = g.sales_rep_id
            LEFT JOIN achievement_stale_months s ON s.monthly_goal_id = g.id
            LEFT JOIN breaks b ON b.sales_rep_id = g.sales_rep_id
            LEFT JOIN rep_yearly_goals y ON y.sales_rep_id = g.sales_rep_id AND y.goal_year = g.goal_year
                 AND g.goal_year * 12 + g.goal_month >= reps.start
            WHERE g.goal_year * 12 + g.goal_month >= coalesce(b.last_break, 0)
            ORDER BY g.sales_rep_id, g.goal_year, g.goal_month
        """), {"from_index": year * 12 + month, "reps": sorted(reps) if reps is not None else None,
               "start_reps": array_literal(own),
               "start_indexes": array_literal(starts[rep][0] * 12 + starts[rep][1] for rep in own)}).all()
        result = []
        years: dict[int, YearState] = {}  # one state per year row, shared by its months
        for (rep_id, goal_id, goal_year, goal_month, signup_goal, signups, signup_pct, revenue_goal, revenue,
             revenue_pct, tier, on_time, set_at, lowered, stale, token, yearly_id, y_signup_goal, y_signups,
             y_signup_pct, y_revenue_goal, y_revenue, y_revenue_pct) in rows:
            state = MonthState(goal_year, goal_month, signup_goal, signups, revenue_goal, revenue, signup_pct,
                               revenue_pct, tier, on_time, set_at, lowered)
            year_state = None
            if yearly_id is not None:
                year_state = years.get(yearly_id)
                if year_state is None:
                    year_state = years[yearly_id] = YearState(goal_year, y_signup_goal, y_signups, y_revenue_goal,
                                                              y_revenue, y_signup_pct, y_revenue_pct)
            result.append(RepMonth(rep_id, goal_id, state, yearly_id, year_state, stale, token))
        return result

    def clear_stale(self, marks: Sequence[StaleMark]) -> int:
        """Mark the evaluated months as looked at, unless they changed since their marks were read
        (marked again: another row version): those stay stale for the next run."""
        if not marks:
            return 0
        # Marks a writer holds are skipped (they stay: evaluated again next time), and locks are taken
        # in id order, so two runs at once never deadlock. Marks of months deleted since go too.
        return self._connection.execute(text("""
            DELETE FROM achievement_stale_months s
            WHERE s.monthly_goal_id IN (
                SELECT m.monthly_goal_id FROM achievement_stale_months m
                JOIN unnest(CAST(:ids AS int[]), CAST(:tokens AS text[])) AS v(id, token)
                  ON m.monthly_goal_id = v.id AND m.xmin::text = v.token
                ORDER BY m.monthly_goal_id
                FOR UPDATE OF m SKIP LOCKED
            ) OR NOT EXISTS (SELECT 1 FROM rep_monthly_goals g WHERE g.id = s.monthly_goal_id)
        """), {"ids": array_literal(mark.monthly_goal_id for mark in marks),
               "tokens": array_literal(mark.token for mark in marks)}).rowcount

    def recorded_achievements(self, *, from_year: int,
                              reps: Collection[int] | None = None) -> list[RecordedAchievement]:
        """The achievements of active reps (of ``reps`` when given) from ``from_year`` on (revoked
        ones included)."""
        rows = self._connection.execute(text("""
            SELECT a.id, a.sales_rep_id, a.achievement_type, a.achievement_year, a.achievement_month,
                   a.achievement_date, a.bonus_tier, a.milestone, a.revoked_at IS NOT NULL,
                   coalesce(a.correction_recognition_type, '') <> ''
            FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id AND r.is_active
            WHERE a.achievement_year >= :from_year
              AND (CAST(:reps AS int[]) IS NULL OR a.sales_rep_id = ANY(CAST(:reps AS int[])))
            ORDER BY a.id
        """), {"from_year": from_year, "reps": sorted(reps) if reps is not None else None}).all()
        return [RecordedAchievement(row[0], Achievement(row[1], row[2], row[3], row[4], row[5], bonus_tier=row[6],
                                                        milestone=row[7]), row[8], row[9])
                for row in rows]

    def revoke_achievements(self, reasons: Mapping[int, str], now: datetime) -> int:
        """Revoke achievements (by id) with a reason; the rows are kept."""
        if not reasons:
            return 0
        ids = list(reasons)
        return self._connection.execute(text("""
            UPDATE goal_achievements a SET revoked_at = :now, revoked_reason = v.reason
            FROM unnest(CAST(:ids AS bigint[]), CAST(:reasons AS text[])) AS v(id, reason)
            WHERE a.id = v.id AND a.revoked_at IS NULL
        """), {"ids": ids, "reasons": [reasons[i] for i in ids], "now": now}).rowcount

    def reinstate_achievements(self, ids: Sequence[int], today: date) -> int:
        """Lift the revocation of achievements whose basis a later correction restored. One whose
        revocation was already announced is news again: it is dated ``today`` and announced anew
        (``models.rules.announcements.reinstatements`` decides; the rows are read locked, then
        written as decided: two statements, whatever the number of rows)."""
        from models.rules.announcements import RevokedState, reinstatements

        if not ids:
            return 0
        rows = self._connection.execute(text("""
            SELECT id, revoked_at, recognized, recognition_type, correction_recognition_type, achievement_date
            FROM goal_achievements WHERE id = ANY(CAST(:ids AS bigint[]))
            ORDER BY id
            FOR UPDATE
        """), {"ids": list(ids)}).all()
        decided = reinstatements([RevokedState(row[0], row[1] is not None, *row[2:]) for row in rows], today)
        if not decided:
            return 0
        return self._connection.execute(text("""
            UPDATE goal_achievements a SET revoked_at = NULL, revoked_reason = NULL, correction_recognition_type = NULL,
                recognized = v.recognized, recognition_type = v.recognition_type, achievement_date = v.achievement_date
            FROM unnest(CAST(:ids AS bigint[]), CAST(:recognized AS boolean[]), CAST(:types AS text[]),
                        CAST(:dates AS date[])) AS v(id, recognized, recognition_type, achievement_date)
            WHERE a.id = v.id
        """), {"ids": [r.id for r in decided], "recognized": [r.recognized for r in decided],
               "types": [r.recognition_type for r in decided],
               "dates": [r.achievement_date for r in decided]}).rowcount

    def insert_achievements(self, rows: Sequence[AchievementRow]) -> int:
        """Record achievements in one statement; one already recorded (``uq_achievements_once``) is
        left as it is. Returns the rows added."""
        if not rows:
            return 0
        achievements = [row.achievement for row in rows]
        columns: dict[str, list[Any]] = {
            "reps": [a.sales_rep_id for a in achievements],
            "monthly": [row.monthly_goal_id for row in rows],
            "yearly": [row.yearly_goal_id for row in rows],
            "kinds": [a.achievement_type for a in achievements],
            "dates": [a.achievement_date for a in achievements],
            "months": [a.achievement_month for a in achievements],
            "years": [a.achievement_year for a in achievements],
            "goals": [a.goal_value for a in achievements],
            "actuals": [a.actual_value for a in achievements],
            "percents": [a.percent_achieved for a in achievements],
            "amounts": [a.bonus_amount for a in achievements],
            "tiers": [a.bonus_tier for a in achievements],
            "milestones": [a.milestone for a in achievements],
        }
        # A first evaluation of a long history records thousands at once: their keys are checked once.
        bulk = len(rows) >= BULK_ROWS
        with foreign_keys_checked_once(self._connection, "goal_achievements") if bulk else nullcontext():
            return self._insert_achievements(columns)

    def _insert_achievements(self, columns: Mapping[str, list[Any]]) -> int:
        return self._connection.execute(text("""
            INSERT INTO goal_achievements (sales_rep_id, monthly_goal_id, yearly_goal_id, achievement_type,
                achievement_date, achievement_month, achievement_year, goal_value, actual_value, percent_achieved,
                bonus_amount, bonus_tier, milestone)
            SELECT * FROM unnest(
                CAST(:reps AS int[]), CAST(:monthly AS int[]), CAST(:yearly AS int[]), CAST(:kinds AS text[]),
                CAST(:dates AS date[]), CAST(:months AS smallint[]), CAST(:years AS smallint[]),
                CAST(:goals AS numeric[]), CAST(:actuals AS numeric[]), CAST(:percents AS numeric[]),
                CAST(:amounts AS numeric[]), CAST(:tiers AS smallint[]), CAST(:milestones AS smallint[]))
            ON CONFLICT ON CONSTRAINT uq_achievements_once DO NOTHING
        """), {name: array_literal(values) for name, values in columns.items()}).rowcount

    def pending_announcements(self, *, earned_since: date, correction: bool = False) -> list[Announcement]:
        """Achievements of active reps still to announce, earned (or, for corrections, revoked) on or
        after ``earned_since`` (older ones are never announced), by rep then id
        (``models.rules.announcements.pending`` decides, on the candidates ``_candidates`` reads)."""
        from models.rules.announcements import pending

        rows = self._connection.execute(text(f"""
            SELECT {announcement_columns(correction)}, {_STATE_COLUMNS}
            FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
            WHERE {_candidates(correction)}
            ORDER BY a.sales_rep_id, a.id
        """), {"since": earned_since}).all()
        return _announcements(rows, lambda state: pending(state, correction=correction, since=earned_since))

    def claim_announcements(self, ids: Sequence[int], *, correction: bool = False) -> list[Announcement]:
        """Lock the achievements among ``ids`` that still need announcing until the transaction ends;
        rows another process holds are skipped (``FOR UPDATE SKIP LOCKED``), so no two processes
        announce the same achievement. Returns the claimed rows as they are now."""
        from models.rules.announcements import waits

        if not ids:
            return []
        rows = self._connection.execute(text(f"""
            SELECT {announcement_columns(correction)}, {_STATE_COLUMNS}
            FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
            WHERE a.id = ANY(:ids)
            ORDER BY a.id
            FOR UPDATE OF a SKIP LOCKED
        """), {"ids": list(ids)}).all()
        return _announcements(rows, lambda state: waits(state, correction=correction))

    def set_recognition(self, updates: Mapping[int, tuple[str, bool]], *, correction: bool = False) -> int:
        """Set ``recognition_type`` and ``recognized`` per achievement id (one statement); for a
        correction, ``correction_recognition_type`` (the achievement stays as it was)."""
        if not updates:
            return 0
        ids = list(updates)
        assignments = ("correction_recognition_type = v.kind" if correction
                       else "recognition_type = v.kind, recognized = v.done")
        return self._connection.execute(text(f"""
            UPDATE goal_achievements a SET {assignments}
            FROM unnest(CAST(:ids AS bigint[]), CAST(:kinds AS text[]), CAST(:dones AS boolean[])) AS v(id, kind, done)
            WHERE a.id = v.id
        """), {"ids": ids, "kinds": [updates[i][0] for i in ids], "dones": [updates[i][1] for i in ids]}).rowcount

    def create_reminders(self, *, year: int, month: int, deadline: datetime,
                         due_dates: Mapping[ReminderType, date], now: datetime,
                         checked_through: date | None = None) -> CreatedReminders:
        """One reminder per active rep per type for ``(year, month)``; existing ones are kept
        (``uq_reminders_rep_type_period``). A rep whose goal is already set gets them acknowledged
        at once (as the cycle would do on its next run), and those due on or before
        ``checked_through`` cancelled at once. Returns the rows added, and of them the cancelled.

        ``models.rules.reminders.month_reminders`` decides; the reps still missing one of the
        month's reminders are read (so a month whose reminders all exist costs one statement) and
        the rows it gives are inserted in one more."""
        from models.rules.reminders import RepMonthGoal, month_reminders

        kinds = list(due_dates)
        reps = self._connection.execute(text("""
            SELECT r.id, r.is_active, g.goal_set_at
            FROM sales_reps r
            LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
            WHERE (SELECT count(*) FROM goal_deadline_reminders d
                   WHERE d.sales_rep_id = r.id AND d.target_year = :year AND d.target_month = :month
                     AND d.reminder_type = ANY(CAST(:kinds AS text[]))) < cardinality(CAST(:kinds AS text[]))
            ORDER BY r.id
        """), {"year": year, "month": month, "kinds": kinds}).all()
        rows = month_reminders((RepMonthGoal(*row) for row in reps), due_dates, now,
                               checked_through=checked_through)
        if not rows:
            return CreatedReminders()
        added, cancelled = self._connection.execute(text("""
            WITH added AS (
                INSERT INTO goal_deadline_reminders (sales_rep_id, reminder_type, target_month, target_year,
                                                     deadline, due_date, acknowledged, acknowledged_at, cancelled_at)
                SELECT v.rep_id, v.kind, :month, :year, :deadline, v.due, v.acknowledged, v.acknowledged_at,
                       v.cancelled_at
                FROM unnest(CAST(:rep_ids AS int[]), CAST(:kinds AS text[]), CAST(:dues AS date[]),
                            CAST(:acknowledged AS boolean[]), CAST(:acknowledged_at AS timestamptz[]),
                            CAST(:cancelled_at AS timestamptz[]))
                     AS v(rep_id, kind, due, acknowledged, acknowledged_at, cancelled_at)
                ON CONFLICT ON CONSTRAINT uq_reminders_rep_type_period DO NOTHING
                RETURNING cancelled_at
            )
            SELECT count(*), count(cancelled_at) FROM added
        """), {"year": year, "month": month, "deadline": deadline, "rep_ids": [r.rep_id for r in rows],
               "kinds": [r.reminder_type for r in rows], "dues": [r.due_date for r in rows],
               "acknowledged": [r.acknowledged for r in rows],
               "acknowledged_at": [r.acknowledged_at for r in rows],
               "cancelled_at": [r.cancelled_at for r in rows]}).one()
        return CreatedReminders(added, cancelled)

    def open_reminders(self, *, due_by: date) -> list[OpenReminder]:
        """Unsent, uncancelled reminders due on or before ``due_by``, by rep, month and due date."""
        rows = self._connection.execute(text("""
            SELECT d.id, d.sales_rep_id, r.name, r.email, r.is_active, d.reminder_type, d.target_year,
                   d.target_month, d.deadline, d.due_date, d.attempts, g.goal_set_at
            FROM goal_deadline_reminders d
            JOIN sales_reps r ON r.id = d.sales_rep_id
            LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = d.sales_rep_id AND g.goal_year = d.target_year
                 AND g.goal_month = d.target_month
            WHERE NOT d.sent AND d.cancelled_at IS NULL AND d.due_date <= :due_by
            ORDER BY d.sales_rep_id, d.target_year, d.target_month, d.due_date, d.id
        """), {"due_by": due_by}).all()
        return [OpenReminder(row.id, row.sales_rep_id, row.name, row.email, row.is_active, row.reminder_type,
                             row.target_year, row.target_month, row.deadline, row.due_date, row.attempts,
                             goal_is_set(row.goal_set_at))
                for row in rows]

    def cancel_reminders(self, ids: Sequence[int], now: datetime) -> int:
        """Cancel unsent reminders (one statement). Returns the rows cancelled."""
        if not ids:
            return 0
        return self._connection.execute(text("""
            UPDATE goal_deadline_reminders SET cancelled_at = :now
            WHERE id = ANY(:ids) AND NOT sent AND cancelled_at IS NULL
        """), {"ids": list(ids), "now": now}).rowcount

    def claim_reminder(self, reminder_id: int) -> bool:
        """Lock one reminder until the transaction ends if it still needs sending (unsent, not
        cancelled, the rep's goal still not set: ``models.rules.reminders.needs_sending``); False
        when it does not, or when another process holds it (``FOR UPDATE SKIP LOCKED``)."""
        from models.rules.reminders import needs_sending

        row = self._connection.execute(text("""
            SELECT d.sent, d.cancelled_at, g.goal_set_at FROM goal_deadline_reminders d
            LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = d.sales_rep_id AND g.goal_year = d.target_year
                 AND g.goal_month = d.target_month
            WHERE d.id = :id
            FOR UPDATE OF d SKIP LOCKED
        """), {"id": reminder_id}).first()
        return row is not None and needs_sending(sent=row.sent, cancelled_at=row.cancelled_at,
                                                 goal_set_at=row.goal_set_at)

    def mark_reminder_sent(self, reminder_id: int, now: datetime) -> None:
        """Record a successful send (in the transaction that claimed the reminder)."""
        self._connection.execute(text("""
            UPDATE goal_deadline_reminders
            SET sent = true, sent_at = :now, attempts = attempts + 1, last_error = NULL
            WHERE id = :id
        """), {"id": reminder_id, "now": now})

    def mark_reminder_failed(self, reminder_id: int, error: str) -> None:
        """Record a failed send: one more attempt and the reason; it stays unsent for the next check."""
        self._connection.execute(text("""
            UPDATE goal_deadline_reminders SET attempts = attempts + 1, last_error = :error WHERE id = :id
        """), {"id": reminder_id, "error": error[:500]})


    # ----------------------------------------------------------------------------------- managers

    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        """Every active rep's ``(year, month)`` and year (``models.readings.standings``)."""
        return readings.standings(self._connection, year=year, month=month,
                                  deadline_day=settings.goals.deadline_day, timezone=settings.timezone)

    def manager_emails(self) -> dict[int, str | None]:
        """Every rep's Manager Email by rep id (None when blank)."""
        rows = self._connection.execute(text("SELECT id, manager_email FROM sales_reps")).all()
        return {row.id: row.manager_email for row in rows}

    def goal_set_times(self, *, year: int, month: int) -> dict[int, datetime | None]:
        """When each rep with a ``(year, month)`` goal row first set a goal in it (None: not yet)."""
        rows = self._connection.execute(text("""
            SELECT sales_rep_id, goal_set_at FROM rep_monthly_goals WHERE goal_year = :year AND goal_month = :month
        """), {"year": year, "month": month}).all()
        return {row.sales_rep_id: row.goal_set_at for row in rows}

    def achievements_dated(self, first: date, last: date) -> list[DatedAchievement]:
        """Every achievement dated ``first`` to ``last`` (inclusive), revoked or not, of any rep; by
        rep then id."""
        rows = self._connection.execute(text(f"""
            SELECT {announcement_columns()}, a.achievement_date, a.revoked_at IS NOT NULL, r.is_active
            FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
            WHERE a.achievement_date BETWEEN :first AND :last
            ORDER BY a.sales_rep_id, a.id
        """), {"first": first, "last": last}).all()
        return [DatedAchievement(Announcement(*row[:-3]), *row[-3:]) for row in rows]

    def pace_indicators(self, day: date) -> dict[int, str | None]:
        """Each rep's pace indicator in the daily snapshot of ``day`` (None: not judged)."""
        rows = self._connection.execute(text("""
            SELECT sales_rep_id, pace_indicator FROM goal_progress_snapshots
            WHERE snapshot_type = 'daily' AND snapshot_date = :day
        """), {"day": day}).all()
        return {row.sales_rep_id: row.pace_indicator for row in rows}

    def pace_alerts_of_week(self, week_start: date) -> list[PaceAlert]:
        """Every alert of the week starting ``week_start``, sent or not, by detection time then id."""
        rows = self._connection.execute(text(f"""
            SELECT {_ALERT_COLUMNS} FROM pace_alerts p JOIN sales_reps r ON r.id = p.sales_rep_id
            WHERE p.week_start = :week ORDER BY p.detected_at, p.id
        """), {"week": week_start}).all()
        return [PaceAlert(*row) for row in rows]

    def pace_alerts_detected(self, start: datetime, end: datetime) -> list[PaceAlert]:
        """Every alert detected in ``[start, end)``, by detection time then id."""
        rows = self._connection.execute(text(f"""
            SELECT {_ALERT_COLUMNS} FROM pace_alerts p JOIN sales_reps r ON r.id = p.sales_rep_id
            WHERE p.detected_at >= :start AND p.detected_at < :end ORDER BY p.detected_at, p.id
        """), {"start": start, "end": end}).all()
        return [PaceAlert(*row) for row in rows]

    def insert_pace_alerts(self, rows: Sequence[NewPaceAlert]) -> int:
        """Record alerts (one statement). A rep's week already holding one (another process recorded
        it meanwhile: ``uq_pace_alerts_rep_week``) keeps it. Returns the rows added."""
        if not rows:
            return 0
        columns = [field.name for field in fields(NewPaceAlert)]
        return self._connection.execute(text("""
            INSERT INTO pace_alerts (sales_rep_id, week_start, detected_at, goal_year, goal_month,
                                     signup_progress_percent, revenue_progress_percent, expected_percent)
            SELECT * FROM unnest(CAST(:rep_id AS int[]), CAST(:week_start AS date[]),
                                 CAST(:detected_at AS timestamptz[]), CAST(:year AS smallint[]),
                                 CAST(:month AS smallint[]), CAST(:signup_pct AS numeric[]),
                                 CAST(:revenue_pct AS numeric[]), CAST(:expected_pct AS numeric[]))
            ON CONFLICT ON CONSTRAINT uq_pace_alerts_rep_week DO NOTHING
        """), {name: [getattr(row, name) for row in rows] for name in columns}).rowcount

    def claim_pace_alert(self, alert_id: int) -> bool:
        """Lock one unsent alert until the transaction ends; False when it was sent meanwhile or
        another process holds it (``FOR UPDATE SKIP LOCKED``)."""
        return self._connection.execute(text("""
            SELECT id FROM pace_alerts WHERE id = :id AND sent_at IS NULL FOR UPDATE SKIP LOCKED
        """), {"id": alert_id}).first() is not None

    def mark_pace_alert_sent(self, alert_id: int, now: datetime) -> None:
        """Record a successful send (in the transaction that claimed the alert)."""
        self._connection.execute(text("""
            UPDATE pace_alerts SET sent_at = :now, attempts = attempts + 1, last_error = NULL WHERE id = :id
        """), {"id": alert_id, "now": now})

    def mark_pace_alert_failed(self, alert_id: int, error: str) -> None:
        """Record a failed send: one more attempt and the reason; it stays unsent for the next turn."""
        self._connection.execute(text("""
            UPDATE pace_alerts SET attempts = attempts + 1, last_error = :error WHERE id = :id
        """), {"id": alert_id, "error": error[:500]})

    def claim_digest(self, moment: datetime, recipient: str) -> bool:
        """Lock the digest of ``moment`` to ``recipient`` until the transaction ends (creating its
        row); False when it was already sent, or another process holds it."""
        self._connection.execute(text("""
            INSERT INTO digest_deliveries (scheduled_for, recipient) VALUES (:moment, :recipient)
            ON CONFLICT ON CONSTRAINT uq_digest_deliveries_moment_recipient DO NOTHING
        """), {"moment": moment, "recipient": recipient})
        return self._connection.execute(text("""
            SELECT id FROM digest_deliveries WHERE scheduled_for = :moment AND recipient = :recipient
              AND sent_at IS NULL FOR UPDATE SKIP LOCKED
        """), {"moment": moment, "recipient": recipient}).first() is not None

    def mark_digest_sent(self, moment: datetime, recipient: str, now: datetime) -> None:
        """Record the digest of ``moment`` sent to ``recipient`` (in the transaction that claimed it)."""
        self._connection.execute(text("""
            UPDATE digest_deliveries SET sent_at = :now, attempts = attempts + 1, last_error = NULL
            WHERE scheduled_for = :moment AND recipient = :recipient
        """), {"moment": moment, "recipient": recipient, "now": now})

    def mark_digest_failed(self, moment: datetime, recipient: str, error: str) -> None:
        """Record a failed send of the digest of ``moment`` to ``recipient``: retried on the next turn."""
        self._connection.execute(text("""
            UPDATE digest_deliveries SET attempts = attempts + 1, last_error = :error
            WHERE scheduled_for = :moment AND recipient = :recipient
        """), {"moment": moment, "recipient": recipient, "error": error[:500]})
