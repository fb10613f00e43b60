"""``python -m sync``: parse the command line and run one command.

Heavy modules (pandas, SQLAlchemy, gspread) are imported inside the command
handlers so that start-up stays fast and ``--help`` needs none of them.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import ExitCode, GoalsSyncError

if TYPE_CHECKING:
    from sync.context import Deployment

DEFAULT_CONFIG = "config.yaml"

log = logging.getLogger("sync")


def _prog() -> str:
    """``goals-sync`` when run as the installed console script, else ``python -m sync``."""
    return "goals-sync" if Path(sys.argv[0]).name == "goals-sync" else "python -m sync"


def _port(text: str) -> int:
    """A TCP port number, 1-65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=None, metavar="PATH",
                        help=f"config file (default: ./{DEFAULT_CONFIG})")
    common.add_argument("--now", metavar="ISO-8601",
                        help="pretend the clock reads this (no offset: company time zone)")
    common.add_argument("--clock-rate", type=float, default=1.0, metavar="N",
                        help="with --now: the pretend clock runs N times as fast (tests and backfills only; "
                             "poll intervals stay real seconds)")
    common.add_argument("--clock-origin", metavar="ISO-8601",
                        help="with --now: the real moment the pretend clock read --now (processes given the "
                             "same --now, rate and origin share one pretend clock)")
    common.add_argument("--source", action="append", metavar="NAME",
                        help="work on this source only (repeat for several; default: every source)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of SPEC.md."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Sync sales goals and actuals between a spreadsheet and PostgreSQL.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="the daemon (or one cycle with --once)")
    run.add_argument("--once", action="store_true", help="one cycle plus any due job, then exit (for cron)")
    run.add_argument("--dry-run", action="store_true", help="read and compute, print changes, write nothing")
    run.add_argument("--metrics-port", type=_port, metavar="PORT",
                     help="serve Prometheus /metrics and /healthz on this port (config: metrics.port)")

    worker = commands.add_parser("worker", parents=[common],
                                 help="a Procrastinate worker: run several, on several machines")
    worker.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="tasks this worker runs at once (default 1; one per core is plenty)")
    worker.add_argument("--name", metavar="NAME", help="worker name in logs (default: host-pid)")
    worker.add_argument("--metrics-port", type=_port, metavar="PORT",
                        help="serve Prometheus /metrics (labelled by source) and /healthz (config: metrics.port)")

    commands.add_parser("demo", parents=[common], help="sample workbook + database + one cycle, print Summary")
    commands.add_parser("check", parents=[common], help="validate config, database, spreadsheet, tabs, headers")
    commands.add_parser("status", parents=[common], help="the current month per rep in the terminal")

    jobs = commands.add_parser("jobs", help="run one scheduled job now")
    job_names = jobs.add_subparsers(dest="job", required=True, metavar="JOB")
    for name, text in [("snapshot", "progress and leaderboard snapshots due now"),
                       ("achievements", "detect and record achievements"),
                       ("reminders", "create this month's reminders and send the due ones"),
                       ("notify", "send pending achievement announcements"),
                       ("pace_alerts", "email reps who turned critical (notifications.pace_alerts)"),
                       ("digest", "send this week's digest to managers and team channels")]:
        job_names.add_parser(name, parents=[common], help=text)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", parents=[common], help="apply migrations")
    return parser


# Exit codes from least to most serious: with several sources a command exits with the most
# serious of theirs. Skipped because another process holds the lock (75) is benign: the work is
# being done; rejected input (3) needs a person; a failed cycle (1) is worse; bad usage (2) worst.
_SEVERITY = (ExitCode.OK, ExitCode.LOCKED, ExitCode.REJECTED_INPUT, ExitCode.FAILED, ExitCode.USAGE)


def worst_exit_code(codes: Sequence[int]) -> int:
    """The most serious of the sources' exit codes (an unknown code counts as a failure)."""
    def rank(code: int) -> int:
        return _SEVERITY.index(code) if code in _SEVERITY else _SEVERITY.index(ExitCode.FAILED)
    return max(codes, key=rank, default=ExitCode.OK)


def _per_source(args: argparse.Namespace) -> Callable[..., int]:
    """The handler of a command that runs once per source: ``run --once``, check, status, jobs."""
    # Imported here so each command loads only what it uses.
    if args.command == "run":
        from sync.commands import run_once
        return run_once
    if args.command == "check":
        from sync.check import run_check
        return run_check
    if args.command == "status":
        from sync.commands import show_status
        return show_status
    from sync.commands import run_job
    return run_job


def _run(deployment: Deployment, args: argparse.Namespace) -> int:
    if args.command == "demo":
        from sync.demo import run_demo
        return run_demo(deployment.contexts[0], args)
    if args.command == "run" and not args.once:
        from sync.daemon import run_daemon
        return run_daemon(deployment, args)
    if args.command == "worker":
        from sync.worker import run_worker
        return run_worker(deployment, args)
    if args.command == "db":
        from sync.commands import db_upgrade
        return db_upgrade(deployment, args)
    handler = _per_source(args)
    codes = []
    for context in deployment.contexts:
        if deployment.many:
            print(f"== source {context.source} ==", flush=True)
        try:
            codes.append(handler(context, args))
        except GoalsSyncError as error:  # one source failing does not stop the others
            print(f"error: {error}", file=sys.stderr)
            codes.append(error.exit_code)
    if args.command == "run" and not args.dry_run:
        deployment.refresh_rollup()
    return worst_exit_code(codes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and ExitCode.USAGE
    collecting = gc.isenabled()
    if not (args.command == "run" and not args.once) and args.command != "worker":
        # A one-shot command imports some 1,500 modules and exits within seconds: the cyclic
        # collector would walk their long-lived objects again and again for nothing (about a
        # tenth of start-up); reference counting frees the rest. The daemon and workers keep it.
        gc.disable()
    from sync.context import Deployment

    try:
        # The demo needs no config: from any directory it builds everything under ./var.
        optional = args.command == "demo" and args.config is None
        deployment = Deployment.load(Path(args.config or DEFAULT_CONFIG), args.now, args.source, missing_ok=optional,
                                     clock_rate=getattr(args, "clock_rate", 1.0),
                                     clock_origin=getattr(args, "clock_origin", None))
        try:
            return _run(deployment, args)
        finally:
            deployment.close()
    except GoalsSyncError as error:
        from models.redact import mask_secrets  # masks credentials by their form: the config may not have loaded

        print(f"error: {mask_secrets(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return ExitCode.OK
    finally:
        if collecting:
            gc.enable()
