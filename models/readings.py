"""Reads for the output tabs and the terminal: a fixed number of queries per cycle."""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, text

from models.rules.achievements import MonthState, summary_streak
from models.values import RepStanding

TREND_DAYS = 14

STREAK_BREAK = "(g.status IN ('active', 'missed') OR g.lowered_after_deadline)"
"""SQL: goal row ``g`` is a month no streak can cross (not completed, the trigger's twin of the
completeness rule, or a goal lowered after the deadline); reads of streak history stop there."""

_STANDINGS = text(f"""
WITH cur AS (
    SELECT CAST(:year AS int) AS year, CAST(:month AS int) AS month,
           CAST(:year AS int) * 12 + CAST(:month AS int) - 1 AS idx
),
-- The months a Summary streak can reach: from each rep's latest earlier month that no streak can
-- cross (status active/missed, or a goal lowered after the deadline: the trigger's twin of the
-- rule) up to this month. Python decides the streak (models.rules.achievements.summary_streak).
breaks AS (
    SELECT g.sales_rep_id, max(g.goal_year * 12 + g.goal_month - 1) AS idx
    FROM rep_monthly_goals g CROSS JOIN cur
    WHERE {STREAK_BREAK}
      AND g.goal_year * 12 + g.goal_month - 1 < cur.idx
    GROUP BY g.sales_rep_id
),
streak_months AS (
    SELECT g.sales_rep_id,
           array_agg(g.goal_year ORDER BY g.goal_year, g.goal_month) AS years,
           array_agg(g.goal_month ORDER BY g.goal_year, g.goal_month) AS months,
           array_agg(g.signup_goal ORDER BY g.goal_year, g.goal_month) AS signup_goals,
           array_agg(g.signups_actual ORDER BY g.goal_year, g.goal_month) AS signups,
           array_agg(g.revenue_goal ORDER BY g.goal_year, g.goal_month) AS revenue_goals,
           array_agg(g.revenue_actual ORDER BY g.goal_year, g.goal_month) AS revenues,
           array_agg(g.lowered_after_deadline ORDER BY g.goal_year, g.goal_month) AS lowered
    FROM rep_monthly_goals g CROSS JOIN cur
    LEFT JOIN breaks b ON b.sales_rep_id = g.sales_rep_id
    WHERE g.goal_year * 12 + g.goal_month - 1 BETWEEN coalesce(b.idx, 0) AND cur.idx
    GROUP BY g.sales_rep_id
),
trend AS (
    SELECT sales_rep_id, array_agg(signup_progress_percent ORDER BY snapshot_date) AS points
    FROM (
        SELECT sales_rep_id, snapshot_date, signup_progress_percent,
               row_number() OVER (PARTITION BY sales_rep_id ORDER BY snapshot_date DESC) AS rn
        FROM goal_progress_snapshots
        WHERE snapshot_type = 'daily' AND snapshot_date >= make_date(:year, :month, 1) - 31
    ) recent
    WHERE rn <= :trend_days
    GROUP BY sales_rep_id
)
SELECT r.id, r.name, r.email, r.team,
       g.id IS NOT NULL AS has_goal_row, g.signup_goal, coalesce(g.signups_actual, 0) AS signups,
       g.signup_progress_percent, g.revenue_goal, coalesce(g.revenue_actual, 0) AS revenue,
       g.revenue_progress_percent, g.bonus_tier_goal, coalesce(g.bonus_tier_actual, 0) AS bonus_tier,
       coalesce(g.bonus_amount, 0) AS bonus_amount, coalesce(g.bonus_triggered, false) AS bonus_triggered,
       coalesce(g.deadline, make_timestamptz(:year, :month, CAST(:deadline_day AS int) + 1, 0, 0, 0,
                                             CAST(:tz AS text))) AS deadline,
       g.goal_set_at, coalesce(g.set_by_deadline, false) AS set_by_deadline, g.status,
       coalesce(y.yearly_signups_actual, 0) AS ytd_signups, y.yearly_signup_goal,
       y.yearly_signup_progress_percent, coalesce(y.yearly_revenue_actual, 0) AS ytd_revenue,
       y.yearly_revenue_goal, y.yearly_revenue_progress_percent, y.monthly_signup_target,
       s.years AS streak_years, s.months AS streak_months, s.signup_goals AS streak_signup_goals,
       s.signups AS streak_signups, s.revenue_goals AS streak_revenue_goals, s.revenues AS streak_revenues,
       s.lowered AS streak_lowered, coalesce(t.points, ARRAY[]::numeric[]) AS trend
FROM sales_reps r
LEFT JOIN rep_monthly_goals g ON g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
LEFT JOIN rep_yearly_goals y ON y.sales_rep_id = r.id AND y.goal_year = :year
LEFT JOIN streak_months s ON s.sales_rep_id = r.id
LEFT JOIN trend t ON t.sales_rep_id = r.id
WHERE r.is_active
ORDER BY r.team NULLS LAST, r.name, r.id
""")


_STANDING_COLUMNS = (
    "id", "name", "email", "team", "has_goal_row", "signup_goal", "signups", "signup_progress_percent",
    "revenue_goal", "revenue", "revenue_progress_percent", "bonus_tier_goal", "bonus_tier", "bonus_amount",
    "bonus_triggered", "deadline", "goal_set_at", "set_by_deadline", "status", "ytd_signups",
    "yearly_signup_goal", "yearly_signup_progress_percent", "ytd_revenue", "yearly_revenue_goal",
    "yearly_revenue_progress_percent", "monthly_signup_target", "streak_years", "streak_months",
    "streak_signup_goals", "streak_signups", "streak_revenue_goals", "streak_revenues", "streak_lowered", "trend",
)
"""The columns ``standings`` reads, in the order it passes them on."""


def standings(connection: Connection, *, year: int, month: int, deadline_day: int,
              timezone: str) -> list[RepStanding]:
    """Every active rep's current month and year, with streak and trend."""
    result = connection.execute(_STANDINGS, {
        "year": year, "month": month, "deadline_day": deadline_day, "tz": timezone,
        "trend_days": TREND_DAYS,
    })
    # Each row's columns by position, in RepStanding's order (a Row's attribute lookup by name is a
    # Python call per field: 28 per rep); the same values as reading them by name.
    pick = itemgetter(*(list(result.keys()).index(name) for name in _STANDING_COLUMNS))
    standings = []
    for row in result.all():
        (rep_id, name, email, team, has_goal_row, signup_goal, signups, signup_pct, revenue_goal, revenue,
         revenue_pct, bonus_tier_goal, bonus_tier, bonus_amount, bonus_triggered, deadline, goal_set_at,
         set_by_deadline, status, ytd_signups, yearly_signup_goal, ytd_signup_pct, ytd_revenue,
         yearly_revenue_goal, ytd_revenue_pct, monthly_signup_target, *streak_columns, trend) = pick(row)
        standings.append(RepStanding(
            rep_id=rep_id, name=name, email=email, team=team, year=year, month=month,
            has_goal_row=has_goal_row, signup_goal=signup_goal, signups=Decimal(signups),
            signup_pct=signup_pct, revenue_goal=revenue_goal,
            revenue=Decimal(revenue), revenue_pct=revenue_pct,
            bonus_tier_goal=bonus_tier_goal, bonus_tier=bonus_tier,
            bonus_amount=Decimal(bonus_amount), bonus_triggered=bonus_triggered,
            deadline=deadline, goal_set_at=goal_set_at, set_by_deadline=set_by_deadline,
            status=status, ytd_signups=Decimal(ytd_signups),
            yearly_signup_goal=yearly_signup_goal, ytd_signup_pct=ytd_signup_pct,
            ytd_revenue=Decimal(ytd_revenue), yearly_revenue_goal=yearly_revenue_goal,
            ytd_revenue_pct=ytd_revenue_pct,
            monthly_signup_target=monthly_signup_target, streak=_streak(streak_columns, year, month),
            trend=tuple(trend),
        ))
    return standings


def _streak(columns: list[Any], year: int, month: int) -> int:
    """The Summary streak from the months ``_STANDINGS`` read for one rep (none: no month)."""
    years, months, signup_goals, signups, revenue_goals, revenues, lowered = columns
    if years is None:
        return 0
    states = [MonthState(y, m, signup_goal=sg, signups_actual=sa, revenue_goal=rg, revenue_actual=ra,
                         lowered_after_deadline=lo)
              for y, m, sg, sa, rg, ra, lo in zip(years, months, signup_goals, signups, revenue_goals,
                                                  revenues, lowered, strict=True)]
    return summary_streak(states, year, month)
