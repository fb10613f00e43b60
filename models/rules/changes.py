"""What a cycle changes in the goal rows: the decisions of an upsert, as a pure plan.

The database layer hands ``plan_months`` the *candidate* rows (each staged sheet
row beside the goal row it would change, or none) and applies the plan as it is:
it writes the values given here and decides nothing. The rules:

- **A blank cell keeps the stored value**; only a value typed in the sheet changes it.
- **First set**: the first time a Signup Goal or Revenue Goal is seen, the row records
  ``goal_set_at`` (this cycle's time) and ``goal_set_by`` (the syncing account); later
  edits keep them. (``set_by_deadline`` and "lowered after the deadline" are the
  trigger's, from these values: the design document's contract.)
- **Lock** (``goals.lock_after_deadline``): after a month's deadline a goal value it
  holds is frozen; a different value typed later is refused (one ``LockedEdit`` each)
  and the stored one stays. A goal with no value at all may still be set late.
- **New rows**: deadline from ``deadline_day`` in the company time zone; ``missed``
  when the month is already over (the trigger still makes it ``completed`` when its
  goals are met); actuals default to 0; the bonus tier, amount and trigger flag at once.
- A row is written only when one of its values really changes, and then with the bonus
  tier, amount and trigger flag its new values reach (the refresh after the upsert, which
  also follows a change of the tier settings, then leaves it alone).

Numbers travel as whole units so that comparisons are exact and vectorised: goals and
tier goals as they are, signups in tenths, money in cents (``Int64`` columns, NA = blank).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from models.rules.deadlines import goal_deadline
from models.rules.periods import local_date
from models.settings import BonusSettings

GOAL_FIELDS = ("signup_goal", "revenue_goal", "bonus_tier_goal")
"""The goal values of a month (signup and tier goal whole, revenue goal in cents)."""
ACTUAL_FIELDS = ("signups", "revenue")
"""The actuals of a month (signups in tenths, revenue in cents)."""
VALUE_FIELDS = GOAL_FIELDS + ACTUAL_FIELDS
CENTS_FIELDS = frozenset({"revenue_goal", "revenue"})
KEY_COLUMNS = ("email", "year", "month", "goal_row", "rep_id", "goal_id")
STORED_COLUMNS = (*(f"stored_{name}" for name in VALUE_FIELDS),
                  "stored_goal_set_at", "stored_goal_set_by", "stored_deadline")
CANDIDATE_COLUMNS = KEY_COLUMNS + VALUE_FIELDS + STORED_COLUMNS
"""The columns of the frame ``plan_months`` reads: keys (``goal_id`` NA for a row not stored
yet), the staged values, and the stored ones."""

CENT = Decimal("0.01")
PERCENT_CAP_HUNDREDTHS = 9_999_999_999
"""The largest percent the database stores (numeric(10,2): 99,999,999.99), in hundredths."""

BONUS_COLUMNS = ("bonus_tier", "bonus_amount", "bonus_triggered")
UPDATE_COLUMNS = ("goal_id", *VALUE_FIELDS, "goal_set_at", "goal_set_by", *BONUS_COLUMNS)
INSERT_COLUMNS = ("rep_id", "year", "month", *VALUE_FIELDS, "goal_set_at", "goal_set_by", "deadline", "status",
                  *BONUS_COLUMNS)


@dataclass(frozen=True)
class LockedEdit:
    """One goal cell refused because the month's deadline has passed (lock_after_deadline):
    the value typed and the value that stays stored, as the sheet and the database show them."""

    email: str
    year: int
    month: int
    goal_row: int
    field: str
    value: str
    stored: str


@dataclass(frozen=True)
class MonthRules:
    """The settings the month plan follows."""

    deadline_day: int
    tz: ZoneInfo
    lock_after_deadline: bool
    bonus: BonusSettings


@dataclass(frozen=True)
class MonthPlan:
    """The rows to write: ``updates`` (``UPDATE_COLUMNS``, final values of changed stored
    rows), ``inserts`` (``INSERT_COLUMNS``, whole new rows); bonus amounts in cents; and the
    refused cells."""

    updates: pd.DataFrame
    inserts: pd.DataFrame
    locked: tuple[LockedEdit, ...]

    @property
    def empty(self) -> bool:
        """True when nothing is to be written."""
        return self.updates.empty and self.inserts.empty


def plan_months(candidates: pd.DataFrame, *, rules: MonthRules, now: datetime,
                user: uuid.UUID) -> MonthPlan:
    """Decide what storing the staged months changes (see the module docstring).

    ``candidates`` has ``CANDIDATE_COLUMNS``; it may hold rows that change nothing (they are
    left out of the plan), so a caller may pass every staged row or only a narrower set.
    """
    stored = candidates["goal_id"].notna().to_numpy(dtype=bool)
    updates, locked = _plan_updates(candidates[stored], rules=rules, now=now, user=user)
    inserts = _plan_inserts(candidates[~stored], rules=rules, now=now, user=user)
    return MonthPlan(updates, inserts, locked)


def _distinct(new: pd.Series, old: pd.Series) -> np.ndarray:
    """``new IS DISTINCT FROM old``, elementwise (two blanks are the same)."""
    both_blank = new.isna().to_numpy(dtype=bool) & old.isna().to_numpy(dtype=bool)
    equal = (new == old).fillna(False).to_numpy(dtype=bool)
    return ~(equal | both_blank)


def shown_value(field: str, value: int) -> str:
    """A value in whole units as the database shows it (cents as ``1500.00``)."""
    if field in CENTS_FIELDS:
        return f"{value // 100}.{value % 100:02d}"
    return str(value)


def _plan_updates(rows: pd.DataFrame, *, rules: MonthRules, now: datetime,
                  user: uuid.UUID) -> tuple[pd.DataFrame, tuple[LockedEdit, ...]]:
    staged = {name: rows[name] for name in VALUE_FIELDS}
    locked: list[tuple[int, str, LockedEdit]] = []
    if rules.lock_after_deadline and not rows.empty:
        passed = np.array([now > deadline for deadline in rows["stored_deadline"]], dtype=bool)
        for name in GOAL_FIELDS:
            old = rows[f"stored_{name}"]
            refused = passed & (staged[name] != old).fillna(False).to_numpy(dtype=bool)
            hit = rows[refused]
            for email, year, month, goal_row, value, kept in zip(
                    hit["email"].tolist(), hit["year"].tolist(), hit["month"].tolist(), hit["goal_row"].tolist(),
                    hit[name].tolist(), hit[f"stored_{name}"].tolist(), strict=True):
                row_number = 0 if pd.isna(goal_row) else int(goal_row)
                locked.append((row_number, name, LockedEdit(str(email), int(year), int(month), row_number, name,
                                                            shown_value(name, int(value)),
                                                            shown_value(name, int(kept)))))
            staged[name] = staged[name].mask(refused)
    final = {name: staged[name].fillna(rows[f"stored_{name}"]) for name in VALUE_FIELDS}
    first_set = (rows["stored_goal_set_at"].isna().to_numpy(dtype=bool)
                 & (staged["signup_goal"].notna() | staged["revenue_goal"].notna()).to_numpy(dtype=bool))
    changed = first_set.copy()
    for name in VALUE_FIELDS:
        changed |= _distinct(final[name], rows[f"stored_{name}"])
    # The tier the new values reach, written with them: the refresh that follows then finds these
    # rows already right and does not rewrite (and re-trigger) each changed row a second time.
    tier, amount, triggered = bonus_columns(final["signups"], final["signup_goal"], final["bonus_tier_goal"],
                                            rules.bonus)
    plan = pd.DataFrame({"goal_id": rows["goal_id"], **final,
                         "goal_set_at": rows["stored_goal_set_at"].mask(first_set, now),
                         "goal_set_by": rows["stored_goal_set_by"].mask(first_set, user),
                         "bonus_tier": tier, "bonus_amount": amount, "bonus_triggered": triggered})
    locked.sort(key=lambda item: (item[0], item[1]))
    return plan[changed].reset_index(drop=True), tuple(edit for *_, edit in locked)


def _plan_inserts(rows: pd.DataFrame, *, rules: MonthRules, now: datetime, user: uuid.UUID) -> pd.DataFrame:
    rows = rows[rows["rep_id"].notna().to_numpy(dtype=bool)]
    if rows.empty:
        return pd.DataFrame(columns=list(INSERT_COLUMNS))
    today = local_date(now, rules.tz)
    years = rows["year"].to_numpy(dtype=np.int64)
    months = rows["month"].to_numpy(dtype=np.int64)
    month_index = years * 12 + months
    periods = list(zip(years.tolist(), months.tolist(), strict=True))
    # One deadline per month, not per row: a cold cycle inserts tens of thousands of rows.
    deadlines = {period: goal_deadline(*period, rules.deadline_day, rules.tz) for period in set(periods)}
    goal_set = (rows["signup_goal"].notna() | rows["revenue_goal"].notna()).to_numpy(dtype=bool)
    signups = rows["signups"].fillna(0).astype("Int64")
    tier, amount, triggered = bonus_columns(signups, rows["signup_goal"], rows["bonus_tier_goal"], rules.bonus)
    return pd.DataFrame({
        "rep_id": rows["rep_id"], "year": rows["year"], "month": rows["month"],
        "signup_goal": rows["signup_goal"], "revenue_goal": rows["revenue_goal"],
        "bonus_tier_goal": rows["bonus_tier_goal"], "signups": signups,
        "revenue": rows["revenue"].fillna(0).astype("Int64"),
        "goal_set_at": pd.Series([now if is_set else None for is_set in goal_set.tolist()], index=rows.index,
                                 dtype="object"),
        "goal_set_by": pd.Series([user if is_set else None for is_set in goal_set.tolist()], index=rows.index,
                                 dtype="object"),
        "deadline": pd.Series([deadlines[period] for period in periods], index=rows.index,
                              dtype="object"),
        "status": np.where(month_index < today.year * 12 + today.month, "missed", "active"),
        "bonus_tier": tier, "bonus_amount": amount, "bonus_triggered": triggered,
    }).reset_index(drop=True)


def _ceil_units(value: Decimal, scale: int) -> int:
    """The least whole number of ``1/scale`` units that is ≥ ``value`` (exact)."""
    return int((value * scale).to_integral_value(ROUND_CEILING))


def bonus_columns(signups_tenths: pd.Series, signup_goal: pd.Series, tier_goal: pd.Series,
                  bonus: BonusSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tier reached, its amount in cents and the trigger flag per row, vectorised and exact: the
    rule ``tests/oracles.py`` states in plain Python (tier = last threshold ≤ the basis; triggered when the tier is
    ≥ 1 and ≥ the tier goal). On the ``percent`` basis the basis is the truncated progress percent
    (``progress_percent``), 0 without a goal."""
    tenths = signups_tenths.fillna(0).to_numpy(dtype=np.int64)
    if bonus.basis == "signups":
        basis, scale = tenths, 10
    else:
        goal = signup_goal.fillna(0).to_numpy(dtype=np.int64)
        # percent × 100 = floor(signups × 10000 / goal) = floor(tenths × 1000 / goal): integers only
        basis = np.where(goal > 0, (tenths * 1000) // np.maximum(goal, 1), 0)
        basis = np.minimum(basis, PERCENT_CAP_HUNDREDTHS)
        scale = 100
    thresholds = np.array([_ceil_units(tier.threshold, scale) for tier in bonus.tiers], dtype=np.int64)
    tier = np.maximum(np.searchsorted(thresholds, basis, side="right") - 1, 0)
    amounts = np.array([int(tier.amount.quantize(CENT, ROUND_HALF_UP) * 100) for tier in bonus.tiers],
                       dtype=np.int64)
    goal_tier = tier_goal.fillna(0).to_numpy(dtype=np.int64)
    return tier, amounts[tier], (tier >= 1) & (tier >= goal_tier)


# --------------------------------------------------------------------------------------------- reps

REP_FIELDS = ("name", "team", "title", "is_active", "monthly_signup_goal", "yearly_signup_goal", "manager_email")
"""The Reps tab's values (goals whole; the rest text, ``is_active`` a flag)."""
REP_CANDIDATE_COLUMNS = ("email", "rep_id", *REP_FIELDS, *(f"stored_{name}" for name in REP_FIELDS))


@dataclass(frozen=True)
class RowPlan:
    """Rows to write: ``updates`` (final values of changed stored rows, with their id) and
    ``inserts`` (whole new rows)."""

    updates: pd.DataFrame
    inserts: pd.DataFrame

    @property
    def empty(self) -> bool:
        """True when nothing is to be written."""
        return self.updates.empty and self.inserts.empty


def plan_reps(candidates: pd.DataFrame) -> RowPlan:
    """The Reps tab's changes: a blank cell keeps the stored value; a rep is added only with a
    name (active unless the sheet says otherwise); reps missing from the tab are left alone.
    ``candidates`` has ``REP_CANDIDATE_COLUMNS`` (``rep_id`` NA for a rep not stored yet)."""
    stored = candidates["rep_id"].notna().to_numpy(dtype=bool)
    rows = candidates[stored]
    final = {name: rows[name].where(rows[name].notna(), rows[f"stored_{name}"]) for name in REP_FIELDS}
    changed = np.zeros(len(rows), dtype=bool)
    for name in REP_FIELDS:
        changed |= _distinct(final[name], rows[f"stored_{name}"])
    updates = pd.DataFrame({"rep_id": rows["rep_id"], **final})[changed].reset_index(drop=True)
    new = candidates[~stored & candidates["name"].notna().to_numpy(dtype=bool)]
    inserts = pd.DataFrame({"email": new["email"], **{name: new[name] for name in REP_FIELDS}})
    inserts["is_active"] = inserts["is_active"].where(inserts["is_active"].notna(), True)
    return RowPlan(updates, inserts.reset_index(drop=True))


# --------------------------------------------------------------------------------------------- years

YEAR_FIELDS = ("signup_goal", "revenue_goal")
"""The Yearly Goals tab's values (revenue goal in cents)."""
YEAR_CANDIDATE_COLUMNS = ("rep_id", "year_id", "year", *YEAR_FIELDS, *(f"stored_{name}" for name in YEAR_FIELDS),
                          "stored_goal_set_at", "stored_goal_set_by", "month_signups", "month_revenue")
"""``month_signups`` (tenths) and ``month_revenue`` (cents): the sums of a new year row's months."""


def plan_years(candidates: pd.DataFrame, *, now: datetime, tz: ZoneInfo, user: uuid.UUID) -> RowPlan:
    """The Yearly Goals tab's changes: a blank cell keeps the stored value; the first goal seen
    stamps ``goal_set_at``/``goal_set_by``; a new year row starts with its months' sums, and as
    ``missed`` when the year is over. ``candidates`` has ``YEAR_CANDIDATE_COLUMNS``."""
    stored = candidates["year_id"].notna().to_numpy(dtype=bool)
    rows = candidates[stored]
    final = {name: rows[name].where(rows[name].notna(), rows[f"stored_{name}"]) for name in YEAR_FIELDS}
    first_set = (rows["stored_goal_set_at"].isna().to_numpy(dtype=bool)
                 & (rows["signup_goal"].notna() | rows["revenue_goal"].notna()).to_numpy(dtype=bool))
    changed = first_set.copy()
    for name in YEAR_FIELDS:
        changed |= _distinct(final[name], rows[f"stored_{name}"])
    updates = pd.DataFrame({"year_id": rows["year_id"], **final,
                            "goal_set_at": rows["stored_goal_set_at"].mask(first_set, now),
                            "goal_set_by": rows["stored_goal_set_by"].mask(first_set, user)})
    new = candidates[~stored]
    goal_set = (new["signup_goal"].notna() | new["revenue_goal"].notna()).tolist()
    this_year = local_date(now, tz).year
    inserts = pd.DataFrame({
        "rep_id": new["rep_id"], "year": new["year"], **{name: new[name] for name in YEAR_FIELDS},
        "goal_set_at": pd.Series([now if is_set else None for is_set in goal_set], index=new.index, dtype="object"),
        "goal_set_by": pd.Series([user if is_set else None for is_set in goal_set], index=new.index,
                                 dtype="object"),
        "signups": new["month_signups"].fillna(0), "revenue": new["month_revenue"].fillna(0),
        "status": np.where(new["year"].to_numpy(dtype=np.int64) < this_year, "missed", "active"),
    })
    return RowPlan(updates[changed].reset_index(drop=True), inserts.reset_index(drop=True))


# --------------------------------------------------------------------------------------------- period rows

DEFAULT_MONTH_COLUMNS = ("rep_id", "is_active", "monthly_signup_goal")
"""The reps ``plan_default_months`` reads: every rep without a row for the month."""


def plan_default_months(reps: pd.DataFrame, *, year: int, month: int, deadline_day: int,
                        tz: ZoneInfo) -> pd.DataFrame:
    """The month's default goal rows: one for each *active* rep of ``reps`` (reps with no row for
    ``(year, month)``, ``DEFAULT_MONTH_COLUMNS``), its goal the rep's default monthly goal, not
    set by anyone (no ``goal_set_at``), its deadline from ``deadline_day`` in ``tz``.
    Returns ``rep_id``, ``signup_goal`` and ``deadline``."""
    active = reps[reps["is_active"].fillna(False).to_numpy(dtype=bool)]
    deadline = goal_deadline(year, month, deadline_day, tz)
    return pd.DataFrame({"rep_id": active["rep_id"], "signup_goal": active["monthly_signup_goal"],
                         "deadline": pd.Series([deadline] * len(active), index=active.index, dtype="object")
                         }).reset_index(drop=True)


def months_to_close(rows: pd.DataFrame, *, year: int, month: int) -> pd.Series:
    """The ids of the goal rows that become ``missed``: rows (``id``, ``year``, ``month``,
    ``status``) still ``active`` whose month ended before ``(year, month)``, the current month.
    A completed or missed month keeps its status (the trigger may still complete a row whose
    goals are met)."""
    index = rows["year"].to_numpy(dtype=np.int64) * 12 + rows["month"].to_numpy(dtype=np.int64)
    closing = (index < year * 12 + month) & (rows["status"] == "active").to_numpy(dtype=bool)
    return rows["id"][closing].reset_index(drop=True)


def years_to_close(rows: pd.DataFrame, *, year: int) -> pd.Series:
    """The ids of the yearly goal rows (``id``, ``year``, ``status``) that become ``missed``:
    still ``active`` and their year ended before ``year``."""
    closing = (rows["year"].to_numpy(dtype=np.int64) < year) & (rows["status"] == "active").to_numpy(dtype=bool)
    return rows["id"][closing].reset_index(drop=True)


DEFAULT_YEAR_COLUMNS = ("rep_id", "year", "yearly_signup_goal", "signups", "revenue")
"""The (rep, year) pairs ``plan_default_years`` reads: every year a rep has months in and no
year row for, with the rep's default yearly goal and the sums of those months' actuals."""


def plan_default_years(missing: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """The year rows to add (``DEFAULT_YEAR_COLUMNS`` plus ``status``): the goal is the rep's
    default yearly goal, not set by anyone; the actuals start as the sums of the year's months;
    ``missed`` when the year ended before ``year`` (the current one), else ``active``."""
    over = missing["year"].to_numpy(dtype=np.int64) < year
    plan = missing.loc[:, list(DEFAULT_YEAR_COLUMNS)].reset_index(drop=True)
    plan["status"] = np.where(over, "missed", "active")
    return plan
