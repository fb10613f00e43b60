"""What the sync cycle and the jobs need from the database, as narrow interfaces (no SQLAlchemy).

``models.store.Store`` implements ``CycleStore`` and ``JobStore`` over PostgreSQL; the tests'
in-memory fakes (``tests/fakes/``) implement the same Protocols, so the cycle's decisions
(partial status, dry run, write planning, failure recording) and the jobs are tested without
a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from models.settings import BonusSettings, Settings
from models.values import CycleResult, RepStanding

if TYPE_CHECKING:  # pandas and numpy: not for a process whose cycle finds the sheet unchanged
    import pandas as pd

    from models.fingerprints import LastCycle
    from models.history import ManagerHistory
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
    from models.rules.changes import LockedEdit
    from models.rules.deadlines import ReminderType


@dataclass(frozen=True)
class OutputState:
    """What the previous successful write put on an output tab."""

    content_hash: str
    layout_hash: str
    row_count: int
    column_count: int


@dataclass(frozen=True)
class CreatedReminders:
    """What creating a month's reminders added: rows, and of them the ones added already cancelled."""

    added: int = 0
    cancelled: int = 0


@dataclass
class UpsertCounts:
    """Rows staged and rows actually inserted or changed."""

    staged: int = 0
    written: int = 0


class CycleTransaction(Protocol):
    """The reads and writes of one cycle, inside one unit of work."""

    def write_settings(self, settings: Settings) -> None:
        """Make the config the database's views read match ``settings``."""

    def system_user(self) -> uuid.UUID:
        """The id of the account that syncs (created on first use)."""

    def known_emails(self) -> frozenset[str]:
        """Emails of every rep already stored."""

    def upsert_reps(self, frame: pd.DataFrame) -> UpsertCounts:
        """Store the Reps tab."""

    def ensure_period_rows(self, settings: Settings, *, year: int, month: int) -> int:
        """Default goal rows for the current month; the number added."""

    def upsert_months(self, frame: pd.DataFrame, *, now: datetime, deadline_day: int, timezone: str,
                      system_user: uuid.UUID, lock_after_deadline: bool,
                      bonus: BonusSettings) -> tuple[UpsertCounts, list[LockedEdit]]:
        """Store Monthly Goals and Actuals as ``models.rules.changes.plan_months`` decides."""

    def upsert_years(self, frame: pd.DataFrame, *, now: datetime, timezone: str,
                     system_user: uuid.UUID) -> UpsertCounts:
        """Store the Yearly Goals tab."""

    def refresh_derived(self, settings: Settings, *, now: datetime, year: int, month: int) -> int:
        """Recompute what follows from the stored inputs; the rows changed."""

    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        """Every active rep's current month and year."""

    def manager_history(self, *, year: int, month: int,
                        previous: ManagerHistory | None = None) -> ManagerHistory:
        """What the History and Charts tabs show besides the standings."""

    def last_cycle_fingerprint(self, spreadsheet: str) -> tuple[LastCycle | None, int]:
        """The last successful cycle's fingerprint, data version and report (None before the first),
        and the data version now."""

    def start_data_version(self, seen: int) -> int:
        """The data version a cycle that does the work starts from, having seen ``seen``."""

    def save_fingerprint(self, spreadsheet: str, fingerprint: str, *, start: int, result: CycleResult,
                         context: str | None = None, stored_rows: bytes | None = None) -> None:
        """Remember a successful cycle's fingerprint, the data version it leaves and its report,
        and what it stored (``stored_rows``, in ``context``) for the next cycle in any process."""

    def stored_rows(self, spreadsheet: str, *, fingerprint: str, context: str) -> bytes | None:
        """The row hashes the last successful cycle stored, when it had ``fingerprint`` and ran in
        ``context``; else None."""

    def output_state(self, spreadsheet: str) -> dict[str, OutputState]:
        """What was last written to each output tab of ``spreadsheet``."""

    def save_output_state(self, spreadsheet: str, states: dict[str, OutputState], now: datetime) -> None:
        """Remember what was just written."""

    def prune_cycle_log(self, now: datetime, *, keep_days: int) -> int:
        """Forget sync log rows older than ``keep_days``; the number forgotten."""

    def log_cycle(self, result: CycleResult, *, spreadsheet: str) -> int:
        """Record the cycle; the log row's id."""

    def amend_cycle_log(self, log_id: int, result: CycleResult) -> None:
        """Add the write's figures to the log row (never undoing the cycle if it fails)."""


class CycleStore(Protocol):
    """The database as one sync cycle sees it."""

    @property
    def statement_count(self) -> int:
        """Statements sent so far (for the log and the benchmark)."""

    def transaction(self, now: datetime, *, commit: bool = True,
                    cycle_lock: bool = False) -> AbstractContextManager[CycleTransaction]:
        """One unit of work at ``now``: committed at the end, or rolled back on error or when
        ``commit`` is false. ``cycle_lock``: raise ``LockHeld`` when another cycle runs."""

    def record_cycle(self, result: CycleResult, *, spreadsheet: str) -> None:
        """Record a cycle whose main work failed, in its own unit of work."""


class JobTransaction(Protocol):
    """The reads and writes the scheduled jobs need, inside one unit of work."""

    def successful_runs(self, keys: Sequence[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
        """Which of the ``(job, scheduled_for)`` keys already have a successful run."""

    def start_job_run(self, job: str, scheduled_for: datetime, started_at: datetime) -> None:
        """Record that ``job`` started for ``scheduled_for`` (status ``running``). Call it holding the
        job's lock: an older run still marked ``running`` was interrupted (process killed) and is
        marked ``failed``."""

    def finish_job_run(self, job: str, scheduled_for: datetime, *, started_at: datetime,
                       finished_at: datetime, status: str, detail: str) -> None:
        """Record how ``job`` ended for ``scheduled_for`` (``success`` or ``failed``, with a detail line)."""

    def due_state(self, keys: Sequence[tuple[str, datetime]], *, every_turn: bool,
                  earned_since: date | None = None) -> DueState:
        """Which of ``keys`` have a successful run (with its detail) and, when ``every_turn``, the
        data version and whether announcements earned (or corrections made) on or after
        ``earned_since`` are pending: one statement, whatever is asked."""

    def snapshot_sources(self, *, year: int, month: int) -> list[SnapshotSource]:
        """Every active rep that has a ``(year, month)`` goal row, with that row, by rep id (a rep
        without a row for the month has nothing to snapshot)."""

    def insert_progress_snapshots(self, rows: Sequence[ProgressSnapshot]) -> dict[str, int]:
        """Insert snapshots (one statement); rows already there are kept. Returns rows added per type."""

    def insert_leaderboard_snapshots(self, rows: Sequence[LeaderboardEntry]) -> int:
        """Insert daily leaderboard rows (one statement); rows already there are kept. Returns rows added."""

    def achievement_scope(self, *, changed_since: datetime | None = None) -> AchievementScope:
        """Where the achievement job must look: the oldest stale month of an active rep and, when
        ``changed_since`` is given, the active reps with a stale month or whose rep row or yearly
        goals changed after it. One query."""

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

    def clear_stale(self, marks: Sequence[StaleMark]) -> int:
        """Mark the evaluated months (``AchievementScope.marks``) as looked at, unless they changed
        since their marks were read (the mark's row version differs): those stay stale for the next
        run."""

    def recorded_achievements(self, *, from_year: int,
                              reps: Collection[int] | None = None) -> list[RecordedAchievement]:
        """The achievements of active reps (of ``reps`` when given) from ``from_year`` on (revoked
        ones included)."""

    def revoke_achievements(self, reasons: Mapping[int, str], now: datetime) -> int:
        """Revoke achievements (by id) with a reason; the rows are kept."""

    def reinstate_achievements(self, ids: Sequence[int], today: date) -> int:
        """Lift the revocation of achievements whose basis a later correction restored. One whose
        revocation was already announced is news again: it is dated ``today`` and announced anew."""

    def insert_achievements(self, rows: Sequence[AchievementRow]) -> int:
        """Record achievements in one statement; one already recorded (``uq_achievements_once``) is
        left as it is. Returns the rows added."""

    def pending_announcements(self, *, earned_since: date, correction: bool = False) -> list[Announcement]:
        """Achievements of active reps still to announce, earned (or, for corrections, revoked) on or
        after ``earned_since`` (older ones are never announced), by rep then id."""

    def claim_announcements(self, ids: Sequence[int], *, correction: bool = False) -> list[Announcement]:
        """Lock the achievements among ``ids`` that still need announcing until the transaction ends;
        rows another process holds are skipped (``FOR UPDATE SKIP LOCKED``), so no two processes
        announce the same achievement. Returns the claimed rows as they are now."""

    def set_recognition(self, updates: Mapping[int, tuple[str, bool]], *, correction: bool = False) -> int:
        """Set ``recognition_type`` and ``recognized`` per achievement id (one statement); for a
        correction, ``correction_recognition_type`` (the achievement stays as it was)."""

    def create_reminders(self, *, year: int, month: int, deadline: datetime,
                         due_dates: Mapping[ReminderType, date], now: datetime,
                         checked_through: date | None = None) -> CreatedReminders:
        """One reminder per active rep per type for ``(year, month)``; existing ones are kept
        (``uq_reminders_rep_type_period``). A rep whose goal is already set gets them acknowledged
        at once (as the cycle would do on its next run), and those due on or before
        ``checked_through`` cancelled at once (as the check that follows would).
        Returns the rows added and how many of them were added cancelled."""

    def open_reminders(self, *, due_by: date) -> list[OpenReminder]:
        """Unsent, uncancelled reminders due on or before ``due_by``, by rep, month and due date."""

    def cancel_reminders(self, ids: Sequence[int], now: datetime) -> int:
        """Cancel unsent reminders (one statement). Returns the rows cancelled."""

    def claim_reminder(self, reminder_id: int) -> bool:
        """Lock one reminder until the transaction ends if it still needs sending (unsent, not
        cancelled, the rep's goal still not set); False when it does not, or when another process
        holds it (``FOR UPDATE SKIP LOCKED``)."""

    def mark_reminder_sent(self, reminder_id: int, now: datetime) -> None:
        """Record a successful send (in the transaction that claimed the reminder)."""

    def mark_reminder_failed(self, reminder_id: int, error: str) -> None:
        """Record a failed send: one more attempt and the reason; it stays unsent for the next check."""

    # the managers' jobs: pace alerts and the weekly digest

    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        """Every active rep's ``(year, month)`` and year (as the cycle's ``standings``)."""

    def manager_emails(self) -> dict[int, str | None]:
        """Every rep's Manager Email by rep id (None when blank)."""

    def goal_set_times(self, *, year: int, month: int) -> dict[int, datetime | None]:
        """When each rep with a ``(year, month)`` goal row first set a goal in it (None: not yet)."""

    def achievements_dated(self, first: date, last: date) -> list[DatedAchievement]:
        """Every achievement dated ``first`` to ``last`` (inclusive), revoked or not, of any rep; by
        rep then id."""

    def pace_indicators(self, day: date) -> dict[int, str | None]:
        """Each rep's pace indicator in the daily snapshot of ``day`` (None: not judged)."""

    def pace_alerts_of_week(self, week_start: date) -> list[PaceAlert]:
        """Every alert of the week starting ``week_start``, sent or not, by detection time then id."""

    def pace_alerts_detected(self, start: datetime, end: datetime) -> list[PaceAlert]:
        """Every alert detected in ``[start, end)``, by detection time then id."""

    def insert_pace_alerts(self, rows: Sequence[NewPaceAlert]) -> int:
        """Record alerts (one statement). A rep's week already holding one (another process recorded
        it meanwhile) keeps it. Returns the rows added."""

    def claim_pace_alert(self, alert_id: int) -> bool:
        """Lock one unsent alert until the transaction ends; False when it was sent meanwhile or
        another process holds it."""

    def mark_pace_alert_sent(self, alert_id: int, now: datetime) -> None:
        """Record a successful send (in the transaction that claimed the alert)."""

    def mark_pace_alert_failed(self, alert_id: int, error: str) -> None:
        """Record a failed send: one more attempt and the reason; it stays unsent for the next turn."""

    def claim_digest(self, moment: datetime, recipient: str) -> bool:
        """Lock the digest of ``moment`` to ``recipient`` until the transaction ends (recording it as
        due); False when it was already sent, or another process holds it."""

    def mark_digest_sent(self, moment: datetime, recipient: str, now: datetime) -> None:
        """Record the digest of ``moment`` sent to ``recipient`` (in the transaction that claimed it)."""

    def mark_digest_failed(self, moment: datetime, recipient: str, error: str) -> None:
        """Record a failed send of the digest of ``moment`` to ``recipient``: retried on the next turn."""


class JobStore(Protocol):
    """The database as the scheduled jobs see it."""

    def job_transaction(self, now: datetime) -> AbstractContextManager[JobTransaction]:
        """One unit of work at ``now`` for a job: committed at the end, rolled back on error."""

    def job_lock(self, job: str) -> AbstractContextManager[bool]:
        """Hold ``job``'s lock while the block runs; yields False (holding nothing) when another
        process runs the same job."""
