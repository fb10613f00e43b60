"""The History tab: the last 12 closed months per rep (signup % and tier reached, a grid), and
below it each month's final top 10 (ties included), newest month first. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models.history import ManagerHistory, RepMonth
from models.rules.teams import NO_TEAM, team_of
from models.rules.tiers import tier_name
from models.settings import GoalsSettings
from models.values import RepStanding
from sheets.outputs import Cell, Column, Layout, OutputTable
from sync.cell_values import fraction
from sync.reuse import RowMemo

TOP_TITLE = "Final leaderboard of each month: the top 10 of its last day's snapshot"
TOP_HEADER: tuple[str, ...] = ("Team", "Signup %", "Tier", "Revenue %")
"""Under the month's name (rank and rep in the first column: ``2. Ana``), lined up with the grid's
Team, percent and tier columns so each value gets its column's format."""
NO_SNAPSHOTS = "No month-end snapshot yet: the daemon (or cron) records one at each month's last midnight."


def month_label(year: int, month: int) -> str:
    """``Nov 2025``."""
    return f"{date(year, month, 1):%b %Y}"


def history_columns(months: Sequence[tuple[int, int]]) -> tuple[Column, ...]:
    """Rep, Team, then Signup % and Tier for each month, oldest first."""
    columns = [Column("Rep", "text", 160), Column("Team", "text", 110)]
    for year, month in months:
        label = month_label(year, month)
        columns += [Column(f"{label} %", "percent", 85), Column(f"{label} Tier", "text", 85)]
    return tuple(columns)


def _sort_key(standing: RepStanding) -> tuple[bool, str, str, str]:
    team = team_of(standing)
    return (team == NO_TEAM, team.casefold(), standing.name.casefold(), standing.email.casefold())


def history_table(standings: Sequence[RepStanding], history: ManagerHistory, *, goals: GoalsSettings,
                  tab: str, memo: RowMemo | None = None) -> OutputTable:
    """The History tab for the active reps of ``standings`` (sorted by team, then name). ``memo``:
    the previous call's tab, reused when its inputs are unchanged (closed months rarely change)."""
    key = (tuple((s.rep_id, s.name, s.email, s.team) for s in standings), history.version or history,
           goals.bonus.model_dump_json())
    memo = memo if memo is not None else RowMemo(remember=False)
    reused = memo.begin()
    table: OutputTable = reused.get(key, lambda: _history_table(standings, history, goals=goals, tab=tab))
    memo.keep(reused)
    return table


def _history_table(standings: Sequence[RepStanding], history: ManagerHistory, *, goals: GoalsSettings,
                   tab: str) -> OutputTable:
    tiers = goals.bonus.tiers
    names = tuple(tier_name(tier, tiers) for tier in range(len(tiers)))
    # Each rep's months in one slot per distinct month shown (the last row of a rep and month wins, as
    # in a dict), read in the grid's column order.
    place: dict[tuple[int, int], int] = {}
    for month in history.months:
        place.setdefault(month, len(place))
    columns = [place[month] for month in history.months]
    by_rep: dict[int, list[RepMonth | None]] = {}
    for rep_month in history.rep_months:
        slot = place.get((rep_month.year, rep_month.month))
        if slot is not None:
            by_rep.setdefault(rep_month.rep_id, [None] * len(place))[slot] = rep_month
    nothing: list[RepMonth | None] = [None] * len(place)
    rows: list[tuple[Cell, ...]] = []
    for standing in sorted(standings, key=_sort_key):
        team = team_of(standing)
        cells: list[Cell] = [standing.name, team if team != NO_TEAM else None]
        months = by_rep.get(standing.rep_id, nothing)
        for slot in columns:
            past = months[slot]
            if past is None:
                cells += (None, None)
            else:
                cells += (fraction(past.signup_pct), names[past.bonus_tier])
        rows.append(tuple(cells))
    width = 2 + 2 * len(history.months)

    def row(*cells: Cell) -> tuple[Cell, ...]:
        return (*cells, *(None,) * (width - len(cells)))

    rows.append(row())
    bold = [len(rows)]
    rows.append(row(TOP_TITLE))
    if not history.final_ranks:
        rows.append(row(NO_SNAPSHOTS))
    shown: tuple[int, int] | None = None
    for rank in history.final_ranks:
        if (rank.year, rank.month) != shown:
            if shown is not None:
                rows.append(row())
            shown = (rank.year, rank.month)
            bold.append(len(rows))
            rows.append(row(f"{date(rank.year, rank.month, 1):%B %Y}", *TOP_HEADER))
        tier = tier_name(rank.bonus_tier, tiers) if rank.bonus_tier is not None else None
        rows.append(row(f"{rank.rank}. {rank.name}", rank.team or None, fraction(rank.signup_pct), tier,
                        fraction(rank.revenue_pct)))
    layout = Layout(columns=history_columns(history.months), bold_rows=tuple(bold))
    return OutputTable(tab=tab, layout=layout, rows=tuple(rows))
