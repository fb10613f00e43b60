"""The month plan (``models.rules.changes``): what storing a sheet changes, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from models.rules.changes import (
    CANDIDATE_COLUMNS,
    REP_CANDIDATE_COLUMNS,
    YEAR_CANDIDATE_COLUMNS,
    MonthRules,
    bonus_columns,
    months_to_close,
    plan_default_months,
    plan_months,
    plan_reps,
    plan_years,
    years_to_close,
)
from models.rules.deadlines import goal_deadline
from models.settings import DEFAULT_TIERS, BonusSettings, Tier

USER = uuid.UUID("00000000-0000-0000-0000-000000000001")
EARLIER = datetime(2026, 10, 2, 9, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 7, tzinfo=UTC)
BEFORE = datetime(2026, 11, 3, 9, tzinfo=UTC)
AFTER = datetime(2026, 11, 20, 9, tzinfo=UTC)
RULES = MonthRules(deadline_day=6, tz=ZoneInfo("UTC"), lock_after_deadline=False, bonus=BonusSettings())
LOCKED = MonthRules(deadline_day=6, tz=ZoneInfo("UTC"), lock_after_deadline=True, bonus=BonusSettings())
WHOLE = {"year", "month", "goal_row", "rep_id", "goal_id", "signup_goal", "revenue_goal", "bonus_tier_goal",
         "signups", "revenue", "stored_signup_goal", "stored_revenue_goal", "stored_bonus_tier_goal",
         "stored_signups", "stored_revenue"}


def candidates(*rows: dict[str, Any]) -> pd.DataFrame:
    """Candidate rows as the database hands them over: unspecified values blank; a stored row
    (``goal_id``) defaults to November 2026 with actuals 0 and the default deadline."""
    filled = []
    for number, row in enumerate(rows):
        base: dict[str, Any] = {"email": "ann@example.com", "year": 2026, "month": 11, "goal_row": number + 2,
                                "rep_id": 1}
        if row.get("goal_id") is not None:
            base |= {"stored_signups": 0, "stored_revenue": 0, "stored_deadline": DEADLINE}
        filled.append(base | row)
    return pd.DataFrame({column: pd.array([row.get(column) for row in filled],
                                          dtype="Int64" if column in WHOLE else object)
                         for column in CANDIDATE_COLUMNS})


def test_a_blank_cell_keeps_the_stored_value_and_zero_sets_zero():
    plan = plan_months(candidates(
        {"goal_id": 10, "stored_signup_goal": 12, "stored_goal_set_at": EARLIER, "stored_goal_set_by": USER,
         "signups": 55},
        {"goal_id": 11, "stored_signup_goal": 12, "stored_goal_set_at": EARLIER, "stored_goal_set_by": USER,
         "signup_goal": 0},
    ), rules=RULES, now=AFTER, user=USER)
    updates = plan.updates.set_index("goal_id")
    assert updates.loc[10, "signup_goal"] == 12 and updates.loc[10, "signups"] == 55
    assert updates.loc[11, "signup_goal"] == 0
    assert plan.inserts.empty and plan.locked == ()


def test_an_unchanged_row_is_not_written():
    plan = plan_months(candidates(
        {"goal_id": 10, "stored_signup_goal": 12, "signup_goal": 12, "stored_goal_set_at": EARLIER,
         "stored_goal_set_by": USER, "signups": 0},
    ), rules=RULES, now=AFTER, user=USER)
    assert plan.empty


def test_the_first_goal_seen_stamps_the_row_once():
    default_row = {"goal_id": 10, "stored_signup_goal": 12}
    plan = plan_months(candidates(default_row | {"signup_goal": 12}), rules=RULES, now=BEFORE, user=USER)
    assert plan.updates.loc[0, "goal_set_at"] == BEFORE and plan.updates.loc[0, "goal_set_by"] == USER
    # An actual alone sets no goal; a later edit keeps the first stamp.
    plan = plan_months(candidates(default_row | {"signups": 3}), rules=RULES, now=BEFORE, user=USER)
    assert pd.isna(plan.updates.loc[0, "goal_set_at"])
    stamped = default_row | {"stored_goal_set_at": EARLIER, "stored_goal_set_by": USER}
    plan = plan_months(candidates(stamped | {"signup_goal": 20}), rules=RULES, now=AFTER, user=USER)
    assert plan.updates.loc[0, "goal_set_at"] == EARLIER and plan.updates.loc[0, "signup_goal"] == 20


def test_the_lock_refuses_a_changed_goal_after_the_deadline_and_names_it():
    stored = {"goal_id": 10, "stored_signup_goal": 12, "stored_revenue_goal": 150_000,
              "stored_goal_set_at": EARLIER, "stored_goal_set_by": USER}
    edit = stored | {"signup_goal": 9, "revenue_goal": 200_050, "signups": 4}
    plan = plan_months(candidates(edit), rules=LOCKED, now=AFTER, user=USER)
    assert [(e.field, e.value, e.stored, e.goal_row) for e in plan.locked] == [
        ("revenue_goal", "2000.50", "1500.00", 2), ("signup_goal", "9", "12", 2)]
    row = plan.updates.loc[0]
    assert (row["signup_goal"], row["revenue_goal"], row["signups"]) == (12, 150_000, 4)
    # Before the deadline, or without the lock, the same edit goes through.
    for rules, now in ((LOCKED, BEFORE), (RULES, AFTER)):
        plan = plan_months(candidates(edit), rules=rules, now=now, user=USER)
        assert plan.locked == () and plan.updates.loc[0, "signup_goal"] == 9


def test_the_lock_lets_a_goal_without_any_value_be_set_late():
    plan = plan_months(candidates({"goal_id": 10, "revenue_goal": 50_000}), rules=LOCKED, now=AFTER, user=USER)
    assert plan.locked == ()
    assert plan.updates.loc[0, "revenue_goal"] == 50_000 and plan.updates.loc[0, "goal_set_at"] == AFTER


def test_new_rows_get_their_deadline_status_actuals_and_bonus_at_once():
    plan = plan_months(candidates(
        {"year": 2026, "month": 9, "signup_goal": 10, "signups": 160},   # 16 signups: Gold, over
        {"year": 2026, "month": 11, "signups": None},                    # this month, nothing typed
        {"year": 2026, "month": 12, "rep_id": None, "signup_goal": 5},   # an unknown rep: skipped
    ), rules=RULES, now=AFTER, user=USER)
    rows = plan.inserts.set_index("month")
    assert list(rows.index) == [9, 11]
    september, november = rows.loc[9], rows.loc[11]
    assert september["deadline"] == datetime(2026, 9, 7, tzinfo=ZoneInfo("UTC"))
    assert (september["status"], september["goal_set_at"], september["goal_set_by"]) == ("missed", AFTER, USER)
    assert (september["bonus_tier"], september["bonus_amount"], september["bonus_triggered"]) == (3, 50_000, True)
    assert (november["status"], november["signups"], november["revenue"]) == ("active", 0, 0)
    assert november["goal_set_at"] is None and november["bonus_tier"] == 0


def test_a_changed_row_is_written_with_the_bonus_its_new_values_reach():
    stamped = {"stored_signup_goal": 10, "stored_goal_set_at": EARLIER, "stored_goal_set_by": USER}
    plan = plan_months(candidates(
        stamped | {"goal_id": 10, "stored_signups": 90, "signups": 160},                # 9 -> 16 signups: Gold
        stamped | {"goal_id": 11, "stored_signups": 160, "signups": 20},               # corrected down: none
        stamped | {"goal_id": 12, "stored_signups": 160, "bonus_tier_goal": 4},        # tier goal above Gold
    ), rules=RULES, now=AFTER, user=USER)
    bonus = plan.updates.set_index("goal_id")[["bonus_tier", "bonus_amount", "bonus_triggered"]]
    assert [tuple(row) for row in bonus.itertuples(index=False)] == [(3, 50_000, True), (0, 0, False),
                                                                     (3, 50_000, False)]


def test_the_deadline_follows_the_company_time_zone():
    rules = MonthRules(deadline_day=6, tz=ZoneInfo("America/New_York"), lock_after_deadline=False,
                       bonus=BonusSettings())
    plan = plan_months(candidates({"signup_goal": 3}), rules=rules, now=AFTER, user=USER)
    assert plan.inserts.loc[0, "deadline"] == datetime(2026, 11, 7, 5, tzinfo=UTC)


PERCENT = BonusSettings(basis="percent", tiers=tuple(
    Tier(name=str(n), threshold=Decimal(t), amount=Decimal(a))
    for n, (t, a) in enumerate([(0, 0), ("33.33", 10), (50, 20), ("66.67", 30), (100, "40.5"), (110, 50),
                                (150, 60)])))


def _oracle(signups: Decimal, goal: int | None, tier_goal: int | None, bonus: BonusSettings) -> tuple[int, int, bool]:
    """Tier by plain Decimal comparison with the truncated percent (the rule of tests/oracles.py)."""
    percent = (signups * 10000 // goal) / Decimal(100) if goal else Decimal(0)
    basis = signups if bonus.basis == "signups" else percent
    tier = max(i for i, t in enumerate(bonus.tiers) if basis >= t.threshold)
    return tier, int(bonus.tiers[tier].amount * 100), tier >= 1 and tier >= (tier_goal or 0)


@given(st.lists(st.tuples(st.integers(0, 1_000_000), st.one_of(st.none(), st.integers(0, 300)),
                          st.one_of(st.none(), st.integers(0, 6))), min_size=1, max_size=30),
       st.sampled_from([BonusSettings(), BonusSettings(basis="percent"), PERCENT,
                        BonusSettings(tiers=DEFAULT_TIERS)]))
def test_vectorised_bonus_equals_the_tier_rule(rows, bonus):
    tenths = pd.array([r[0] for r in rows], dtype="Int64")
    goals = pd.array([r[1] for r in rows], dtype="Int64")
    tier_goals = pd.array([r[2] for r in rows], dtype="Int64")
    tier, amount, triggered = bonus_columns(pd.Series(tenths), pd.Series(goals), pd.Series(tier_goals), bonus)
    expected = [_oracle(Decimal(t) / 10, g, tg, bonus) for t, g, tg in rows]
    assert list(zip(tier.tolist(), amount.tolist(), triggered.tolist(), strict=True)) == expected


def _frame(columns: tuple[str, ...], whole: set[str], *rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.array([r.get(c) for r in rows], dtype="Int64" if c in whole else object)
                         for c in columns})


REP_WHOLE = {"rep_id", "monthly_signup_goal", "yearly_signup_goal", "stored_monthly_signup_goal",
             "stored_yearly_signup_goal"}


def test_reps_keep_stored_values_for_blank_cells_and_need_a_name_to_be_added():
    stored = {"stored_name": "Ann", "stored_team": "East", "stored_is_active": True, "stored_monthly_signup_goal": 10}
    plan = plan_reps(_frame(REP_CANDIDATE_COLUMNS, REP_WHOLE,
                            {"email": "ann@example.com", "rep_id": 1, **stored, "team": "West"},
                            {"email": "bo@example.com", "rep_id": 2, **stored, "name": "Ann", "is_active": True},
                            {"email": "cy@example.com", "name": "Cy", "monthly_signup_goal": 8},
                            {"email": "dee@example.com", "team": "East"}))
    assert plan.updates.to_dict("records") == [
        {"rep_id": 1, "name": "Ann", "team": "West", "title": None, "is_active": True, "monthly_signup_goal": 10,
         "yearly_signup_goal": None, "manager_email": None}]
    assert plan.inserts[["email", "name", "is_active"]].values.tolist() == [["cy@example.com", "Cy", True]]


YEAR_WHOLE = {"rep_id", "year_id", "year", "signup_goal", "revenue_goal", "stored_signup_goal", "stored_revenue_goal",
              "month_signups", "month_revenue"}


def test_years_stamp_the_first_goal_and_new_rows_start_with_their_months():
    plan = plan_years(_frame(YEAR_CANDIDATE_COLUMNS, YEAR_WHOLE,
                             {"rep_id": 1, "year_id": 5, "year": 2026, "stored_signup_goal": 100, "signup_goal": 100},
                             {"rep_id": 1, "year_id": 6, "year": 2026, "stored_signup_goal": 100,
                              "stored_goal_set_at": EARLIER, "revenue_goal": 900_000},
                             {"rep_id": 2, "year": 2025, "month_signups": 125, "month_revenue": 5_000},
                             {"rep_id": 3, "year": 2026, "signup_goal": 50}),
                      now=AFTER, tz=ZoneInfo("UTC"), user=USER)
    updates = plan.updates.set_index("year_id")
    assert (updates.loc[5, "goal_set_at"], updates.loc[5, "signup_goal"]) == (AFTER, 100)
    assert (updates.loc[6, "goal_set_at"], updates.loc[6, "revenue_goal"]) == (EARLIER, 900_000)
    inserts = plan.inserts.set_index("rep_id")
    assert (inserts.loc[2, "status"], inserts.loc[2, "signups"], inserts.loc[2, "goal_set_at"]) == ("missed", 125, None)
    assert (inserts.loc[3, "status"], inserts.loc[3, "signups"], inserts.loc[3, "goal_set_by"]) == ("active", 0, USER)


maybe_goal = st.one_of(st.none(), st.integers(0, 50))


@given(st.lists(st.fixed_dictionaries({
    "signup_goal": maybe_goal, "revenue_goal": maybe_goal, "bonus_tier_goal": st.one_of(st.none(), st.integers(0, 6)),
    "signups": maybe_goal, "revenue": maybe_goal, "stored_signup_goal": maybe_goal, "stored_revenue_goal": maybe_goal,
    "stored_bonus_tier_goal": st.one_of(st.none(), st.integers(0, 6)), "stored_signups": st.integers(0, 50),
    "stored_revenue": st.integers(0, 50), "set": st.booleans(),
}), min_size=1, max_size=20))
def test_rows_the_database_does_not_read_back_would_change_nothing(rows):
    """``upserts._MONTH_CANDIDATES`` reads only stored rows where a typed value differs from the
    stored one, or a goal is typed on a row never set: a narrowing, never a rule. The plan,
    given every other stored row, changes nothing and refuses nothing."""
    skipped = []
    for number, row in enumerate(rows):
        differs = any(row[f] is not None and row[f] != row[f"stored_{f}"] for f in
                      ("signup_goal", "revenue_goal", "bonus_tier_goal", "signups", "revenue"))
        never_set = not row["set"] and (row["signup_goal"] is not None or row["revenue_goal"] is not None)
        if not (differs or never_set):
            skipped.append({k: v for k, v in row.items() if k != "set"}
                           | {"goal_id": number + 1, "stored_goal_set_at": EARLIER if row["set"] else None,
                              "stored_goal_set_by": USER if row["set"] else None})
    if not skipped:
        return
    for rules, now in ((LOCKED, AFTER), (RULES, BEFORE)):
        plan = plan_months(candidates(*skipped), rules=rules, now=now, user=USER)
        assert plan.empty and plan.locked == ()


# --------------------------------------------------------------------------------------------- period rows

def test_a_past_active_month_closes_and_a_completed_one_or_the_current_one_does_not() -> None:
    rows = pd.DataFrame({"id": [1, 2, 3, 4, 5], "year": [2026, 2026, 2026, 2025, 2026],
                         "month": [10, 10, 11, 12, 12], "status": ["active", "completed", "active", "active",
                                                                    "active"]})
    assert months_to_close(rows, year=2026, month=11).tolist() == [1, 4]
    years = pd.DataFrame({"id": [1, 2, 3], "year": [2025, 2025, 2026], "status": ["active", "missed", "active"]})
    assert years_to_close(years, year=2026).tolist() == [1]


def test_only_active_reps_get_a_default_month_row_with_their_default_goal_and_the_deadline() -> None:
    reps = pd.DataFrame({"rep_id": pd.Series([7, 8, 9], dtype="object"),
                         "is_active": pd.Series([True, False, True], dtype="object"),
                         "monthly_signup_goal": pd.Series([12, 5, None], dtype="object")})
    tz = ZoneInfo("America/New_York")
    plan = plan_default_months(reps, year=2026, month=11, deadline_day=6, tz=tz)
    assert plan["rep_id"].tolist() == [7, 9]
    assert plan["signup_goal"].tolist() == [12, None]
    assert set(plan["deadline"]) == {goal_deadline(2026, 11, 6, tz)}
