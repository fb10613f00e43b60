"""Input tabs of a large sales org: N reps, M months of goals and actuals, deterministic from a seed.

Pure: no clock, no I/O. Values are what Sheets returns unformatted (int, float,
str, bool), with the irregularities real sheets have: a few revenue cells typed
as text (``$1,234.50``), months typed as names (``Nov``), blank goal cells, some
inactive reps and a handful of bad cells, so the parser's slow paths and the
Sync Errors tab are exercised too.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sync.demo_data import ACTUALS_HEADER, MONTHLY_HEADER, REPS_HEADER, YEARLY_HEADER

FIRST_YEAR = 2024
"""The database refuses goals before this year."""
DEFAULT_NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
TEAMS = ("Enterprise", "Mid-Market", "SMB", "Partners", "EMEA", "APAC", "Public Sector", "Renewals")
TITLES = ("Account Executive", "Senior Account Executive", "Sales Development Rep", "Account Manager")
_FIRST = ("Olivia", "Marcus", "Priya", "Daniel", "Sofia", "James", "Aisha", "Lukas", "Emily", "Noah",
          "Grace", "Tom", "Chen", "Fatima", "Mateo", "Hana", "Ivan", "Zoe", "Omar", "Lena")
_LAST = ("Bennett", "Chen", "Raman", "O'Connor", "Alvarez", "Whitaker", "Mohammed", "Becker", "Nakamura",
         "Fitzgerald", "Okafor", "Henderson", "Rossi", "Kowalski", "Silva", "Tanaka", "Novak", "Haddad")
_MONTH_ABBR = tuple(calendar.month_abbr)

INPUT_TABS = ("Reps", "Monthly Goals", "Yearly Goals", "Actuals")
BAD_CELLS = 5
"""Cells a person got wrong (text in a number column, a broken formula): they go to Sync Errors."""


@dataclass(frozen=True)
class Spec:
    """What to generate."""

    reps: int = 2000
    months: int = 24
    seed: int = 7
    fill_down: int = 0
    """Rows of one Actuals row dragged down (the same key on this many rows; issue 16)."""
    garbage: int = 0
    """Rows of junk appended to Actuals (five bad cells each; issue 16)."""


def cycle_time(months: int) -> datetime:
    """The ``now`` of every benchmark cycle: mid-month, late enough for ``months`` of history since 2024."""
    earliest = (FIRST_YEAR * 12) + months - 1
    year, month = divmod(earliest, 12)
    candidate = datetime(year, month + 1, 15, 10, 0, tzinfo=UTC)
    return max(candidate, DEFAULT_NOW)


def month_range(now: datetime, months: int) -> list[tuple[int, int]]:
    """The ``months`` (year, month) pairs ending with ``now``'s month."""
    index = now.year * 12 + now.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - months + 1, index + 1)]


def generate(spec: Spec, now: datetime) -> dict[str, list[list[object]]]:
    """The four input tabs (header row first) for ``spec``, the current month partly elapsed at ``now``."""
    rng = random.Random(spec.seed)
    months = month_range(now, spec.months)
    current = (now.year, now.month)
    elapsed = now.day / calendar.monthrange(now.year, now.month)[1]
    years = sorted({year for year, _ in months})

    reps: list[list[object]] = [list(REPS_HEADER)]
    yearly: list[list[object]] = [list(YEARLY_HEADER)]
    monthly: list[list[object]] = [list(MONTHLY_HEADER)]
    actuals: list[list[object]] = [list(ACTUALS_HEADER)]
    per_month: dict[tuple[int, int], tuple[list[list[object]], list[list[object]]]] = {
        m: ([], []) for m in months
    }
    for index in range(spec.reps):
        name = f"{_FIRST[index % len(_FIRST)]} {_LAST[(index // len(_FIRST)) % len(_LAST)]} {index:05d}"
        email = f"rep{index:05d}@example.com"
        base_goal = rng.randint(8, 30)
        revenue_per_signup = rng.choice((650, 1200, 1800, 4200))
        active = rng.random() > 0.03
        reps.append([email, name, TEAMS[index % len(TEAMS)], TITLES[index % len(TITLES)],
                     active if rng.random() > 0.5 else ("yes" if active else "no"),
                     base_goal, base_goal * 12])
        for year in years:
            yearly.append([email, year, base_goal * 12, round(base_goal * 12 * revenue_per_signup, -3)])
        skill = rng.uniform(0.7, 1.3)
        for year, month in months:
            goal = max(5, base_goal + rng.randint(-3, 3))
            revenue_goal = int(round(goal * revenue_per_signup, -2))
            share = elapsed if (year, month) == current else 1.0
            signups = round(goal * share * skill * rng.uniform(0.8, 1.2) * 2) / 2
            revenue: object = round(revenue_goal * share * skill * rng.uniform(0.8, 1.2), 2)
            if rng.random() < 0.02:
                revenue = f"${revenue:,.2f}"  # typed as text
            month_cell: object = _MONTH_ABBR[month] if rng.random() < 0.02 else month
            tier_goal: object = rng.randint(1, 4) if rng.random() > 0.1 else None
            goals_row, actual_row = per_month[(year, month)]
            if not ((year, month) == current and rng.random() < 0.05):  # some have not set this month yet
                goals_row.append([email, year, month_cell, goal, revenue_goal, tier_goal])
            actual_row.append([email, year, month_cell, signups, revenue])
    # Kept month by month, like a team that appends rows as it goes.
    for year, month in months:
        goals_rows, actual_rows = per_month[(year, month)]
        monthly.extend(goals_rows)
        actuals.extend(actual_rows)
    _spoil(actuals, rng)
    if spec.fill_down > 1:  # the last row (the current month), dragged down over the rows below it
        actuals.extend(list(actuals[-1]) for _ in range(spec.fill_down - 1))
    actuals.extend([f"junk {i}", "year?", "month?", "lots", "#REF!"] for i in range(spec.garbage))
    return {"Reps": reps, "Monthly Goals": monthly, "Yearly Goals": yearly, "Actuals": actuals}


def _spoil(actuals: list[list[object]], rng: random.Random) -> None:
    """A few bad cells, the kind a person or a broken formula leaves."""
    bad = ["#REF!", "n/a", "-3", "12,5", "#DIV/0!"]
    for number in range(min(BAD_CELLS, len(actuals) - 1)):
        row = actuals[1 + rng.randrange(len(actuals) - 1)]
        row[3 + number % 2] = bad[number % len(bad)]


def changed_actuals(tabs: dict[str, list[list[object]]], fraction: float, *,
                    seed: int = 11) -> list[tuple[int, int, object]]:
    """(0-based row, 0-based column, new value) for ``fraction`` of the Actuals rows: a new Signups value.

    Also applies the change to ``tabs`` so a second call changes the data again.
    """
    rng = random.Random(seed)
    rows = tabs["Actuals"]
    count = max(1, round((len(rows) - 1) * fraction))
    changes: list[tuple[int, int, object]] = []
    for row_index in rng.sample(range(1, len(rows)), count):
        row = rows[row_index]
        old = row[3] if isinstance(row[3], int | float) and not isinstance(row[3], bool) else 0
        new = float(old) + rng.choice((1, 2, 3, 0.5))
        row[3] = new
        changes.append((row_index, 3, new))
    return changes


def row_count(tabs: dict[str, list[list[object]]]) -> int:
    """Data rows in every tab (headers not counted)."""
    return sum(len(rows) - 1 for rows in tabs.values())

