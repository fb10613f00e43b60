"""A known month for the managers' tabs: four reps, two teams and one rep without a team.

Today is Tuesday 10 March 2026 (UTC). March: Ana 6/10, Bo 3/20 (East), Cy 1/10 (West),
Dee 2/5 (no team, goal from the Reps tab, never set). Closed months: January (Ana 5/10)
and February (Ana 10/10, Bo 10/20, Cy 12/10), with February's month-end snapshot. The
5th of March has a daily snapshot (Ana 2, Bo 1, Cy 0, Dee 0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jobs.snapshots import take_snapshots
from models.settings import Settings
from models.store import Store
from sheets.xlsx import XlsxBackend, create_workbook
from sync.cycle import run_cycle

TODAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FIFTH = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)

REPS = [
    ["Email", "Name", "Team", "Monthly Signup Goal", "Manager Email"],
    ["ana@example.com", "Ana", "East", 10, "Mia@Example.com "],
    ["bo@example.com", "Bo", "East", 20, "mia@example.com"],
    ["cy@example.com", "Cy", "West", 10, "max@example.com"],
    ["dee@example.com", "Dee", None, 5, None],
]
MONTHLY = [
    ["Email", "Year", "Month", "Signup Goal"],
    ["ana@example.com", 2026, 1, 10],
    ["ana@example.com", 2026, 2, 10],
    ["bo@example.com", 2026, 2, 20],
    ["cy@example.com", 2026, 2, 10],
    ["ana@example.com", 2026, 3, 10],
    ["bo@example.com", 2026, 3, 20],
    ["cy@example.com", 2026, 3, 10],
]
PAST_ACTUALS = [
    ["ana@example.com", 2026, 1, 5],
    ["ana@example.com", 2026, 2, 10],
    ["bo@example.com", 2026, 2, 10],
    ["cy@example.com", 2026, 2, 12],
]
ON_THE_FIFTH = [["ana@example.com", 2026, 3, 2], ["bo@example.com", 2026, 3, 1]]
ON_THE_TENTH = [["ana@example.com", 2026, 3, 6], ["bo@example.com", 2026, 3, 3],
                ["cy@example.com", 2026, 3, 1], ["dee@example.com", 2026, 3, 2]]


def tabs(actuals: list[list[Any]]) -> dict[str, list[list[Any]]]:
    """The input tabs with these March actuals."""
    return {"Reps": REPS, "Monthly Goals": MONTHLY, "Yearly Goals": [["Email", "Year", "Signup Goal"]],
            "Actuals": [["Email", "Year", "Month", "Signups"], *PAST_ACTUALS, *actuals]}


def build_history(settings: Settings, store: Store, path: Path) -> None:
    """The state before the 10th: a cycle and a snapshot on the 5th, February's month-end snapshot."""
    create_workbook(path, tabs(ON_THE_FIFTH))
    result = run_cycle(settings, store, XlsxBackend(path, tabs=settings.sheets.tabs), FIFTH)
    assert result.status == "success", result
    take_snapshots(store, settings, None, FIFTH, day=date(2026, 2, 28))
    take_snapshots(store, settings, None, FIFTH, day=date(2026, 3, 5))


def known_month(settings: Settings, store: Store, path: Path) -> None:
    """History as above, then the 10th's actuals in the workbook (not yet synced)."""
    build_history(settings, store, path)
    create_workbook(path, tabs(ON_THE_TENTH))
