"""Build the three output tabs (Summary, Leaderboard, Sync Errors) from plain values.

Pure: ``now`` and the settings are passed in; no clock, no I/O, no database. The
goal logic comes from ``models.rules``; this module only arranges its results
into cells. Cells are JSON-ready (str, int, float, None): percentages are
fractions (85.32 % → 0.8532) shown with a percent format, and text is left as
text (a rep named ``=IMPORTXML(...)`` stays that text; backends write it raw).
Because every row is a function of its inputs, the Summary rows and the
Leaderboard of the previous call are reused when their inputs are unchanged
(a daemon's next cycle recomputes only the reps that changed).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from models.rules.deadlines import deadline_passed, deadline_status
from models.rules.pace import days_left, expected_fraction, needed_per_day, pace_indicator, yearly_pace
from models.rules.periods import local_date
from models.rules.ranking import competition_ranks
from models.rules.sparkline import sparkline
from models.rules.tiers import tier_name
from models.settings import GoalsSettings
from models.values import CycleStatus, Problem, RepStanding
from sheets.budget import CellBudget
from sheets.outputs import PACE_COLOURS, Cell, Column, Layout, OutputTable
from sync.cell_values import expected_cell as _expected_cell
from sync.cell_values import fraction as _fraction
from sync.cell_values import number as _number
from sync.reuse import RowMemo

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("Rep", "text", 160),
    Column("Email", "text", 220),
    Column("Team", "text", 110),
    Column("Signups", "number", 75),
    Column("Signup Goal", "int", 90),
    Column("Signup %", "percent", 80),
    Column("Revenue", "money", 110),
    Column("Revenue Goal", "money", 110),
    Column("Revenue %", "percent", 85),
    Column("Expected %", "percent", 90),
    Column("Pace", "text", 85),
    Column("Bonus Tier", "text", 90),
    Column("Bonus Tier Goal", "text", 110),
    Column("Bonus", "money", 90),
    Column("Goal Status", "text", 95),
    Column("Days Left", "int", 75),
    Column("Needed/Day", "number", 95),
    Column("YTD Signups", "number", 95),
    Column("Yearly Signup Goal", "int", 135),
    Column("YTD Signup %", "percent", 100),
    Column("YTD Revenue", "money", 115),
    Column("Yearly Revenue Goal", "money", 145),
    Column("YTD Revenue %", "percent", 110),
    Column("Yearly Pace", "text", 100),
    Column("Streak", "int", 65),
    Column("Trend", "text", 130),
)

LEADERBOARD_COLUMNS: tuple[Column, ...] = (
    Column("Rank", "int", 55),
    Column("Rep", "text", 160),
    Column("Team", "text", 110),
    Column("Signups", "number", 75),
    Column("Signup %", "percent", 80),
    Column("Revenue", "money", 110),
    Column("Revenue %", "percent", 85),
    Column("Bonus Tier", "text", 90),
    Column("Streak", "int", 65),
)

ERRORS_COLUMNS: tuple[Column, ...] = (
    Column("Tab", "text", 120),
    Column("Cell", "text", 110),
    Column("Email", "text", 220),
    Column("Value", "text", 160),
    Column("Problem", "text", 420),
)

LAST_SYNC_LABEL = "Last change synced"
"""The time of the last cycle that changed the output (an unchanged cycle writes nothing)."""
PACE_WORDS: dict[str, str] = {
    "ahead": "Ahead",
    "on_track": "On track",
    "behind": "Behind",
    "critical": "Critical",
    "too_early": "Too early",
}
"""The words a manager reads in the Pace column, by the indicator code the database keeps.
(They differ from the Yearly Pace column's "On Pace"/"Behind Pace", which judges the year.)"""
PACE_CELL_COLOURS: tuple[tuple[str, str], ...] = tuple(
    (PACE_WORDS[code], colour) for code, colour in PACE_COLOURS.items()
)
"""Pace cell colours keyed by the words shown (the sheet colours cells by their text)."""
CELLS_USED_LABEL = "Cells used"
"""How much of Google's per-spreadsheet cell limit is taken (Google backend only)."""
CELLS_WARNING_LABEL = "Warning"
BUDGET_ROWS = 2
"""Side-block rows the cell budget takes at most (the figure, the warning)."""
BUDGET_STEP = 1000
"""The side block's cell figure is rounded to this many cells: the Summary is rewritten for the
figure only when it moves by about a thousand cells (a new tab, dozens of added rows), never for
a single row, and the figure is part of the change fingerprint like any other value."""


def _team(standing: RepStanding) -> str | None:
    """The rep's team; a blank team is no team (sorted last, shown empty)."""
    return standing.team if standing.team and standing.team.strip() else None


def _sort_key(standing: RepStanding) -> tuple[bool, str, str, str]:
    team = _team(standing)
    return (team is None, (team or "").casefold(), standing.name.casefold(), standing.email.casefold())


def _settings_key(goals: GoalsSettings) -> str:
    """The goal settings as a hashable value (they hold lists)."""
    return goals.model_dump_json()


@dataclass(frozen=True, slots=True)
class _Today:
    """What every Summary row shares: the local date, the month's elapsed share and its cell, and the
    settings' tier names, each worked out once per table rather than once per row."""

    now: datetime
    day: date
    expected: Fraction
    days_left: int
    expected_cell: float
    tier_names: tuple[str, ...]


def _summary_row(standing: RepStanding, today: _Today, goals: GoalsSettings) -> tuple[Cell, ...]:
    now, expected, remaining = today.now, today.expected, today.days_left
    indicator = (
        pace_indicator(standing.signup_pct, standing.signup_goal, standing.revenue_pct, standing.revenue_goal,
                       expected=expected, settings=goals.pace)
        if standing.has_goal_row
        else None
    )
    status = deadline_status(now, standing.deadline, standing.has_goal_row, standing.goal_set_at,
                             standing.set_by_deadline)
    needed = needed_per_day(standing.signup_goal, standing.signups, remaining)
    return (
        standing.name,
        standing.email,
        _team(standing),
        _number(standing.signups),
        standing.signup_goal,
        _fraction(standing.signup_pct),
        _number(standing.revenue),
        _number(standing.revenue_goal),
        _fraction(standing.revenue_pct),
        today.expected_cell,
        PACE_WORDS[indicator] if indicator is not None else None,
        today.tier_names[standing.bonus_tier],
        _tier_goal(standing.bonus_tier_goal, today.tier_names),
        _number(bonus_paid(standing)),
        status,
        remaining,
        _number(needed),
        _number(standing.ytd_signups),
        standing.yearly_signup_goal,
        _fraction(standing.ytd_signup_pct),
        _number(standing.ytd_revenue),
        _number(standing.yearly_revenue_goal),
        _fraction(standing.ytd_revenue_pct),
        yearly_pace(standing.ytd_signups, standing.monthly_signup_target, today.day.month),
        standing.streak,
        _trend(standing.trend),
    )


def bonus_paid(standing: RepStanding) -> Decimal:
    """The Bonus cell: the reached tier's amount only when the bonus triggers (tier ≥ 1 and ≥ the
    rep's Bonus Tier Goal), else 0: a tier reached below the goal pays nothing."""
    return standing.bonus_amount if standing.bonus_triggered else Decimal(0)


def _tier_goal(tier_goal: int | None, names: Sequence[str]) -> str | None:
    """The Bonus Tier Goal cell: the goal tier's name, blank without a tier goal."""
    if tier_goal is None or not 0 <= tier_goal < len(names):
        return None
    return names[tier_goal]


def _tier_names(goals: GoalsSettings) -> tuple[str, ...]:
    """Each tier's name by its number (``tier_name`` of each)."""
    return tuple(tier_name(tier, goals.bonus.tiers) for tier in range(len(goals.bonus.tiers)))


def _trend(values: Sequence[Decimal | None]) -> str | None:
    line = sparkline(values)
    return line if line.strip() else None


def _side_block(status: CycleStatus | None, tz: ZoneInfo) -> tuple[tuple[Cell, ...], ...]:
    if status is None:
        return ()
    problems: Cell = f"{status.problems} (see Sync Errors)" if status.problems > 0 else 0
    return (
        (LAST_SYNC_LABEL, status.finished_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")),
        ("Rows read", status.rows_read),
        ("Problems", problems),
        ("Status", status.status),
    )


def with_cell_budget(table: OutputTable, budget: CellBudget | None) -> OutputTable:
    """``table`` with the cell budget below its side block (rounded to ``BUDGET_STEP`` cells), and a
    warning line saying what to do above 80 %; unchanged when the budget is unknown or ``table``
    has no side block."""
    if budget is None or not table.side_block:
        return table
    shown = budget.rounded(BUDGET_STEP)
    rows: tuple[tuple[Cell, ...], ...] = ((CELLS_USED_LABEL, shown.figure()),)
    warning = shown.warning()
    if warning:
        rows += ((CELLS_WARNING_LABEL, warning[0].upper() + warning[1:]),)
    return dataclasses.replace(table, side_block=table.side_block + rows)


def summary_table(
    standings: Sequence[RepStanding],
    *,
    now: datetime,
    goals: GoalsSettings,
    status: CycleStatus | None,
    tab: str,
    tz: ZoneInfo,
    memo: RowMemo | None = None,
) -> OutputTable:
    """The Summary tab: one row per standing (sorted by team, then name; reps without a team last),
    with the last-sync status in a side block two columns right of the table. ``memo``: the
    previous call's rows, reused for reps whose inputs are unchanged.

    ``now`` must be timezone-aware; its local date in ``tz`` decides the
    expected share, days left and the pace.
    """
    local_today = local_date(now, tz)
    expected = expected_fraction(local_today, goals.pace.calendar, goals.pace.holidays)
    today = _Today(
        now=now,
        day=local_today,
        expected=expected,
        days_left=days_left(local_today),
        expected_cell=_expected_cell(expected),
        tier_names=_tier_names(goals),
    )
    # One str (it caches its hash: each rep's key is hashed twice, looked up and kept).
    context = f"{local_today}|{today.expected}|{today.days_left}|{_settings_key(goals)}"
    memo = memo if memo is not None else RowMemo(remember=False)
    reused = memo.begin()
    rows = tuple(
        reused.get((standing, deadline_passed(now, standing.deadline), context),
                   functools.partial(_summary_row, standing, today, goals))
        for standing in sorted(standings, key=_sort_key)
    )
    memo.keep(reused)
    layout = Layout(
        columns=SUMMARY_COLUMNS,
        colour_column="Pace",
        colours=PACE_CELL_COLOURS,
        side_block_column=len(SUMMARY_COLUMNS) + 1,
    )
    return OutputTable(tab=tab, layout=layout, rows=rows, side_block=_side_block(status, tz))


def content_fingerprint(table: OutputTable) -> str:
    """The table's value fingerprint, ignoring the "Last change synced" time in the side block;
    the cell budget rows, when there are any, as a second part after a ``/``.

    Used for change detection: a cycle whose only news is its own finishing
    time writes nothing; see ``same_content`` for a budget that is not known.
    """
    masked = tuple(
        (row[0], None, *row[2:]) if row and row[0] == LAST_SYNC_LABEL else row
        for row in table.side_block if not _is_budget_row(row)
    )
    values = dataclasses.replace(table, side_block=masked).fingerprint()
    budget = tuple(row for row in table.side_block if _is_budget_row(row))
    if not budget:
        return values
    return f"{values}/{dataclasses.replace(table, rows=(), side_block=budget).fingerprint()[:16]}"


def _is_budget_row(row: tuple[Cell, ...]) -> bool:
    return bool(row) and row[0] in (CELLS_USED_LABEL, CELLS_WARNING_LABEL)


def same_content(before: str, now: str) -> bool:
    """Whether a tab last written with fingerprint ``before`` already shows ``now``'s values.

    A fingerprint without a budget part (this process does not know the cell budget yet, e.g. a
    fresh ``run --once`` whose tabs all exist) matches on the values alone: not knowing the figure
    is no reason to write, and the figure already on the tab stays (see ``kept_budget``).
    """
    return before == now if "/" in now else before.partition("/")[0] == now


def kept_budget(before: str | None, now: str) -> str:
    """The fingerprint a tab has after writing ``now`` over ``before``: a budget part of ``before``
    is kept when ``now`` has none, because the budget cells were then left as they were."""
    if before is None or "/" in now or "/" not in before:
        return now
    return f"{now}/{before.partition('/')[2]}"


def _leaderboard_key(standing: RepStanding) -> tuple[Decimal | None, Decimal | None]:
    return (standing.signup_pct, standing.revenue_pct)


def leaderboard_table(standings: Sequence[RepStanding], *, goals: GoalsSettings, tab: str,
                      memo: RowMemo | None = None) -> OutputTable:
    """The Leaderboard tab: reps ranked by signup %, then revenue % (missing percentages last),
    with standard competition ranks (1, 2, 2, 4); tied reps are listed by name."""
    key = (tuple(_leaderboard_inputs(standing) for standing in standings), _settings_key(goals))
    memo = memo if memo is not None else RowMemo(remember=False)
    reused = memo.begin()
    rows = reused.get(key, lambda: _leaderboard_rows(standings, goals))
    memo.keep(reused)
    return OutputTable(tab=tab, layout=Layout(columns=LEADERBOARD_COLUMNS), rows=rows)


def _leaderboard_inputs(standing: RepStanding) -> tuple[object, ...]:
    """Everything of a standing that its Leaderboard row and rank depend on."""
    return (standing.signup_pct, standing.revenue_pct, standing.name, standing.email, standing.team,
            standing.signups, standing.revenue, standing.bonus_tier, standing.streak)


def _leaderboard_rows(standings: Sequence[RepStanding], goals: GoalsSettings) -> tuple[tuple[Cell, ...], ...]:
    ranks = competition_ranks([_leaderboard_key(standing) for standing in standings])
    ranked = zip(ranks, standings, strict=True)
    names = _tier_names(goals)
    return tuple(
        (
            rank,
            standing.name,
            _team(standing),
            _number(standing.signups),
            _fraction(standing.signup_pct),
            _number(standing.revenue),
            _fraction(standing.revenue_pct),
            names[standing.bonus_tier],
            standing.streak,
        )
        for rank, standing in sorted(
            ranked, key=lambda item: (item[0], item[1].name.casefold(), item[1].email.casefold())
        )
    )


def errors_table(problems: Sequence[Problem], *, tab: str, more: int = 0) -> OutputTable:
    """The Sync Errors tab: one row per problem (Tab, Cell, Email, Value, Problem); header only when clean.

    ``more``: problems found beyond ``problems`` (the first ``sheets.max_error_rows``); a total line on
    top then says how many there are in all.
    """
    rows = tuple(tuple(problem.as_row()) for problem in problems)
    if more:
        total = len(problems) + more
        rows = (("(all tabs)", "", "", "", (
            f"{total:,} problems in all; only the first {len(problems):,} are listed below "
            "(sheets.max_error_rows). Fix these and the next cycle lists the rest."),), *rows)
    return OutputTable(tab=tab, layout=Layout(columns=ERRORS_COLUMNS), rows=rows)
