"""Derived values recomputed set-based after the inputs are stored.

Each statement changes only rows whose value really differs, so a cycle over
an unchanged sheet writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from models.settings import BonusSettings

if TYPE_CHECKING:
    import pandas as pd

    from models.rules.tiers import BonusResult

# The reps with no row for the month (a read: which of them get one is plan_default_months's).
_REPS_WITHOUT_MONTH = text("""
    SELECT r.id, r.is_active, r.monthly_signup_goal
    FROM sales_reps r
    WHERE NOT EXISTS (
        SELECT 1 FROM rep_monthly_goals g
        WHERE g.sales_rep_id = r.id AND g.goal_year = :year AND g.goal_month = :month
    )
""")

# A (rep, year) pair ``m`` joined to its rep ``r`` and the sums ``s`` of its months' actuals.
_YEAR_SUMS = """
    JOIN sales_reps r ON r.id = m.sales_rep_id
    CROSS JOIN LATERAL (
        SELECT sum(g.signups_actual) AS signups, sum(g.revenue_actual) AS revenue
        FROM rep_monthly_goals g WHERE g.sales_rep_id = m.sales_rep_id AND g.goal_year = m.goal_year
    ) s"""

# The default rows as the plan gives them, written as they are, and (in the same statement, to
# keep a cold cycle's statement count) the (rep, year) pairs then without a year row, as
# _YEARS_WITHOUT_ROW reads them: a pair only the new rows have sums to 0, as their actuals do.
_INSERT_DEFAULT_MONTHS = text(f"""
    WITH added AS (
        INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, deadline)
        SELECT p.rep_id, :year, :month, p.signup_goal, p.deadline
        FROM unnest(CAST(:rep_id AS int[]), CAST(:signup_goal AS int[]), CAST(:deadline AS timestamptz[]))
             AS p(rep_id, signup_goal, deadline)
        ON CONFLICT ON CONSTRAINT idx_monthly_goals_rep_period DO NOTHING
        RETURNING sales_rep_id, goal_year
    ), missing AS (
        SELECT g.sales_rep_id, g.goal_year FROM rep_monthly_goals g
        UNION
        SELECT a.sales_rep_id, a.goal_year FROM added a
    ), pairs AS (
        SELECT m.sales_rep_id, m.goal_year, r.yearly_signup_goal, coalesce(s.signups, 0) AS signups,
               coalesce(s.revenue, 0) AS revenue
        FROM missing m {_YEAR_SUMS}
        WHERE NOT EXISTS (
            SELECT 1 FROM rep_yearly_goals y WHERE y.sales_rep_id = m.sales_rep_id AND y.goal_year = m.goal_year
        )
    )
    SELECT c.added, p.* FROM (SELECT count(*) AS added FROM added) c LEFT JOIN pairs p ON true
""")

# The (rep, year) pairs with months and no year row, with the rep's default goal and the months' sums.
_YEARS_WITHOUT_ROW = text(f"""
    WITH missing AS (
        SELECT DISTINCT g.sales_rep_id, g.goal_year
        FROM rep_monthly_goals g
        WHERE NOT EXISTS (
            SELECT 1 FROM rep_yearly_goals y WHERE y.sales_rep_id = g.sales_rep_id AND y.goal_year = g.goal_year
        )
    )
    SELECT m.sales_rep_id, m.goal_year, r.yearly_signup_goal, s.signups, s.revenue
    FROM missing m {_YEAR_SUMS}
""")

# The year rows as plan_default_years gives them, written as they are.
_INSERT_DEFAULT_YEARS = text("""
    INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal, yearly_signups_actual,
                                  yearly_revenue_actual, status)
    SELECT * FROM unnest(CAST(:rep_id AS int[]), CAST(:year AS smallint[]), CAST(:yearly_signup_goal AS int[]),
                         CAST(:signups AS numeric[]), CAST(:revenue AS numeric[]), CAST(:status AS text[]))
    ON CONFLICT ON CONSTRAINT uq_yearly_goals_rep_year DO NOTHING
""")


def ensure_period_rows(connection: Connection, *, year: int, month: int, deadline_day: int, timezone: str) -> int:
    """Give every active rep a row for the current month (``plan_default_months`` decides: goal
    from the rep's default, not yet set by anyone) and a row for every year it has months in
    (``plan_default_years``: yearly goal from the rep's default).

    Only missing rows are read and inserted (an anti-join, so an unchanged roster costs one scan
    and no write), and a new year row starts with its final values (its months' sums; ``missed`` when the year
    is over), so the derived steps after it need not rewrite it.
    """
    from models.rules.changes import (
        DEFAULT_MONTH_COLUMNS,
        DEFAULT_YEAR_COLUMNS,
        plan_default_months,
        plan_default_years,
    )

    reps = connection.execute(_REPS_WITHOUT_MONTH, {"year": year, "month": month}).all()
    plan = plan_default_months(_frame(reps, DEFAULT_MONTH_COLUMNS), year=year, month=month,
                               deadline_day=deadline_day, tz=ZoneInfo(timezone))
    added = 0
    missing: list[tuple[Any, ...]]
    if plan.empty:
        missing = [tuple(row) for row in connection.execute(_YEARS_WITHOUT_ROW)]
    else:
        result = connection.execute(_INSERT_DEFAULT_MONTHS, {
            "year": year, "month": month, "rep_id": plan["rep_id"].tolist(),
            "signup_goal": plan["signup_goal"].tolist(), "deadline": plan["deadline"].tolist()}).all()
        added = int(result[0][0])
        missing = [tuple(row[1:]) for row in result if row[1] is not None]
    years = plan_default_years(_frame(missing, DEFAULT_YEAR_COLUMNS), year=year)
    if not years.empty:
        added += connection.execute(_INSERT_DEFAULT_YEARS, {
            name: years[name].tolist() for name in (*DEFAULT_YEAR_COLUMNS, "status")}).rowcount
    return added


def _frame(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """``rows`` as a frame of ``columns``, object-typed (NULLs stay None), empty with its columns when
    there are no rows."""
    # Imported here: a cycle over an unchanged sheet never gets this far and never imports pandas.
    import pandas as pd

    return pd.DataFrame({name: pd.Series([row[i] for row in rows], dtype="object")
                         for i, name in enumerate(columns)})


# The distinct inputs of the bonus rule over every goal row, each with the outcome it holds (a
# read: the tier, amount and trigger of each are bonus_outcome's). NULL reads as -1, a key no real
# value takes, so that the write below can join on it.
_BONUS_INPUTS = """
    SELECT DISTINCT coalesce({basis}, -1) AS basis, coalesce(bonus_tier_goal, -1) AS tier_goal,
                    bonus_tier_actual, bonus_amount, bonus_triggered
    FROM rep_monthly_goals
"""

# The outcomes as bonus_outcome decided them, written to the rows with those inputs whose stored
# values differ.
_WRITE_BONUS = """
    UPDATE rep_monthly_goals g
    SET bonus_tier_actual = v.tier, bonus_amount = v.amount, bonus_triggered = v.triggered
    FROM unnest(CAST(:basis AS numeric[]), CAST(:tier_goal AS int[]), CAST(:tier AS smallint[]),
                CAST(:amount AS numeric[]), CAST(:triggered AS boolean[]))
         AS v(basis, tier_goal, tier, amount, triggered)
    WHERE coalesce(g.{basis}, -1) = v.basis AND coalesce(g.bonus_tier_goal, -1) = v.tier_goal
      AND (g.bonus_tier_actual, g.bonus_amount, g.bonus_triggered) IS DISTINCT FROM (v.tier, v.amount, v.triggered)
"""


def refresh_bonus_tiers(connection: Connection, bonus: BonusSettings) -> int:
    """Set bonus_tier_actual, bonus_amount and bonus_triggered of every stored month as
    ``models.rules.tiers.bonus_outcome`` decides: the distinct (basis, tier goal) pairs are read
    with the outcomes their rows hold (one statement) and decided in Python; the pairs held with
    another outcome are written to the rows that differ (one more statement, only when there are
    any: a cycle's upsert already writes the outcome of every row it changes). Returns the rows
    changed."""
    from models.rules.tiers import bonus_outcome

    basis = "signups_actual" if bonus.basis == "signups" else "signup_progress_percent"
    held = connection.execute(text(_BONUS_INPUTS.format(basis=basis))).all()
    outcomes: dict[tuple[Any, Any], BonusResult] = {}
    wrong: dict[tuple[Any, Any], BonusResult] = {}
    for value, goal, tier, amount, triggered in held:
        pair = (value, goal)
        if pair not in outcomes:
            outcomes[pair] = bonus_outcome(value if value >= 0 else None, goal if goal >= 0 else None, bonus)
        outcome = outcomes[pair]
        if (outcome.tier, outcome.amount, outcome.triggered) != (tier, amount, triggered):
            wrong[pair] = outcome
    if not wrong:
        return 0
    return connection.execute(text(_WRITE_BONUS.format(basis=basis)), {
        "basis": [value for value, _ in wrong], "tier_goal": [goal for _, goal in wrong],
        "tier": [o.tier for o in wrong.values()], "amount": [o.amount for o in wrong.values()],
        "triggered": [o.triggered for o in wrong.values()]}).rowcount


# Yearly actuals = the sums of the year's monthly actuals (a roll-up, no rule).
_YEARLY_ACTUALS = """
    UPDATE rep_yearly_goals y
    SET yearly_signups_actual = m.signups, yearly_revenue_actual = m.revenue
    FROM (
        SELECT sales_rep_id, goal_year, sum(signups_actual) AS signups, sum(revenue_actual) AS revenue
        FROM rep_monthly_goals GROUP BY sales_rep_id, goal_year
    ) m
    WHERE y.sales_rep_id = m.sales_rep_id AND y.goal_year = m.goal_year
      AND (y.yearly_signups_actual, y.yearly_revenue_actual) IS DISTINCT FROM (m.signups, m.revenue)
"""

# sales_reps.current_bonus_tier and goal_progress copy the current month (0 and NULL without a row).
_REP_ROLLUPS = """
    UPDATE sales_reps r
    SET current_bonus_tier = coalesce(g.bonus_tier_actual, 0), goal_progress = g.signup_progress_percent
    FROM sales_reps r2
    LEFT JOIN rep_monthly_goals g
      ON g.sales_rep_id = r2.id AND g.goal_year = :year AND g.goal_month = :month
    WHERE r.id = r2.id
      AND (r.current_bonus_tier, r.goal_progress) IS DISTINCT FROM
          (coalesce(g.bonus_tier_actual, 0), g.signup_progress_percent)
"""


def refresh_yearly_actuals(connection: Connection) -> int:
    """Yearly actuals = the sum of that year's monthly actuals."""
    return connection.execute(text(_YEARLY_ACTUALS)).rowcount


def refresh_rep_rollups(connection: Connection, *, year: int, month: int) -> int:
    """``sales_reps.current_bonus_tier`` and ``goal_progress`` follow the current month."""
    return connection.execute(text(_REP_ROLLUPS), {"year": year, "month": month}).rowcount


def refresh_rollups(connection: Connection, *, year: int, month: int) -> int:
    """``refresh_yearly_actuals`` and ``refresh_rep_rollups`` in one statement (they read the goal
    rows and write different tables). Returns the rows changed."""
    return int(connection.execute(text(f"""
        WITH years AS ({_YEARLY_ACTUALS} RETURNING 1), reps AS ({_REP_ROLLUPS} RETURNING 1)
        SELECT (SELECT count(*) FROM years) + (SELECT count(*) FROM reps)
    """), {"year": year, "month": month}).scalar_one())


# Open goal rows (a read: which of them close is months_to_close's and years_to_close's).
_ACTIVE_PERIODS = text("""
    SELECT 'month' AS kind, id, goal_year, goal_month, status FROM rep_monthly_goals WHERE status = 'active'
    UNION ALL
    SELECT 'year', id, goal_year, NULL, status FROM rep_yearly_goals WHERE status = 'active'
""")


def close_past_periods(connection: Connection, *, year: int, month: int) -> int:
    """Months (and years) that have ended with goals not completed become ``missed``
    (``months_to_close``, ``years_to_close`` decide; the open rows are read in one statement and
    a write is sent only when something closes)."""
    import pandas as pd

    from models.rules.changes import months_to_close, years_to_close

    rows = connection.execute(_ACTIVE_PERIODS).all()
    periods = pd.DataFrame({name: pd.Series([row[i] for row in rows], dtype="object")
                            for i, name in enumerate(("kind", "id", "year", "month", "status"))})
    is_month = (periods["kind"] == "month").to_numpy(dtype=bool)
    months = months_to_close(periods[is_month], year=year, month=month)
    years = years_to_close(periods[~is_month], year=year)
    closed = 0
    if not months.empty:
        closed += connection.execute(text(
            "UPDATE rep_monthly_goals SET status = 'missed' WHERE id = ANY(CAST(:ids AS int[]))"),
            {"ids": months.tolist()}).rowcount
    if not years.empty:
        closed += connection.execute(text(
            "UPDATE rep_yearly_goals SET status = 'missed' WHERE id = ANY(CAST(:ids AS int[]))"),
            {"ids": years.tolist()}).rowcount
    return closed


# Reminders not yet acknowledged, with their month's goal_set_at (a read: which of them are
# acknowledged is reminders_to_acknowledge's).
_UNACKNOWLEDGED_REMINDERS = text("""
    SELECT d.id, d.acknowledged, g.goal_set_at
    FROM goal_deadline_reminders d
    JOIN rep_monthly_goals g
      ON g.sales_rep_id = d.sales_rep_id AND g.goal_year = d.target_year AND g.goal_month = d.target_month
    WHERE NOT d.acknowledged
""")


def acknowledge_reminders(connection: Connection, now: datetime) -> int:
    """Setting a month's goal acknowledges that month's reminders (``reminders_to_acknowledge``
    decides; the reminders not acknowledged yet are read in one statement and a write is sent
    only when one is acknowledged)."""
    from models.rules.reminders import ReminderGoal, reminders_to_acknowledge

    ids = reminders_to_acknowledge(ReminderGoal(*row) for row in connection.execute(_UNACKNOWLEDGED_REMINDERS))
    if not ids:
        return 0
    return connection.execute(text("""
        UPDATE goal_deadline_reminders SET acknowledged = true, acknowledged_at = :now
        WHERE id = ANY(CAST(:ids AS bigint[]))
    """), {"ids": ids, "now": now}).rowcount
