"""The Charts tab: the data of two native line charts, and the charts over it. Pure.

Left: this month's cumulative signups per team by day (from the daily snapshots;
today from the live numbers) next to each team's expected-pace line (the team's
signup goal × the elapsed share of each day, dashed, same colour). Right of it:
the last 12 closed months' signup % per team. The charts sit to the right of
both tables; their ranges follow the table, so only the data changes from one
cycle to the next (and the ranges, when a team or a month's length changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from models.history import ManagerHistory
from models.rules.pace import expected_fraction
from models.rules.periods import days_in_month
from models.rules.progress import progress_percent
from models.rules.teams import NO_TEAM, team_of
from models.settings import GoalsSettings
from models.values import RepStanding
from sheets.outputs import Cell, Chart, ChartSeries, Column, Layout, OutputTable
from sync.cell_values import fraction, number
from sync.history_tables import month_label
from sync.reuse import RowMemo

TEAM_COLOURS: tuple[str, ...] = ("#4285f4", "#ea4335", "#fbbc04", "#34a853", "#ff6d01", "#46bdc6",
                                 "#7e57c2", "#ec407a", "#8d6e63", "#78909c")
"""One colour per team (by team name), reused when there are more teams."""
ROW_HEIGHT = 21
"""Default row height in pixels (Google and LibreOffice), to stack the charts without overlap."""


def _teams(standings: Sequence[RepStanding]) -> list[str]:
    """Team names by name, reps without a team last: a stable order (and colour) per team, so
    the charts' layout changes only when a team comes or goes. Teams whose names differ only in
    case ("SMB", "smb") keep one order too: a set's order differs from process to process."""
    names = {team_of(standing) for standing in standings}
    return sorted(names, key=lambda name: (name == NO_TEAM, name.casefold(), name))


def _width(header: str) -> int:
    """Pixels for a column whose header is ``header`` (bold, about 8 px a character)."""
    return max(80, 8 * len(header) + 16)


def charts_table(standings: Sequence[RepStanding], history: ManagerHistory, *, goals: GoalsSettings,
                 tab: str, today: date, memo: RowMemo | None = None) -> OutputTable:
    """The Charts tab for ``today``'s month. ``memo``: the previous call's tab, reused when its
    inputs are unchanged."""
    key = (tuple((s.rep_id, s.team, s.signups, s.signup_goal) for s in standings), history.version or history,
           today, goals.pace.model_dump_json())
    memo = memo if memo is not None else RowMemo(remember=False)
    reused = memo.begin()
    table: OutputTable = reused.get(key, lambda: _charts_table(standings, history, goals=goals, tab=tab,
                                                               today=today))
    memo.keep(reused)
    return table


def _charts_table(standings: Sequence[RepStanding], history: ManagerHistory, *, goals: GoalsSettings,
                  tab: str, today: date) -> OutputTable:
    teams = _teams(standings)
    days = days_in_month(today.year, today.month)

    # Cumulative signups at the end of each day, per team: the daily snapshots, today the live numbers.
    by_day: dict[tuple[int, str], Decimal] = {}
    for point in history.daily:
        if point.day < today:
            key = (point.day.day, point.team or NO_TEAM)
            by_day[key] = by_day.get(key, Decimal(0)) + point.signups
    for standing in standings:
        key = (today.day, team_of(standing))
        by_day[key] = by_day.get(key, Decimal(0)) + standing.signups
    goals_by_team: dict[str, Decimal] = {}
    for standing in standings:
        if standing.signup_goal:
            team = team_of(standing)
            goals_by_team[team] = goals_by_team.get(team, Decimal(0)) + Decimal(standing.signup_goal or 0)

    # Each month's signup % per team: the members' signups over their set goals (summed in the database).
    totals = {(t.year, t.month, t.team or NO_TEAM): (t.signups, Decimal(t.signup_goal)) for t in history.team_months}

    columns = [Column("Day", "int", 50)]
    for team in teams:
        columns += [Column(team, "number", _width(team)), Column(f"{team} expected", "number",
                                                                 _width(f"{team} expected"))]
    gap = len(columns)
    columns += [Column("", "text", 24), Column("Month", "text", 80)]
    columns += [Column(team, "percent", _width(team)) for team in teams]

    rows: list[tuple[Cell, ...]] = []
    for index in range(max(days, len(history.months))):
        cells: list[Cell] = []
        if index < days:
            day = index + 1
            share = expected_fraction(date(today.year, today.month, day), goals.pace.calendar, goals.pace.holidays)
            cells.append(day)
            for team in teams:
                actual = by_day.get((day, team)) if day <= today.day else None
                team_goal = goals_by_team.get(team)
                expected = (round(float(team_goal * share.numerator / share.denominator), 1)
                            if team_goal else None)
                cells += [number(actual), expected]
        else:
            cells += [None] * (gap)
        cells.append(None)
        if index < len(history.months):
            year, month = history.months[index]
            cells.append(month_label(year, month))
            for team in teams:
                signups, goal = totals.get((year, month, team), (Decimal(0), Decimal(0)))
                cells.append(fraction(progress_percent(signups, goal)) if goal else None)
        else:
            cells += [None] * (1 + len(teams))
        rows.append(tuple(cells))

    charts: tuple[Chart, ...] = ()
    if teams:
        anchor = len(columns) + 1
        month_name = f"{date(today.year, today.month, 1):%B %Y}"
        charts = (
            Chart(title=f"Signups in {month_name} by team (dashed: expected pace)", domain_column=0,
                  series=tuple(ChartSeries(1 + 2 * i + offset, TEAM_COLOURS[i % len(TEAM_COLOURS)],
                                           dashed=bool(offset))
                               for i in range(len(teams)) for offset in (0, 1)),
                  rows=days, anchor_row=1, anchor_column=anchor, x_title="Day of the month",
                  y_title="Signups (cumulative)"),
            Chart(title="Signup % of goal per team, last 12 months", domain_column=gap + 1,
                  series=tuple(ChartSeries(gap + 2 + i, TEAM_COLOURS[i % len(TEAM_COLOURS)])
                               for i in range(len(teams))),
                  rows=len(history.months), anchor_row=1 + 400 // ROW_HEIGHT, anchor_column=anchor,
                  x_title="Month", y_title="Signup % of goal", y_percent=True),
        )
    return OutputTable(tab=tab, layout=Layout(columns=tuple(columns), charts=charts), rows=tuple(rows))
