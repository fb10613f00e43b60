"""Sample input tabs for ``python -m sync demo``: a believable sales team, deterministic from a seed.

Pure: no clock (``today`` is passed in), no I/O. The tabs carry the SPEC's default
tab names and header texts; the values are what Sheets returns unformatted
(ints, floats, bools), so the demo exercises the same parser as production.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date

FIRST_YEAR = 2024
"""The database refuses goals before this year."""

HISTORY_MONTHS = 24

REPS_HEADER = ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal",
               "Manager Email"]
MONTHLY_HEADER = ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"]
YEARLY_HEADER = ["Email", "Year", "Signup Goal", "Revenue Goal"]
ACTUALS_HEADER = ["Email", "Year", "Month", "Signups", "Revenue"]


@dataclass(frozen=True, slots=True)
class _Team:
    name: str
    base_goal: int
    """Typical monthly signup goal of a rep in this team."""
    revenue_per_signup: int
    manager: str
    """The team's manager (the reps' Manager Email; the weekly digest goes there)."""


_TEAMS = (
    _Team("Enterprise", 11, 4200, "harper.lewis@example.com"),
    _Team("Mid-Market", 18, 1800, "rafael.ortiz@example.com"),
    _Team("SMB", 26, 650, "mei.tanaka@example.com"),
)

# (name, team index, title); four reps per team.
_PEOPLE = (
    ("Olivia Bennett", 0, "Senior Account Executive"),
    ("Marcus Chen", 0, "Account Executive"),
    ("Priya Raman", 0, "Account Executive"),
    ("Daniel O'Connor", 0, "Enterprise Sales Director"),
    ("Sofia Alvarez", 1, "Account Executive"),
    ("James Whitaker", 1, "Senior Account Executive"),
    ("Aisha Mohammed", 1, "Account Executive"),
    ("Lukas Becker", 1, "Account Manager"),
    ("Emily Nakamura", 2, "Sales Development Rep"),
    ("Noah Fitzgerald", 2, "Account Executive"),
    ("Grace Okafor", 2, "Sales Development Rep"),
    ("Tom Henderson", 2, "Account Executive"),
)

_UNSET_THIS_MONTH = 6
"""Index of the rep who has not entered this month's goals yet."""
_INACTIVE = 11
"""Index of the rep who left the company (Active = FALSE), history ending two months ago."""

# This month's performance relative to pace: a spread from well ahead to critical,
# shuffled by the seed so every seed still has reps ahead and behind.
_CURRENT_FORM = (1.45, 1.25, 1.15, 1.08, 1.02, 0.98, 0.93, 0.88, 0.82, 0.7, 0.55, 1.0)


def _email(name: str) -> str:
    first, last = name.lower().replace("'", "").split(" ", 1)
    return f"{first}.{last.replace(' ', '')}@example.com"


def _months(today: date) -> list[tuple[int, int]]:
    """The 24 (year, month) pairs up to today's month, never before January 2024."""
    index = today.year * 12 + today.month - 1
    pairs = [divmod(i, 12) for i in range(index - HISTORY_MONTHS + 1, index + 1)]
    return [(year, month + 1) for year, month in pairs if year >= FIRST_YEAR]


def _half(value: float) -> float:
    """Round to half credit (one decimal, .0 or .5)."""
    return round(value * 2) / 2


def demo_workbook(today: date, *, seed: int = 7, as_of: int | None = None) -> dict[str, list[list[object]]]:
    """The input tabs (Reps, Monthly Goals, Yearly Goals, Actuals) of a 12-rep team up to ``today``.

    Two years of history (never before 2024); the current month is partially
    elapsed, with some reps ahead, some behind, one who has not set this
    month's goals and one inactive rep. Same ``today`` and ``seed``, same workbook.
    ``as_of``: a day of this month before today; this month's actuals are then what
    they were at the end of that day (today's, scaled), for replaying the month.
    """
    if today.year < FIRST_YEAR:
        raise ValueError(f"the demo needs a date in {FIRST_YEAR} or later, got {today.isoformat()}")
    rng = random.Random(seed)
    months = _months(today)
    current = (today.year, today.month)
    elapsed = today.day / calendar.monthrange(today.year, today.month)[1]
    form = list(_CURRENT_FORM)
    rng.shuffle(form)

    reps: list[list[object]] = [list(REPS_HEADER)]
    monthly: list[list[object]] = [list(MONTHLY_HEADER)]
    yearly: list[list[object]] = [list(YEARLY_HEADER)]
    actuals: list[list[object]] = [list(ACTUALS_HEADER)]
    yearly_rows: list[tuple[int, int, list[object]]] = []
    monthly_rows: list[tuple[int, int, int, list[object]]] = []
    actual_rows: list[tuple[int, int, int, list[object]]] = []

    for index, (name, team_index, title) in enumerate(_PEOPLE):
        team = _TEAMS[team_index]
        email = _email(name)
        active = index != _INACTIVE
        base_goal = max(10, min(30, team.base_goal + rng.randint(-2, 3)))
        skill = rng.uniform(0.85, 1.15)
        reps.append([email, name, team.name, title, active, base_goal, base_goal * 12, team.manager])

        rep_months = months if active else months[:-2]
        for year in sorted({year for year, _ in rep_months}):
            yearly_rows.append((year, index, [email, year, base_goal * 12,
                                              round(base_goal * 12 * team.revenue_per_signup, -3)]))
        for year, month in rep_months:
            signup_goal = max(10, min(30, base_goal + rng.randint(-2, 3)))
            revenue_goal = int(round(signup_goal * team.revenue_per_signup, -2))
            tier_goal = rng.randint(1, 4)
            # Past months end near the rep's usual level; this month is only partly elapsed.
            share = elapsed * form[index] if (year, month) == current else skill * rng.uniform(0.75, 1.25)
            signups = _half(signup_goal * share * rng.uniform(0.95, 1.05))
            revenue = round(revenue_goal * share * rng.uniform(0.9, 1.1) + rng.random(), 2)
            if (year, month) == current and as_of is not None:
                signups, revenue = _half(signups * as_of / today.day), round(revenue * as_of / today.day, 2)
            if not ((year, month) == current and index == _UNSET_THIS_MONTH):
                monthly_rows.append((year, month, index,
                                     [email, year, month, signup_goal, revenue_goal, tier_goal]))
            actual_rows.append((year, month, index, [email, year, month, signups, revenue]))

    # Sheets are kept month by month, like a team that adds rows as it goes.
    monthly.extend(row for *_, row in sorted(monthly_rows, key=lambda item: item[:3]))
    actuals.extend(row for *_, row in sorted(actual_rows, key=lambda item: item[:3]))
    yearly.extend(row for *_, row in sorted(yearly_rows, key=lambda item: item[:2]))
    return {"Reps": reps, "Monthly Goals": monthly, "Yearly Goals": yearly, "Actuals": actuals}
