"""Derived values recomputed set-based after the inputs are stored.

Each statement changes only rows whose value really differs, so a cycle over
an unchanged sheet writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from models.settings import BonusSettings


def ensure_period_rows(connection: Connection, *, year: int, month: int, deadline_day: int, timezone: str) -> int:
    """Give every active rep a row for the current month (goal from the rep's default, not yet
    set by anyone) and a row for every year it has months in (yearly goal from the rep's default).

    Only missing rows are inserted (an anti-join first, so an unchanged roster costs one scan),
    and a new year row starts with its final values (its months' sums; ``missed`` when the year
    is over), so the derived steps after it need not rewrite it.
    """
    added = connection.execute(text("""
        INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, deadline)
        SELECT r.id, :year, :month, r.monthly_signup_goal,
               make_timestamptz(:year, :month, CAST(:deadline_day AS int) + 1, 0, 0, 0, CAST(:tz AS text))
        FROM sales_reps r
        WHERE r.is_active AND NOT EXISTS (
            SELECT 1 FROM rep_monthly_goals g
            WHERE g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
        )
        ON CONFLICT ON CONSTRAINT idx_monthly_goals_rep_period DO NOTHING
    """), {"year": year, "month": month, "deadline_day": deadline_day, "tz": timezone}).rowcount
    added += connection.execute(text("""
        WITH missing AS (
            SELECT DISTINCT g.sales_rep_id, g.goal_year
            FROM rep_monthly_goals g
            WHERE NOT EXISTS (
                SELECT 1 FROM rep_yearly_goals y WHERE y.sales_rep_id = g.sales_rep_id AND y.goal_year = g.goal_year
            )
        )
        INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal, yearly_signups_actual,
                                      yearly_revenue_actual, status)
        SELECT m.sales_rep_id, m.goal_year, r.yearly_signup_goal, s.signups, s.revenue,
               CASE WHEN m.goal_year < :year THEN 'missed' ELSE 'active' END
        FROM missing m
        JOIN sales_reps r ON r.id = m.sales_rep_id
        CROSS JOIN LATERAL (
            SELECT sum(g.signups_actual) AS signups, sum(g.revenue_actual) AS revenue
            FROM rep_monthly_goals g WHERE g.sales_rep_id = m.sales_rep_id AND g.goal_year = m.goal_year
        ) s
        ON CONFLICT ON CONSTRAINT uq_yearly_goals_rep_year DO NOTHING
    """), {"year": year}).rowcount
    return added


def bonus_params(bonus: BonusSettings) -> dict[str, list[Decimal]]:
    """The bind parameters ``bonus_sql`` expects: tier thresholds and amounts, tier 0 first."""
    return {"thresholds": [tier.threshold for tier in bonus.tiers],
            "amounts": [tier.amount for tier in bonus.tiers]}


def bonus_sql(bonus: BonusSettings, *, signups: str, progress: str, tier_goal: str) -> tuple[str, str, str]:
    """SQL expressions (tier, amount, triggered) for one goal row, given SQL for its signups, its
    signup progress percent and its tier goal; they use the parameters of ``bonus_params``.

    The rule ``tests/oracles.py`` states in plain Python: a tier covers [its threshold, the next
    one), so the tier is the number of thresholds reached minus one (``width_bucket``
    counts them; thresholds strictly increase from 0); the amount is that tier's (not
    cumulative); triggered when the tier is at least 1 and at least the tier goal.
    """
    basis = signups if bonus.basis == "signups" else f"coalesce({progress}, 0)"
    bucket = f"width_bucket(CAST({basis} AS numeric), CAST(:thresholds AS numeric[]))"
    tier = f"CAST({bucket} - 1 AS smallint)"
    amount = f"(CAST(:amounts AS numeric[]))[{bucket}]"
    triggered = f"({bucket} - 1 >= 1 AND {bucket} - 1 >= coalesce({tier_goal}, 0))"
    return tier, amount, triggered


def refresh_bonus_tiers(connection: Connection, bonus: BonusSettings) -> int:
    """Set bonus_tier_actual, bonus_amount and bonus_triggered from the configured tiers (see
    ``bonus_sql``); one scan, and only rows whose values differ are written."""
    tier, amount, triggered = bonus_sql(bonus, signups="signups_actual", progress="signup_progress_percent",
                                        tier_goal="bonus_tier_goal")
    return connection.execute(text(f"""
        UPDATE rep_monthly_goals
        SET bonus_tier_actual = {tier}, bonus_amount = {amount}, bonus_triggered = {triggered}
        WHERE (bonus_tier_actual, bonus_amount, bonus_triggered) IS DISTINCT FROM ({tier}, {amount}, {triggered})
    """), bonus_params(bonus)).rowcount


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
