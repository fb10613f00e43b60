"""The bonus tier, amount and trigger of stored months are decided in Python now
(``models.rules.tiers.bonus_outcome``, applied by ``models.derived.refresh_bonus_tiers`` to the
distinct inputs read); the SQL that used to decide them (``width_bucket`` over the thresholds)
is kept here as the oracle. On generated goal rows, tier settings and both bases, the rows
written (and their number) equal the old statement's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.derived import refresh_bonus_tiers
from models.settings import BonusSettings, Tier
from tests.profiles import scaled

db_settings = settings(max_examples=scaled(100), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

NAMES = ("Rookie", "Bronze", "Silver", "Gold", "Platinum", "Diamond", "Elite")


@st.composite
def bonus_settings(draw: st.DrawFn) -> BonusSettings:
    basis = draw(st.sampled_from(["signups", "percent"]))
    steps = draw(st.lists(st.decimals(min_value=Decimal("0.1"), max_value=40, places=1), min_size=6, max_size=6))
    thresholds = [Decimal(0)]
    for step in steps:
        thresholds.append(thresholds[-1] + step)
    amounts = draw(st.lists(st.decimals(min_value=0, max_value=2000, places=3), min_size=7, max_size=7))
    return BonusSettings(basis=basis, tiers=tuple(  # type: ignore[arg-type]
        Tier(name=name, threshold=threshold, amount=amount)
        for name, threshold, amount in zip(NAMES, thresholds, amounts, strict=True)))


rows = st.lists(st.fixed_dictionaries({
    "tenths": st.integers(min_value=0, max_value=800),
    "goal": st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
    "tier_goal": st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
    # what the row held before (a stale tier must be rewritten, a right one left alone)
    "stored": st.tuples(st.integers(min_value=0, max_value=6),
                        st.sampled_from([Decimal(0), Decimal(250), Decimal("0.01")]), st.booleans()),
}), max_size=12)


def OLD_REFRESH(bonus: BonusSettings) -> str:  # noqa: N802 - the oracle statement, named in capitals
    basis = "signups_actual" if bonus.basis == "signups" else "coalesce(signup_progress_percent, 0)"
    bucket = f"width_bucket(CAST({basis} AS numeric), CAST(:thresholds AS numeric[]))"
    tier = f"CAST({bucket} - 1 AS smallint)"
    amount = f"(CAST(:amounts AS numeric[]))[{bucket}]"
    triggered = f"({bucket} - 1 >= 1 AND {bucket} - 1 >= coalesce(bonus_tier_goal, 0))"
    return f"""
        UPDATE rep_monthly_goals
        SET bonus_tier_actual = {tier}, bonus_amount = {amount}, bonus_triggered = {triggered}
        WHERE (bonus_tier_actual, bonus_amount, bonus_triggered) IS DISTINCT FROM ({tier}, {amount}, {triggered})
    """


def _outcome(connection: Connection, goal_rows: list[dict[str, Any]], refresh: Any) -> tuple[Any, ...]:
    savepoint = connection.begin_nested()
    try:
        rep = connection.execute(text(
            "INSERT INTO sales_reps (name, email) VALUES ('R', 'r@example.com') RETURNING id")).scalar_one()
        for number, row in enumerate(goal_rows):
            year, month = 2024 + number // 12, number % 12 + 1
            tier, amount, triggered = row["stored"]
            connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, deadline, signup_goal,
                    signups_actual, bonus_tier_goal, bonus_tier_actual, bonus_amount, bonus_triggered)
                VALUES (:rep, :year, :month, make_timestamptz(:year, :month, 7, 0, 0, 0, 'UTC'), :goal,
                        :tenths * 0.1, :tier_goal, :tier, :amount, :triggered)"""),
                {"rep": rep, "year": year, "month": month, "goal": row["goal"], "tenths": row["tenths"],
                 "tier_goal": row["tier_goal"], "tier": tier, "amount": amount, "triggered": triggered})
        changed = refresh()
        stored = connection.execute(text("""
            SELECT goal_year, goal_month, bonus_tier_actual, bonus_amount, bonus_triggered
            FROM rep_monthly_goals ORDER BY 1, 2""")).all()
        return changed, [tuple(row) for row in stored]
    finally:
        savepoint.rollback()


@db_settings
@given(goal_rows=rows, bonus=bonus_settings())
def test_bonus_tiers_equal_the_old_sql(db_connection: Connection, goal_rows: list[dict[str, Any]],
                                       bonus: BonusSettings) -> None:
    params = {"thresholds": [t.threshold for t in bonus.tiers], "amounts": [t.amount for t in bonus.tiers]}
    old = _outcome(db_connection, goal_rows,
                   lambda: db_connection.execute(text(OLD_REFRESH(bonus)), params).rowcount)
    new = _outcome(db_connection, goal_rows, lambda: refresh_bonus_tiers(db_connection, bonus))
    assert old == new
