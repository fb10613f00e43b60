"""Plain values that cross package boundaries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from models.errors import ExitCode
from models.settings import DEFAULT_SOURCE

UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Characters no cell text should carry into the database: C0/C1 control characters (tab, newline and
carriage return excepted) and lone surrogates. PostgreSQL refuses NUL in text and ``\\u0000`` in jsonb,
a lone surrogate cannot be encoded as UTF-8 at all, and the rest are invisible or move the terminal."""


def printable(text: str) -> str:
    """``text`` with each unstorable character made visible: C0 controls and DEL as their control
    pictures (NUL → ␀), C1 controls and lone surrogates as �. Safe for text, jsonb and any tab."""
    if UNSTORABLE.search(text) is None:
        return text
    return UNSTORABLE.sub(_picture, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


@dataclass(frozen=True, slots=True)
class Problem:
    """One rejected cell, row or tab, as shown on the Sync Errors tab.

    ``cell`` is an A1 reference with the tab, e.g. ``Actuals!D7``; for a whole
    tab (missing tab, missing header) it is the tab name alone or the header
    row reference.
    """

    tab: str
    cell: str
    email: str
    value: str
    problem: str

    def made_printable(self) -> Problem:
        """This problem with every field safe to store and show (see :func:`printable`): a pasted NUL
        or lone surrogate must not make the sync log (jsonb) or the Sync Errors write fail."""
        if UNSTORABLE.search(f"{self.tab}{self.cell}{self.email}{self.value}{self.problem}") is None:
            return self  # nearly always: one search of the joined text
        return Problem(*(printable(text) for text in self.as_row()))

    def as_row(self) -> list[str]:
        """The row written to the Sync Errors tab."""
        return [self.tab, self.cell, self.email, self.value, self.problem]


@dataclass(frozen=True, slots=True)
class RepStanding:
    """One active rep's current month and year, as read from the database.

    The store fills it from ``v_current_month_goals``/``v_yearly_goals_summary``
    and the snapshots; ``sync.output_tables`` turns it into Summary and
    Leaderboard rows with the pure rules. Percentages are 0-100 (not fractions).
    """

    rep_id: int
    name: str
    email: str
    team: str | None
    year: int
    month: int
    has_goal_row: bool
    signup_goal: int | None
    signups: Decimal
    signup_pct: Decimal | None
    revenue_goal: Decimal | None
    revenue: Decimal
    revenue_pct: Decimal | None
    bonus_tier_goal: int | None
    bonus_tier: int
    bonus_amount: Decimal
    bonus_triggered: bool
    deadline: datetime
    goal_set_at: datetime | None
    set_by_deadline: bool
    status: str | None
    ytd_signups: Decimal
    yearly_signup_goal: int | None
    ytd_signup_pct: Decimal | None
    ytd_revenue: Decimal
    yearly_revenue_goal: Decimal | None
    ytd_revenue_pct: Decimal | None
    monthly_signup_target: Decimal | None
    streak: int
    """Consecutive months, ending this month or last, with every set goal met."""
    trend: tuple[Decimal | None, ...]
    """Signup progress % of the last (up to) 14 daily snapshots, oldest first."""


@dataclass(frozen=True, slots=True)
class CycleStatus:
    """How the last cycle went, shown beside the Summary table."""

    finished_at: datetime
    rows_read: int
    problems: int
    status: str


@dataclass(frozen=True)
class CycleResult:
    """What one sync cycle did (one ``sheets_sync_log`` row); ``exit_code`` follows SPEC.md."""

    status: str
    now: datetime
    problems: tuple[Problem, ...] = ()
    rows_read: int = 0
    rows_upserted: int = 0
    rows_unchanged: int = 0
    api_reads: int = 0
    api_writes: int = 0
    sql_statements: int = 0
    tabs_written: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str | None = None
    changes: tuple[str, ...] = ()
    """What a dry run would have changed, one line each."""
    more_problems: int = 0
    """Problems found beyond those in ``problems``, which holds only the first ``sheets.max_error_rows``."""
    unchanged: bool = False
    """The input, settings, day, code and data were those of the last successful cycle: its figures
    were reported again without parsing, storing or computing anything (nothing was written)."""

    @property
    def problem_count(self) -> int:
        """Every problem the cycle found."""
        return len(self.problems) + self.more_problems

    def log_fields(self, source: str = DEFAULT_SOURCE) -> dict[str, object]:
        """Status, counts and duration as separate fields (``extra=`` of the cycle's log line)."""
        return {"event": "cycle", "source": source, "status": self.status, "seconds": round(self.seconds, 3),
                "rows_read": self.rows_read, "rows_upserted": self.rows_upserted,
                "rows_unchanged": self.rows_unchanged, "problems": self.problem_count,
                "api_reads": self.api_reads, "api_writes": self.api_writes,
                "sql_statements": self.sql_statements, "tabs_written": list(self.tabs_written),
                "unchanged": self.unchanged, "error": self.error}

    @property
    def exit_code(self) -> ExitCode:
        """0 success, 1 failed, 3 done with rejected input, 75 skipped (lock held)."""
        if self.status == "failed":
            return ExitCode.FAILED
        if self.status == "skipped":
            return ExitCode.LOCKED
        return ExitCode.REJECTED_INPUT if self.problem_count else ExitCode.OK
