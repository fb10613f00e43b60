"""The History tab: the last 12 closed months per rep (signup % and tier reached, a grid), and
below it each month's final top 10, newest month first. Pure.

The top-10 section reuses the grid's columns, so its values line up with the
grid's number formats: Signup % and Revenue % fall in percent columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models.history import ManagerHistory
from models.rules.teams import NO_TEAM, team_of
from models.rules.tiers import tier_name
from models.settings import GoalsSettings
from models.values import RepStanding
from sheets.tables import Cell, Column, Layout, OutputTable
from sync.cell_values import fraction

TOP_TITLE = "Final leaderboard of each month (top 10, from the month's last daily snapshot)"
TOP_HEADER: tuple[str, ...] = ("Month", "Rank", "Rep", "Team", "Signup %", "Tier", "Revenue %")
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
                  tab: str) -> OutputTable:
    """The History tab for the active reps of ``standings`` (sorted by team, then name)."""
    tiers = goals.bonus.tiers
    by_rep = {(m.rep_id, m.year, m.month): m for m in history.rep_months}
    rows: list[tuple[Cell, ...]] = []
    for standing in sorted(standings, key=_sort_key):
        team = team_of(standing)
        cells: list[Cell] = [standing.name, team if team != NO_TEAM else None]
        for year, month in history.months:
            past = by_rep.get((standing.rep_id, year, month))
            cells += [fraction(past.signup_pct), tier_name(past.bonus_tier, tiers)] if past else [None, None]
        rows.append(tuple(cells))
    width = 2 + 2 * len(history.months)
    pad = (None,) * (width - len(TOP_HEADER))
    rows.append((None,) * width)
    bold = [len(rows)]
    rows.append((TOP_TITLE, *(None,) * (width - 1)))
    if history.final_ranks:
        bold.append(len(rows))
        rows.append((*TOP_HEADER, *pad))
        for rank in history.final_ranks:
            rows.append((month_label(rank.year, rank.month), rank.rank, rank.name, rank.team or None,
                         fraction(rank.signup_pct),
                         tier_name(rank.bonus_tier, tiers) if rank.bonus_tier is not None else None,
                         fraction(rank.revenue_pct), *pad))
    else:
        rows.append((NO_SNAPSHOTS, *(None,) * (width - 1)))
    layout = Layout(columns=history_columns(history.months), bold_rows=tuple(bold))
    return OutputTable(tab=tab, layout=layout, rows=tuple(rows))
