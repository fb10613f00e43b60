"""Team standings: a team's totals, its pace (the rep rule on the team's totals), its reps by pace
and its rank. Pure: the standings, the elapsed share and the thresholds are passed in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from models.rules.pace import JUDGED_INDICATORS, Indicator, PaceResult, pace, pace_indicator
from models.rules.progress import progress_percent
from models.rules.ranking import competition_ranks
from models.settings import PaceSettings
from models.values import RepStanding

NO_TEAM = "(no team)"
"""The row of reps without a team: listed last, never ranked."""


def team_of(standing: RepStanding) -> str:
    """The rep's team name, or ``NO_TEAM`` for a blank team."""
    return standing.team.strip() if standing.team and standing.team.strip() else NO_TEAM


def rep_pace(standing: RepStanding, *, expected: Fraction, settings: PaceSettings) -> PaceResult | None:
    """The rep's monthly pace (None without a goal row for the month)."""
    if not standing.has_goal_row:
        return None
    return pace(standing.signup_pct, standing.signup_goal, standing.revenue_pct, standing.revenue_goal,
                expected=expected, settings=settings)


@dataclass(frozen=True, slots=True)
class TeamStanding:
    """One team's month. Goals are the sum of the members' set goals; actuals count every member."""

    team: str
    members: int
    signups: Decimal
    signup_goal: int | None
    signup_pct: Decimal | None
    revenue: Decimal
    revenue_goal: Decimal | None
    revenue_pct: Decimal | None
    pace: PaceResult
    reps_by_pace: tuple[tuple[Indicator, int], ...]
    """Members per judged pace (ahead, on_track, behind, critical)."""
    goals_not_set: int
    rank: int | None
    """1, 2, 2, 4 by signup %, then revenue %; None for ``NO_TEAM``."""

    def count(self, indicator: Indicator) -> int:
        """Members whose pace is ``indicator``."""
        return dict(self.reps_by_pace).get(indicator, 0)


def _goal_sum(goals: Iterable[Decimal | int | None]) -> Decimal | None:
    # Stored goals are ints and Decimals: compared directly (exact), no Fraction needed.
    set_goals = [Decimal(goal) for goal in goals if goal is not None and goal > 0]
    return sum(set_goals, Decimal(0)) if set_goals else None


def rep_indicator(standing: RepStanding, *, expected: Fraction, settings: PaceSettings) -> Indicator | None:
    """``rep_pace(...).indicator``, without the displayed ratio."""
    if not standing.has_goal_row:
        return None
    return pace_indicator(standing.signup_pct, standing.signup_goal, standing.revenue_pct, standing.revenue_goal,
                          expected=expected, settings=settings)


def team_standings(standings: Sequence[RepStanding], *, expected: Fraction, settings: PaceSettings,
                   indicator_of: Callable[[RepStanding], Indicator | None] | None = None) -> list[TeamStanding]:
    """Every team's standing, ranked (ties share a rank and are listed by name); ``NO_TEAM`` last.

    ``indicator_of``: each rep's pace indicator (default :func:`rep_indicator` at ``expected``); a
    caller may pass one that reuses earlier results.
    """
    if indicator_of is None:
        def indicator_of(standing: RepStanding) -> Indicator | None:
            return rep_indicator(standing, expected=expected, settings=settings)

    teams: dict[str, list[RepStanding]] = {}
    for standing in standings:
        teams.setdefault(team_of(standing), []).append(standing)
    unranked = []
    for name, members in teams.items():
        signups = sum((m.signups for m in members), Decimal(0))
        revenue = sum((m.revenue for m in members), Decimal(0))
        signup_goal = _goal_sum(m.signup_goal for m in members)
        revenue_goal = _goal_sum(m.revenue_goal for m in members)
        signup_pct, revenue_pct = progress_percent(signups, signup_goal), progress_percent(revenue, revenue_goal)
        indicators = [indicator_of(m) for m in members]
        unranked.append(TeamStanding(
            team=name, members=len(members), signups=signups,
            signup_goal=int(signup_goal) if signup_goal is not None else None, signup_pct=signup_pct,
            revenue=revenue, revenue_goal=revenue_goal, revenue_pct=revenue_pct,
            pace=pace(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected, settings=settings),
            reps_by_pace=tuple((kind, indicators.count(kind)) for kind in JUDGED_INDICATORS),
            goals_not_set=sum(1 for m in members if m.goal_set_at is None),
            rank=None,
        ))
    named = [team for team in unranked if team.team != NO_TEAM]
    ranks = competition_ranks([(team.signup_pct, team.revenue_pct) for team in named])
    ranked = [replace(team, rank=rank) for team, rank in zip(named, ranks, strict=True)]
    ranked.sort(key=lambda team: (team.rank or 0, team.team.casefold()))
    return ranked + [team for team in unranked if team.team == NO_TEAM]

