"""Reads for the managers' tabs (History, Charts): past months, final leaderboards, daily points.

Four queries per cycle, whatever the number of reps; the values are plain frozen
dataclasses, so ``sync`` arranges them into cells without knowing SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Connection, text

HISTORY_MONTHS = 12


class RepMonth(NamedTuple):
    """One active rep's goal row of a past month, as it stands now: what the History grid shows of it.

    A named tuple, not a frozen dataclass: some 24,000 are made per cycle at 2,000 reps, and a
    tuple is made in a fraction of the time a frozen dataclass's ``__init__`` takes.
    """

    rep_id: int
    year: int
    month: int
    signup_pct: Decimal | None
    bonus_tier: int


@dataclass(frozen=True, slots=True)
class FinalRank:
    """A rep's rank on the last day of a month (the leaderboard snapshot taken with the monthly one)."""

    year: int
    month: int
    rank: int
    name: str
    team: str | None
    signup_pct: Decimal | None
    revenue_pct: Decimal | None
    bonus_tier: int | None


@dataclass(frozen=True, slots=True)
class DailyPoint:
    """A team's signups at the end of one day of the current month (its active reps' daily
    snapshots; ``team`` None for the reps without a team)."""

    team: str | None
    day: date
    signups: Decimal


@dataclass(frozen=True, slots=True)
class TeamMonth:
    """A team's signups and signup goals in a past month (its active reps with a set goal)."""

    team: str | None
    year: int
    month: int
    signups: Decimal
    signup_goal: int


@dataclass(frozen=True, slots=True)
class ManagerHistory:
    """What the History and Charts tabs need besides the current standings."""

    months: tuple[tuple[int, int], ...]
    """The closed months shown, oldest first."""
    rep_months: tuple[RepMonth, ...]
    final_ranks: tuple[FinalRank, ...]
    daily: tuple[DailyPoint, ...]
    team_months: tuple[TeamMonth, ...] = ()
    version: tuple[object, ...] = ()
    """Changes whenever any of the rows read could have: row counts and latest change times."""


def closed_months(year: int, month: int, count: int = HISTORY_MONTHS) -> tuple[tuple[int, int], ...]:
    """The ``count`` months before ``(year, month)``, oldest first."""
    index = year * 12 + month - 1
    return tuple((i // 12, i % 12 + 1) for i in range(index - count, index))


def _index(year: int, month: int) -> int:
    return year * 12 + month - 1


_VERSION = text("""
SELECT CAST(:first AS int), CAST(:current AS int),
       (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM rep_monthly_goals
        WHERE goal_year * 12 + goal_month - 1 BETWEEN :first AND :current - 1),
       (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM sales_reps),
       (SELECT count(*) || '/' || coalesce(max(created_at)::text, '') FROM leaderboard_snapshots
        WHERE snapshot_date >= make_date(:first_year, :first_month, 1) AND snapshot_date < make_date(:year, :month, 1)),
       (SELECT count(*) || '/' || coalesce(max(created_at)::text, '') FROM goal_progress_snapshots
        WHERE snapshot_type = 'daily' AND snapshot_date >= make_date(:year, :month, 1)
          AND snapshot_date < make_date(:year, :month, 1) + interval '1 month')
""")


def manager_history(connection: Connection, *, year: int, month: int, count: int = HISTORY_MONTHS,
                    previous: ManagerHistory | None = None) -> ManagerHistory:
    """The last ``count`` closed months of every active rep, each month's final top 10 (ties
    included) and the current month's daily signups.

    ``previous``: the last call's result, returned as it is when nothing it read has changed
    since (one cheap query instead of four, on a daemon's unchanged cycles). Rows of these
    tables are only inserted or updated (``updated_at`` moves with every real change) or
    deleted (the counts drop), so equal counts and latest times mean equal rows.
    """
    months = closed_months(year, month, count)
    first, current = _index(*months[0]), _index(year, month)
    window = {"first": first, "current": current}
    version = tuple(connection.execute(_VERSION, {**window, "first_year": months[0][0], "first_month": months[0][1],
                                                  "year": year, "month": month}).one())
    if previous is not None and previous.version == version:
        return previous
    rep_rows = connection.execute(text("""
        SELECT g.sales_rep_id, g.goal_year, g.goal_month, g.signup_progress_percent, g.bonus_tier_actual
        FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id AND r.is_active
        WHERE g.goal_year * 12 + g.goal_month - 1 BETWEEN :first AND :current - 1
        ORDER BY g.sales_rep_id, g.goal_year, g.goal_month
    """), window).all()
    # Reps who left since still belong on the leaderboard of the months they were in.
    rank_rows = connection.execute(text("""
        SELECT extract(year FROM l.snapshot_date)::int, extract(month FROM l.snapshot_date)::int, l.rank,
               r.name, r.team, l.signup_progress_percent, l.revenue_progress_percent, l.bonus_tier
        FROM leaderboard_snapshots l JOIN sales_reps r ON r.id = l.sales_rep_id
        WHERE l.snapshot_date = (date_trunc('month', l.snapshot_date) + interval '1 month - 1 day')::date
          AND l.snapshot_date >= make_date(:first_year, :first_month, 1)
          AND l.snapshot_date < make_date(:year, :month, 1)
          AND l.rank <= 10
        ORDER BY l.snapshot_date DESC, l.rank, r.name, r.email
    """), {"first_year": months[0][0], "first_month": months[0][1], "year": year, "month": month}).all()
    # Summed per team in the database: a month of daily rows per rep is too many to ship every cycle.
    daily_rows = connection.execute(text("""
        SELECT nullif(btrim(r.team), '') AS team, s.snapshot_date, sum(s.signups_to_date)
        FROM goal_progress_snapshots s JOIN sales_reps r ON r.id = s.sales_rep_id AND r.is_active
        WHERE s.snapshot_type = 'daily' AND s.signups_to_date IS NOT NULL
          AND s.snapshot_date >= make_date(:year, :month, 1)
          AND s.snapshot_date < make_date(:year, :month, 1) + interval '1 month'
        GROUP BY 1, 2 ORDER BY 2, 1
    """), {"year": year, "month": month}).all()
    team_rows = connection.execute(text("""
        SELECT nullif(btrim(r.team), '') AS team, g.goal_year, g.goal_month, sum(g.signups_actual),
               sum(g.signup_goal)::int
        FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id AND r.is_active
        WHERE g.goal_year * 12 + g.goal_month - 1 BETWEEN :first AND :current - 1 AND g.signup_goal > 0
        GROUP BY 1, 2, 3 ORDER BY 2, 3, 1
    """), window).all()
    return ManagerHistory(
        months=months,
        team_months=tuple(TeamMonth(*row) for row in team_rows),
        version=version,
        rep_months=tuple(map(RepMonth._make, rep_rows)),
        final_ranks=tuple(FinalRank(*row) for row in rank_rows),
        daily=tuple(DailyPoint(*row) for row in daily_rows),
    )
