"""Shared helpers for the job tests: an editable xlsx workbook and plain-SQL reads."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from models.settings import Settings
from models.store import Store
from models.values import CycleResult
from sheets.xlsx import XlsxBackend, create_workbook
from sync.cycle import run_cycle

HEADERS = {
    "Reps": ["Email", "Name", "Team", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
    "Monthly Goals": ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    "Yearly Goals": ["Email", "Year", "Signup Goal", "Revenue Goal"],
    "Actuals": ["Email", "Year", "Month", "Signups", "Revenue"],
}


class Book:
    """The input tabs of an xlsx workbook, rewritten whole after each edit (as a rep saving it)."""

    def __init__(self, path: Path, tabs: dict[str, list[list[Any]]]) -> None:
        self.path = path
        self.tabs = {name: [list(HEADERS[name])] for name in HEADERS}
        for name, rows in tabs.items():
            self.tabs[name].extend(copy.deepcopy(rows))
        self.save()

    def save(self) -> None:
        """Write the workbook file."""
        create_workbook(self.path, self.tabs)

    def put(self, tab: str, key: Sequence[Any], row: Sequence[Any]) -> None:
        """Replace the row of ``tab`` whose first cells equal ``key`` (or append it), then save."""
        rows = self.tabs[tab]
        for index, existing in enumerate(rows[1:], start=1):
            if list(existing[:len(key)]) == list(key):
                rows[index] = list(row)
                break
        else:
            rows.append(list(row))
        self.save()

    def cycle(self, settings: Settings, store: Store, now: datetime) -> CycleResult:
        """One sync cycle on this workbook at ``now``; fails the test if the cycle failed."""
        result = run_cycle(settings, store, XlsxBackend(self.path, tabs=settings.sheets.tabs), now)
        assert result.status in {"success", "partial"}, (result.status, result.error, result.problems)
        return result


def rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run a query on its own connection and return plain tuples."""
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def add_reps(store: Store, settings: Settings, now: datetime, reps: Sequence[tuple[str, str, int]]) -> None:
    """Seed active reps ``(email, name, monthly goal)`` and the current month's rows, as a cycle would."""
    local = now.astimezone(settings.tz)
    with store.transaction(now) as tx:
        tx.write_settings(settings)
        tx.connection.execute(text("INSERT INTO sales_reps (email, name, monthly_signup_goal) VALUES (:e, :n, :g)"),
                              [{"e": e, "n": n, "g": g} for e, n, g in reps])
        tx.refresh_derived(settings, now=now, year=local.year, month=local.month)


def set_goal(store: Store, settings: Settings, email: str, now: datetime, signup_goal: int = 10) -> None:
    """Record that ``email`` set this month's goal at ``now`` (what a cycle does on a new goal)."""
    local = now.astimezone(settings.tz)
    with store.transaction(now) as tx:
        tx.connection.execute(text("""
            UPDATE rep_monthly_goals g SET signup_goal = :goal, goal_set_at = :now,
                   set_by_deadline = (:now <= g.deadline)
            FROM sales_reps r
            WHERE r.id = g.sales_rep_id AND r.email = :email AND g.goal_year = :year AND g.goal_month = :month
        """), {"goal": signup_goal, "now": now, "email": email, "year": local.year, "month": local.month})
        tx.refresh_derived(settings, now=now, year=local.year, month=local.month)


def record_actuals(store: Store, settings: Settings, email: str, now: datetime, *, signups: float,
                   revenue: float = 0) -> None:
    """Store this month's actuals for ``email`` and refresh tiers and yearly sums (as a cycle would)."""
    local = now.astimezone(settings.tz)
    with store.transaction(now) as tx:
        tx.connection.execute(text("""
            UPDATE rep_monthly_goals g SET signups_actual = :signups, revenue_actual = :revenue
            FROM sales_reps r
            WHERE r.id = g.sales_rep_id AND r.email = :email AND g.goal_year = :year AND g.goal_month = :month
        """), {"signups": signups, "revenue": revenue, "email": email, "year": local.year, "month": local.month})
        tx.refresh_derived(settings, now=now, year=local.year, month=local.month)
