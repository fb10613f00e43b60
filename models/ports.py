"""What the sync cycle needs from the database, as a narrow interface (no SQLAlchemy here).

``models.store.Store`` implements ``CycleStore`` over PostgreSQL; the tests' in-memory fake
(``tests/fakes/cycle_store.py``) implements the same Protocol, so the cycle's decisions
(partial status, dry run, write planning, failure recording) are tested without a database.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from models.rules.changes import LockedEdit
from models.settings import BonusSettings, Settings
from models.values import CycleResult, RepStanding

if TYPE_CHECKING:
    from models.history import ManagerHistory


@dataclass(frozen=True)
class OutputState:
    """What the previous successful write put on an output tab."""

    content_hash: str
    layout_hash: str
    row_count: int
    column_count: int


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

    def upsert_years(self, frame: pd.DataFrame, *, now: datetime, system_user: uuid.UUID) -> UpsertCounts:
        """Store the Yearly Goals tab."""

    def refresh_derived(self, settings: Settings, *, now: datetime, year: int, month: int) -> int:
        """Recompute what follows from the stored inputs; the rows changed."""

    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        """Every active rep's current month and year."""

    def manager_history(self, *, year: int, month: int,
                        previous: ManagerHistory | None = None) -> ManagerHistory:
        """What the History and Charts tabs show besides the standings."""

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

