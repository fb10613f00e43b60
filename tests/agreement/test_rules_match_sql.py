"""The pure rules and the SQL that applies them set-based must never disagree.

The Summary's Pace comes from ``models.rules.pace``; the view's
``health_status`` from ``goals_pace_indicator``; bonus tiers are written by
``models.derived.refresh_bonus_tiers``. These property tests run both on the
same random inputs against the real database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from models.derived import refresh_bonus_tiers
from models.migrate import write_app_settings
from models.rules.pace import expected_fraction, pace
from models.settings import BonusSettings, Settings
from tests.oracles import bonus_outcome
from tests.profiles import scaled

percents = st.one_of(st.none(), st.decimals(min_value=0, max_value=400, places=2))
goals = st.one_of(st.none(), st.integers(min_value=0, max_value=40))
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
db_settings = settings(max_examples=scaled(150), deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])


@db_settings
@given(signup_pct=percents, signup_goal=goals, revenue_pct=percents, revenue_goal=goals, today=days,
       calendar=st.sampled_from(["calendar", "business"]))
def test_pace_indicator_in_sql_equals_the_rule(db_connection: Connection, signup_pct: Decimal | None,
                                               signup_goal: int | None, revenue_pct: Decimal | None,
                                               revenue_goal: int | None, today: date, calendar: str) -> None:
    config = Settings.model_validate({"goals": {"pace": {"calendar": calendar,
                                                         "holidays": [date(2026, 12, 25), date(2027, 1, 1)]}}})
    write_app_settings(db_connection, config)
    in_sql = db_connection.execute(
        text("SELECT goals_pace_indicator(:sp, :sg, :rp, :rg, :d)"),
        {"sp": signup_pct, "sg": signup_goal, "rp": revenue_pct, "rg": revenue_goal, "d": today},
    ).scalar()
    expected = expected_fraction(today, calendar, config.goals.pace.holidays)
    in_python = pace(signup_pct, signup_goal, revenue_pct, revenue_goal, expected=expected,
                     settings=config.goals.pace).indicator
    assert in_sql == in_python


@db_settings
@given(signups=st.decimals(min_value=0, max_value=60, places=1), signup_goal=goals,
       tier_goal=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
       basis=st.sampled_from(["signups", "percent"]))
def test_bonus_tiers_in_sql_equal_the_rule(db_connection: Connection, signups: Decimal, signup_goal: int | None,
                                           tier_goal: int | None, basis: str) -> None:
    bonus = BonusSettings(basis=basis)  # type: ignore[arg-type]
    savepoint = db_connection.begin_nested()
    rep = db_connection.execute(text(
        "INSERT INTO sales_reps (name, email) VALUES ('T', 't@example.com') RETURNING id")).scalar_one()
    goal_id = db_connection.execute(text("""
        INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, signups_actual,
                                       bonus_tier_goal, deadline)
        VALUES (:rep, 2026, 11, :goal, :signups, :tier_goal, '2026-11-07') RETURNING id
    """), {"rep": rep, "goal": signup_goal, "signups": signups, "tier_goal": tier_goal}).scalar_one()
    refresh_bonus_tiers(db_connection, bonus)
    row = db_connection.execute(text(
        "SELECT signup_progress_percent, bonus_tier_actual, bonus_amount, bonus_triggered "
        "FROM rep_monthly_goals WHERE id = :id"), {"id": goal_id}).one()
    savepoint.rollback()
    outcome = bonus_outcome(signups, row.signup_progress_percent, tier_goal, bonus)
    assert (row.bonus_tier_actual, row.bonus_amount, row.bonus_triggered) == (
        outcome.tier, outcome.amount, outcome.triggered)
