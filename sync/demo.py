"""``python -m sync demo``: a sample workbook, a database, one cycle, the Summary in the terminal.

The demo never touches the configured database or spreadsheet: it uses its own
database (``goals_demo`` on the embedded server) and its own workbook
(``var/demo-goals.xlsx``), both recreated on every run.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import ExitCode
from sync.context import Context

if TYPE_CHECKING:
    from models.settings import Settings
    from models.store import Store
    from sheets.backend import SpreadsheetBackend

DEMO_DATABASE = "goals_demo"
DEMO_WORKBOOK = Path("var/demo-goals.xlsx")


def _replay_month(settings: Settings, store: Store, backend: SpreadsheetBackend, now: datetime) -> None:
    """Replay the month so far, as a daemon would have lived it: the team entered its goals
    on the 2nd (by the deadline); each evening a cycle brings that day's actuals and each
    midnight the snapshot freezes the day (the Summary's Trend, the Charts tab). The month
    ends of the past year are snapshotted too (the History tab's final leaderboards)."""
    from jobs.snapshots import take_snapshots
    from models.rules.periods import local_date
    from sheets.xlsx import create_workbook
    from sync.cycle import run_cycle
    from sync.demo_data import demo_workbook

    today = local_date(now, settings.tz)
    local = now.astimezone(settings.tz)
    if today.day == 1:  # nothing to replay; the past months still need their month-end snapshots
        create_workbook(DEMO_WORKBOOK, demo_workbook(today))
        run_cycle(settings, store, backend, now)
    for day in range(1, today.day):
        # Only the inputs matter until the last cycle, which writes every output tab to the final file.
        create_workbook(DEMO_WORKBOOK, demo_workbook(today, as_of=day))
        run_cycle(settings, store, backend, local.replace(day=day, hour=9 if day <= 2 else 18, minute=0, second=0,
                                                          microsecond=0))
        if day == 1:
            _month_ends(settings, store, now)
        take_snapshots(store, settings, None, now, day=date(today.year, today.month, day))
    if today.day == 1:
        _month_ends(settings, store, now)


def _month_ends(settings: Settings, store: Store, now: datetime) -> None:
    """The last day of each of the past 12 months, snapshotted (its final leaderboard)."""
    from jobs.snapshots import take_snapshots
    from models.history import closed_months
    from models.rules.periods import days_in_month, local_date

    today = local_date(now, settings.tz)
    for year, month in closed_months(today.year, today.month):
        take_snapshots(store, settings, None, now, day=date(year, month, days_in_month(year, month)))


def run_demo(context: Context, _args: argparse.Namespace) -> int:
    """Build the sample workbook and database, run one cycle and print the Summary."""
    from models.embedded import fresh_embedded_url
    from models.engine import make_engine
    from models.rules.periods import local_date
    from models.store import Store
    from sheets.factory import output_target
    from sheets.xlsx import XlsxBackend, create_workbook
    from sync.cycle import run_cycle
    from sync.demo_data import demo_workbook
    from sync.output_tables import summary_table
    from sync.terminal import summary_for_terminal

    base = context.settings
    settings = base.model_copy(update={
        "sheets": base.sheets.model_copy(update={"backend": "xlsx", "xlsx_path": str(DEMO_WORKBOOK)}),
    })
    now = context.clock.now()
    today = local_date(now, settings.tz)

    DEMO_WORKBOOK.parent.mkdir(parents=True, exist_ok=True)
    create_workbook(DEMO_WORKBOOK, demo_workbook(today))
    print(f"Sample workbook: {DEMO_WORKBOOK} (12 reps, 3 teams, two years of goals and actuals)")
    store = Store(make_engine(fresh_embedded_url(Path(settings.database.data_dir), DEMO_DATABASE)))
    store.upgrade()
    print(f"Database: embedded PostgreSQL, database {DEMO_DATABASE!r} under {settings.database.data_dir}")
    backend = XlsxBackend(DEMO_WORKBOOK, tabs=settings.sheets.tabs)
    try:
        print(f"Replaying {today:%B %Y} day by day (a cycle each evening, a snapshot each midnight)…")
        _replay_month(settings, store, backend, now)
        create_workbook(DEMO_WORKBOOK, demo_workbook(today))
        with store.transaction(now) as tx:  # a new file: every output tab is written again
            tx.forget_output_state(output_target(settings.sheets))
        result = run_cycle(settings, store, backend, now)
        print(f"Sync cycle: {result.status} in {result.seconds:.2f} s — {result.rows_read} rows read, "
              f"{result.rows_upserted} rows stored, {result.problem_count} problems, "
              f"tabs written: {', '.join(result.tabs_written) or 'none'}")
        if result.error:
            print(f"error: {result.error}")
            return result.exit_code
        with store.transaction(now, commit=False) as tx:
            standings = tx.standings(settings, year=today.year, month=today.month)
        table = summary_table(standings, now=now, goals=settings.goals, status=None,
                              tab=settings.sheets.tabs.summary, tz=settings.tz)
        print(f"\nSummary for {today:%B %Y} (day {today.day}):\n")
        print(summary_for_terminal(table))
        print(f"\nOpen {DEMO_WORKBOOK} to see the tabs it wrote: Summary, Leaderboard, Sync Errors, Team, "
              "History and Charts.")
        return ExitCode.OK
    finally:
        store.dispose()
