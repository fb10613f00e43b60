"""Derived values recomputed set-based after the inputs are stored.

Each statement changes only rows whose value really differs, so a cycle over
an unchanged sheet writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from models.settings import BonusSettings


def ensure_period_rows(connection: Connection, *, year: int, month: int, deadline_day: int, timezone: str) -> int:
    """Give every active rep a row for the current month (goal from the rep's default, not yet
    set by anyone) and a row for every year it has months in (yearly goal from the rep's default)."""
    added = connection.execute(text("""
        INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, deadline)
        SELECT r.id, :year, :month, r.monthly_signup_goal,
               make_timestamptz(:year, :month, CAST(:deadline_day AS int) + 1, 0, 0, 0, CAST(:tz AS text))
        FROM sales_reps r
        WHERE r.is_active
        ON CONFLICT ON CONSTRAINT idx_monthly_goals_rep_period DO NOTHING
    """), {"year": year, "month": month, "deadline_day": deadline_day, "tz": timezone}).rowcount
    added += connection.execute(text("""
        INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal)
        SELECT DISTINCT g.sales_rep_id, g.goal_year, r.yearly_signup_goal
        FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id
        ON CONFLICT ON CONSTRAINT uq_yearly_goals_rep_year DO NOTHING
    """)).rowcount
    return added


def refresh_bonus_tiers(connection: Connection, bonus: BonusSettings) -> int:
    """Set bonus_tier_actual, bonus_amount and bonus_triggered from the configured tiers.

    The same rule as ``models.rules.tiers``: a tier covers [its threshold, the next
    one); the amount is that tier's (not cumulative); triggered when the tier is at
    least 1 and at least the rep's tier goal.
    """
    basis = "g.signups_actual" if bonus.basis == "signups" else "coalesce(g.signup_progress_percent, 0)"
    return connection.execute(text(f"""
        WITH computed AS (
            SELECT g.id, t.tier,
                   (CAST(:amounts AS numeric[]))[t.tier + 1] AS amount,
                   t.tier >= 1 AND t.tier >= coalesce(g.bonus_tier_goal, 0) AS triggered
            FROM rep_monthly_goals g
            CROSS JOIN LATERAL (
                SELECT (count(*) - 1)::smallint AS tier
                FROM unnest(CAST(:thresholds AS numeric[])) AS threshold
                WHERE {basis} >= threshold
            ) t
        )
        UPDATE rep_monthly_goals g
        SET bonus_tier_actual = c.tier, bonus_amount = c.amount, bonus_triggered = c.triggered
        FROM computed c
        WHERE g.id = c.id
          AND (g.bonus_tier_actual, g.bonus_amount, g.bonus_triggered) IS DISTINCT FROM
              (c.tier, c.amount, c.triggered)
    """), {
        "thresholds": [tier.threshold for tier in bonus.tiers],
        "amounts": [tier.amount for tier in bonus.tiers],
    }).rowcount


def refresh_yearly_actuals(connection: Connection) -> int:
    """Yearly actuals = the sum of that year's monthly actuals."""
    return connection.execute(text("""
        UPDATE rep_yearly_goals y
        SET yearly_signups_actual = m.signups, yearly_revenue_actual = m.revenue
        FROM (
            SELECT sales_rep_id, goal_year, sum(signups_actual) AS signups, sum(revenue_actual) AS revenue
            FROM rep_monthly_goals GROUP BY sales_rep_id, goal_year
        ) m
        WHERE y.sales_rep_id = m.sales_rep_id AND y.goal_year = m.goal_year
          AND (y.yearly_signups_actual, y.yearly_revenue_actual) IS DISTINCT FROM (m.signups, m.revenue)
    """)).rowcount


def refresh_rep_rollups(connection: Connection, *, year: int, month: int) -> int:
    """``sales_reps.current_bonus_tier`` and ``goal_progress`` follow the current month."""
    return connection.execute(text("""
        UPDATE sales_reps r
        SET current_bonus_tier = coalesce(g.bonus_tier_actual, 0), goal_progress = g.signup_progress_percent
        FROM sales_reps r2
        LEFT JOIN rep_monthly_goals g
          ON g.sales_rep_id = r2.id AND g.goal_year = :year AND g.goal_month = :month
        WHERE r.id = r2.id
          AND (r.current_bonus_tier, r.goal_progress) IS DISTINCT FROM
              (coalesce(g.bonus_tier_actual, 0), g.signup_progress_percent)
    """), {"year": year, "month": month}).rowcount


def close_past_periods(connection: Connection, *, year: int, month: int) -> int:
    """Months (and years) that have ended with goals not completed become ``missed``."""
    closed = connection.execute(text("""
        UPDATE rep_monthly_goals SET status = 'missed'
        WHERE status = 'active' AND (goal_year * 12 + goal_month) < (:year * 12 + :month)
    """), {"year": year, "month": month}).rowcount
    closed += connection.execute(text("""
        UPDATE rep_yearly_goals SET status = 'missed' WHERE status = 'active' AND goal_year < :year
    """), {"year": year}).rowcount
    return closed


def acknowledge_reminders(connection: Connection, now: datetime) -> int:
    """Setting a month's goal acknowledges that month's reminders."""
    return connection.execute(text("""
        UPDATE goal_deadline_reminders d SET acknowledged = true, acknowledged_at = :now
        FROM rep_monthly_goals g
        WHERE d.acknowledged = false AND g.sales_rep_id = d.sales_rep_id
          AND g.goal_year = d.target_year AND g.goal_month = d.target_month AND g.goal_set_at IS NOT NULL
    """), {"now": now}).rowcount
