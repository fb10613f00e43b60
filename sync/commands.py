"""The small commands: ``run --once``, ``status``, ``jobs …``, ``db upgrade``."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TextIO

from models.errors import ExitCode
from models.settings import DEFAULT_SOURCE
from sync.context import Context, Deployment

log = logging.getLogger("sync")


def say(context: Context, text: str, *, file: TextIO | None = None) -> None:
    """Print text that holds what people typed or what a server answered: secrets masked,
    control characters (terminal escape sequences) shown as escapes."""
    from models.redact import mask_secrets, secrets_of
    from sync.terminal import printable

    lines = mask_secrets(text, secrets_of(context.settings)).split("\n")
    print("\n".join(printable(line) for line in lines), file=file or sys.stdout)


def run_once(context: Context, args: argparse.Namespace) -> int:
    """One cycle, then every job that is due (skipped with ``--dry-run``); exit code per SPEC.md."""
    from sync.reuse import CycleMemo
    from sync.turn import run_turn

    now = context.clock.now()
    try:
        # One cycle in this process: nothing of it will be reused, so nothing is kept for reuse.
        result = run_turn(context, now, dry_run=args.dry_run, memo=CycleMemo.single_use()).cycle
        if args.dry_run:
            print(f"Dry run at {now:%Y-%m-%d %H:%M %Z}: nothing was written.")
            for line in result.changes:
                say(context, f"  {line}")
            for problem in result.problems:
                say(context, f"  problem: {problem.cell}: {problem.problem}")
            if result.more_problems:
                say(context, f"  … and {result.more_problems:,} more problems (sheets.max_error_rows lists the "
                             f"first {len(result.problems):,})")
        if result.error:
            say(context, f"error: {result.error}", file=sys.stderr)
        return result.exit_code
    finally:
        context.close()


def show_status(context: Context, _args: argparse.Namespace) -> int:
    """Print the current month per rep, as the Summary tab shows it."""
    from models.rules.periods import local_date
    from sync.output_tables import summary_table
    from sync.terminal import summary_for_terminal

    settings, now = context.settings, context.clock.now()
    today = local_date(now, settings.tz)
    store = context.store()
    try:
        with store.transaction(now, commit=False) as tx:
            standings = tx.standings(settings, year=today.year, month=today.month)
            last = tx.last_cycle()
        table = summary_table(standings, now=now, goals=settings.goals, status=None,
                              tab=settings.sheets.tabs.summary, tz=settings.tz)
        print(f"{today:%B %Y} — {len(standings)} active reps (as of {now:%Y-%m-%d %H:%M %Z})")
        say(context, summary_for_terminal(table))
        if last:
            say(context, f"\nLast sync: {last['started_at']:%Y-%m-%d %H:%M %Z}, {last['status']}, "
                         f"{last['rows_read']} rows read, {last['rows_rejected']} problems"
                         + (f" — {last['error']}" if last["error"] else ""))
        else:
            print("\nNo sync has run yet: python -m sync run --once")
        return ExitCode.OK
    finally:
        context.close()


def run_job(context: Context, args: argparse.Namespace) -> int:
    """Run one scheduled job now (``jobs snapshot|achievements|reminders|notify``)."""
    from jobs.runner import run_job_now

    try:
        return run_job_now(context, args.job, context.clock.now())
    finally:
        context.close()


def db_upgrade(deployment: Deployment, _args: argparse.Namespace) -> int:
    """Apply migrations to every selected source's schema (they also run on every start), then
    rebuild the company roll-up view if the set of sources changed."""
    for context in deployment.contexts:
        store = context.store()
        store.dispose()
        print(f"database is up to date{'' if context.source == DEFAULT_SOURCE else f' (source {context.source})'}")
    deployment.refresh_rollup()
    from models.shared import SharedStore
    from sync.worker import queue_schema

    shared = SharedStore.open(deployment.settings)
    try:
        shared.prepare(queue_schema())
    finally:
        shared.dispose()
    return ExitCode.OK
