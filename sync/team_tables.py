"""The Team tab: one row per team for the current month. Pure (``now`` and settings passed in)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from models.rules.pace import Indicator, expected_fraction
from models.rules.periods import local_date
from models.rules.teams import TeamStanding, rep_indicator, team_standings
from models.settings import GoalsSettings
from models.values import RepStanding
from sheets.outputs import Cell, Column, Layout, OutputTable
from sync.cell_values import expected_cell, fraction, number
from sync.output_tables import PACE_CELL_COLOURS, PACE_WORDS
from sync.reuse import RowMemo

TEAM_COLUMNS: tuple[Column, ...] = (
    Column("Team", "text", 140),
    Column("Members", "int", 75),
    Column("Signups", "number", 75),
    Column("Signup Goal", "int", 90),
    Column("Signup %", "percent", 80),
    Column("Revenue", "money", 110),
    Column("Revenue Goal", "money", 110),
    Column("Revenue %", "percent", 85),
    Column("Expected %", "percent", 90),
    Column("Pace", "text", 85),
    Column("Ahead", "int", 60),
    Column("On Track", "int", 70),
    Column("Behind", "int", 60),
    Column("Critical", "int", 65),
    Column("Goals Not Set", "int", 105),
    Column("Rank", "int", 55),
)


def pace_text(indicator: str | None) -> str | None:
    """A pace indicator as the Summary shows it."""
    return PACE_WORDS.get(indicator, indicator) if indicator is not None else None


def _row(team: TeamStanding, expected: float) -> tuple[Cell, ...]:
    return (
        team.team, team.members, number(team.signups), team.signup_goal, fraction(team.signup_pct),
        number(team.revenue), number(team.revenue_goal), fraction(team.revenue_pct), expected,
        pace_text(team.pace.indicator), team.count("ahead"), team.count("on_track"), team.count("behind"),
        team.count("critical"), team.goals_not_set, team.rank,
    )


def team_table(standings: Sequence[RepStanding], *, now: datetime, goals: GoalsSettings, tab: str,
               tz: ZoneInfo, memo: RowMemo | None = None) -> OutputTable:
    """The Team tab: teams ranked by signup %, then revenue % (1, 2, 2, 4); reps without a team last.
    ``memo``: the previous call's rep pace indicators, reused for reps whose inputs are unchanged."""
    today = local_date(now, tz)
    expected = expected_fraction(today, goals.pace.calendar, goals.pace.holidays)
    context = f"{expected}|{goals.pace.model_dump_json()}"  # a str caches its hash: one key per rep is cheap
    memo = memo if memo is not None else RowMemo(remember=False)
    reused = memo.begin()

    def indicator_of(standing: RepStanding) -> Indicator | None:
        return reused.get((standing, context),  # type: ignore[no-any-return]
                          lambda: rep_indicator(standing, expected=expected, settings=goals.pace))

    teams = team_standings(standings, expected=expected, settings=goals.pace, indicator_of=indicator_of)
    memo.keep(reused)
    layout = Layout(columns=TEAM_COLUMNS, colour_column="Pace", colours=PACE_CELL_COLOURS)
    return OutputTable(tab=tab, layout=layout, rows=tuple(_row(team, expected_cell(expected)) for team in teams))
