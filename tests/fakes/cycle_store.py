"""An in-memory ``CycleStore`` (models/ports.py): the cycle's database in a few dicts.

It keeps what the cycle stores with the same pure decisions as the real store (the month
plan of ``models.rules.changes``; blank keeps the value for reps and years), commits or
discards a unit of work as a whole, and can be told to hold the cycle lock or to fail in
one method, so the cycle's own decisions are tested in milliseconds.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from models.errors import LockHeld, StoreError
from models.fingerprints import LastCycle
from models.history import ManagerHistory, closed_months
from models.ports import CycleStore, OutputState, UpsertCounts
from models.rules.changes import (
    CANDIDATE_COLUMNS,
    REP_CANDIDATE_COLUMNS,
    REP_FIELDS,
    LockedEdit,
    MonthRules,
    months_to_close,
    plan_default_months,
    plan_months,
    plan_reps,
)
from models.rules.deadlines import goal_deadline
from models.rules.progress import is_complete, progress_percent
from models.settings import BonusSettings, Settings
from models.values import CycleResult, RepStanding

SYSTEM_USER = uuid.UUID("00000000-0000-0000-0000-00000000feed")
_WHOLE = {"year", "month", "goal_row", "rep_id", "goal_id", "signup_goal", "revenue_goal", "bonus_tier_goal",
          "signups", "revenue", "stored_signup_goal", "stored_revenue_goal", "stored_bonus_tier_goal",
          "stored_signups", "stored_revenue"}


def _value(value: object) -> Any:
    """A frame cell as a plain value (None for NA)."""
    return None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value


def _units(value: object, scale: int) -> int | None:
    plain = _value(value)
    return None if plain is None else round(float(plain) * scale)


@dataclass
class FakeData:
    """Everything the fake stores."""

    reps: dict[str, dict[str, Any]] = field(default_factory=dict)
    months: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)
    years: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    outputs: dict[tuple[str, str], OutputState] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    fingerprints: dict[str, LastCycle] = field(default_factory=dict)
    stored_rows: dict[str, tuple[str, str | None, bytes | None]] = field(default_factory=dict)
    version: int = 0
    """The data version: transactions that wrote (as ``data_changes`` counts them)."""


class FakeCycleTransaction:
    """One unit of work on a copy of the fake's data."""

    def __init__(self, data: FakeData, store: FakeCycleStore) -> None:
        self.data, self._store = data, store

    _WRITES = frozenset({"write_settings", "upsert_reps", "ensure_period_rows", "upsert_months", "upsert_years",
                         "refresh_derived", "save_output_state"})
    wrote = False

    def _call(self, name: str) -> None:
        self._store.statements += 1
        self.wrote = self.wrote or name in self._WRITES
        if name in self._store.fail_in:
            raise StoreError(f"could not complete the database work: {name} failed (fake)")

    def write_settings(self, settings: Settings) -> None:
        self._call("write_settings")

    def system_user(self) -> uuid.UUID:
        self._call("system_user")
        return SYSTEM_USER

    def known_emails(self) -> frozenset[str]:
        self._call("known_emails")
        return frozenset(self.data.reps)

    def upsert_reps(self, frame: pd.DataFrame) -> UpsertCounts:
        self._call("upsert_reps")
        rows = []
        for record in frame.to_dict("records"):
            stored = self.data.reps.get(record["email"])
            row = {"email": record["email"], "rep_id": stored["id"] if stored else None,
                   **{name: _value(record.get(name)) for name in REP_FIELDS}}
            if stored:
                row |= {f"stored_{name}": stored[name] for name in REP_FIELDS}
            rows.append(row)
        whole = {"rep_id", "monthly_signup_goal", "yearly_signup_goal", "stored_monthly_signup_goal",
                 "stored_yearly_signup_goal"}
        plan = plan_reps(pd.DataFrame({column: pd.array([row.get(column) for row in rows],
                                                        dtype="Int64" if column in whole else object)
                                       for column in REP_CANDIDATE_COLUMNS}))
        by_id = {rep["id"]: rep for rep in self.data.reps.values()}
        for update in plan.updates.to_dict("records"):
            by_id[int(update.pop("rep_id"))].update({str(k): _value(v) for k, v in update.items()})
        for insert in plan.inserts.to_dict("records"):
            email = str(insert["email"])
            self.data.reps[email] = {"id": len(self.data.reps) + 1, "email": email,
                                     **{name: _value(insert[name]) for name in REP_FIELDS}}
        return UpsertCounts(len(frame), len(plan.updates) + len(plan.inserts))

    def ensure_period_rows(self, settings: Settings, *, year: int, month: int) -> int:
        self._call("ensure_period_rows")
        missing = [(email, rep) for email, rep in self.data.reps.items()
                   if (email, year, month) not in self.data.months]
        reps = pd.DataFrame({"rep_id": pd.Series([rep["id"] for _, rep in missing], dtype="object"),
                             "is_active": pd.Series([rep["is_active"] for _, rep in missing], dtype="object"),
                             "monthly_signup_goal": pd.Series([rep["monthly_signup_goal"] for _, rep in missing],
                                                              dtype="object")})
        # The product's own decision (plan_default_months), stored in memory.
        plan = plan_default_months(reps, year=year, month=month, deadline_day=settings.goals.deadline_day,
                                   tz=settings.tz)
        emails = {rep["id"]: email for email, rep in missing}
        for row in plan.to_dict("records"):
            self.data.months[(emails[row["rep_id"]], year, month)] = self._month_row(
                signup_goal=row["signup_goal"], deadline=row["deadline"])
        return len(plan)

    def _month_row(self, **values: Any) -> dict[str, Any]:
        row = {"id": len(self.data.months) + 1, "signup_goal": None, "revenue_goal": None, "bonus_tier_goal": None,
               "signups": 0, "revenue": 0, "goal_set_at": None, "goal_set_by": None, "status": "active",
               "bonus_tier": 0}
        return row | values

    def upsert_months(self, frame: pd.DataFrame, *, now: datetime, deadline_day: int, timezone: str,
                      system_user: uuid.UUID, lock_after_deadline: bool,
                      bonus: BonusSettings) -> tuple[UpsertCounts, list[LockedEdit]]:
        self._call("upsert_months")
        rows = []
        by_id = {row["id"]: key for key, row in self.data.months.items()}
        for record in frame.to_dict("records"):
            email, year, month = record["email"], int(record["year"]), int(record["month"])
            rep = self.data.reps.get(email)
            stored = self.data.months.get((email, year, month))
            candidate = {
                "email": email, "year": year, "month": month, "goal_row": _value(record.get("goal_row")),
                "rep_id": rep["id"] if rep else None, "goal_id": stored["id"] if stored else None,
                "signup_goal": _value(record.get("signup_goal")),
                "revenue_goal": _units(record.get("revenue_goal"), 100),
                "bonus_tier_goal": _value(record.get("bonus_tier_goal")),
                "signups": _units(record.get("signups"), 10), "revenue": _units(record.get("revenue"), 100)}
            if stored:
                candidate |= {f"stored_{name}": stored[name] for name in (
                    "signup_goal", "revenue_goal", "bonus_tier_goal", "signups", "revenue", "goal_set_at",
                    "goal_set_by", "deadline")}
            rows.append(candidate)
        candidates = pd.DataFrame({column: pd.array([row.get(column) for row in rows],
                                                    dtype="Int64" if column in _WHOLE else object)
                                   for column in CANDIDATE_COLUMNS})
        rules = MonthRules(deadline_day=deadline_day, tz=ZoneInfo(timezone),
                           lock_after_deadline=lock_after_deadline, bonus=bonus)
        plan = plan_months(candidates, rules=rules, now=now, user=system_user)
        for update in plan.updates.to_dict("records"):
            stored = self.data.months[by_id[int(update.pop("goal_id"))]]
            stored.update({str(name): _value(value) for name, value in update.items()})
        emails = {rep["id"]: email for email, rep in self.data.reps.items()}
        for insert in plan.inserts.to_dict("records"):
            key = (emails[int(insert.pop("rep_id"))], int(insert.pop("year")), int(insert.pop("month")))
            self.data.months[key] = self._month_row(**{str(name): _value(value) for name, value in insert.items()})
        return UpsertCounts(len(frame), len(plan.updates) + len(plan.inserts)), list(plan.locked)

    def upsert_years(self, frame: pd.DataFrame, *, now: datetime, timezone: str,
                     system_user: uuid.UUID) -> UpsertCounts:
        self._call("upsert_years")
        written = 0
        for record in frame.to_dict("records"):
            if record["email"] not in self.data.reps:
                continue
            key = (record["email"], int(record["year"]))
            stored = self.data.years.setdefault(key, {"signup_goal": None, "revenue_goal": None})
            for name in ("signup_goal", "revenue_goal"):
                if _value(record.get(name)) is not None and stored[name] != record[name]:
                    stored[name] = record[name]
                    written += 1
        return UpsertCounts(len(frame), written)

    def refresh_derived(self, settings: Settings, *, now: datetime, year: int, month: int) -> int:
        self._call("refresh_derived")
        added = self.ensure_period_rows(settings, year=year, month=month)
        keys = list(self.data.months)
        rows = pd.DataFrame({"id": range(len(keys)), "year": [key[1] for key in keys],
                             "month": [key[2] for key in keys],
                             "status": [self.data.months[key]["status"] for key in keys]})
        closing = months_to_close(rows, year=year, month=month).tolist()
        for index in closing:
            self.data.months[keys[index]]["status"] = "missed"
        return added + len(closing)

    def standings(self, settings: Settings, *, year: int, month: int) -> list[RepStanding]:
        self._call("standings")
        out = []
        for email, rep in self.data.reps.items():
            if not rep["is_active"]:
                continue
            row = self.data.months.get((email, year, month))
            goal = row["signup_goal"] if row else None
            signups = Decimal(row["signups"]) / 10 if row else Decimal(0)
            revenue_goal = Decimal(row["revenue_goal"]) / 100 if row and row["revenue_goal"] is not None else None
            revenue = Decimal(row["revenue"]) / 100 if row else Decimal(0)
            deadline = row["deadline"] if row else goal_deadline(year, month, settings.goals.deadline_day, settings.tz)
            set_at = row["goal_set_at"] if row else None
            out.append(RepStanding(
                rep_id=rep["id"], name=rep["name"], email=email, team=rep["team"], year=year, month=month,
                has_goal_row=row is not None, signup_goal=goal, signups=signups,
                signup_pct=progress_percent(signups, goal), revenue_goal=revenue_goal, revenue=revenue,
                revenue_pct=progress_percent(revenue, revenue_goal),
                bonus_tier_goal=row["bonus_tier_goal"] if row else None, bonus_tier=0, bonus_amount=Decimal(0),
                bonus_triggered=False, deadline=deadline, goal_set_at=set_at,
                set_by_deadline=set_at is not None and set_at <= deadline,
                status=("completed" if is_complete(signups, goal, revenue, revenue_goal) else "active") if row
                else None,
                ytd_signups=signups, yearly_signup_goal=None, ytd_signup_pct=None, ytd_revenue=revenue,
                yearly_revenue_goal=None, ytd_revenue_pct=None, monthly_signup_target=None, streak=0, trend=()))
        return sorted(out, key=lambda s: (s.team is None, s.team or "", s.name, s.rep_id))

    def manager_history(self, *, year: int, month: int,
                        previous: ManagerHistory | None = None) -> ManagerHistory:
        self._call("manager_history")
        return ManagerHistory(months=closed_months(year, month), rep_months=(), final_ranks=(), daily=())

    def last_cycle_fingerprint(self, spreadsheet: str) -> tuple[LastCycle | None, int]:
        self._call("last_cycle_fingerprint")
        return self.data.fingerprints.get(spreadsheet), self.data.version

    def start_data_version(self, seen: int) -> int:
        return seen

    def save_fingerprint(self, spreadsheet: str, fingerprint: str, *, start: int, result: CycleResult,
                         context: str | None = None, stored_rows: bytes | None = None) -> None:
        self._call("save_fingerprint")
        self.data.fingerprints[spreadsheet] = LastCycle(fingerprint, start + self.wrote, result.status,
                                                        result.rows_read, result.problem_count, result.problems)
        self.data.stored_rows[spreadsheet] = (fingerprint, context, stored_rows)

    def stored_rows(self, spreadsheet: str, *, fingerprint: str, context: str) -> bytes | None:
        self._call("stored_rows")
        kept = self.data.stored_rows.get(spreadsheet)
        return kept[2] if kept is not None and kept[:2] == (fingerprint, context) else None

    def output_state(self, spreadsheet: str) -> dict[str, OutputState]:
        self._call("output_state")
        return {tab: state for (sheet, tab), state in self.data.outputs.items() if sheet == spreadsheet}

    def save_output_state(self, spreadsheet: str, states: dict[str, OutputState], now: datetime) -> None:
        self._call("save_output_state")
        self.data.outputs.update({(spreadsheet, tab): state for tab, state in states.items()})

    def prune_cycle_log(self, now: datetime, *, keep_days: int) -> int:
        self._call("prune_cycle_log")
        if keep_days <= 0:
            return 0
        kept = [row for row in self.data.log if row["started_at"] >= now - timedelta(days=keep_days)]
        pruned, self.data.log[:] = len(self.data.log) - len(kept), kept
        return pruned

    def log_cycle(self, result: CycleResult, *, spreadsheet: str) -> int:
        self._call("log_cycle")
        self.data.log.append({"id": len(self.data.log) + 1, "started_at": result.now, "status": result.status,
                              "spreadsheet": spreadsheet, "rows_read": result.rows_read,
                              "rows_rejected": result.problem_count, "error": result.error,
                              "api_writes": result.api_writes})
        return len(self.data.log)

    def amend_cycle_log(self, log_id: int, result: CycleResult) -> None:
        self._call("amend_cycle_log")
        for row in self.data.log:
            if row["id"] == log_id:
                row["api_writes"] = result.api_writes


class FakeCycleStore:
    """The in-memory store: ``data`` holds what was committed."""

    def __init__(self, *, lock_held: bool = False, fail_in: tuple[str, ...] = ()) -> None:
        self.data = FakeData()
        self.lock_held = lock_held
        self.fail_in = fail_in
        self.statements = 0
        self.commits = 0

    @property
    def statement_count(self) -> int:
        return self.statements

    @contextmanager
    def transaction(self, now: datetime, *, commit: bool = True,
                    cycle_lock: bool = False) -> Iterator[FakeCycleTransaction]:
        if cycle_lock and self.lock_held:
            raise LockHeld("another sync cycle is running on this database; this one was skipped")
        working = copy.deepcopy(self.data)
        transaction = FakeCycleTransaction(working, self)
        yield transaction
        if commit:  # an exception above leaves ``data`` as it was: rolled back
            working.version += transaction.wrote
            self.data = working
            self.commits += 1

    def record_cycle(self, result: CycleResult, *, spreadsheet: str) -> None:
        with self.transaction(result.now) as tx:
            tx.log_cycle(result, spreadsheet=spreadsheet)


def as_cycle_store(store: FakeCycleStore) -> CycleStore:
    """The fake where a ``CycleStore`` is expected (mypy checks that it implements the Protocol)."""
    return store
