"""``python -m sync demo``: a sample workbook, a database, one cycle, the Summary in the terminal.

The demo never touches the configured database or spreadsheet: it uses its own
database (``goals_demo`` on the embedded server) and its own workbook
(``var/demo-goals.xlsx``), both recreated on every run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sync.context import Context

DEMO_DATABASE = "goals_demo"
DEMO_WORKBOOK = Path("var/demo-goals.xlsx")


def run_demo(context: Context, _args: argparse.Namespace) -> int:
    """Build the sample workbook and database, run one cycle and print the Summary."""
    from models.embedded import fresh_embedded_url
    from models.engine import make_engine
    from models.rules.periods import local_date
    from models.store import Store
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
        if today.day > 2:
            # Replay the month: the team entered its goals on the 2nd (by the deadline),
            # so the first cycle sees them then; today's cycle brings the actuals.
            run_cycle(settings, store, backend, now.replace(day=2, hour=9, minute=0, second=0, microsecond=0))
        result = run_cycle(settings, store, backend, now)
        print(f"Sync cycle: {result.status} in {result.seconds:.2f} s — {result.rows_read} rows read, "
              f"{result.rows_upserted} rows stored, {len(result.problems)} problems, "
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
        print(f"\nOpen {DEMO_WORKBOOK} to see the Summary, Leaderboard and Sync Errors tabs it wrote.")
        return 0
    finally:
        store.dispose()
