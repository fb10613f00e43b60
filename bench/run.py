"""``python -m bench``: time cold, warm and 1 %-changed sync cycles on a generated spreadsheet.

Defaults: 2,000 reps × 24 months on the local fake Sheets API server, a fresh
database on the embedded PostgreSQL (or on ``GOALS_DATABASE_URL``'s server),
both as a running daemon sees a cycle and as cron sees ``run --once``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.measure import CYCLES, Bench
from bench.report import misses, table, write_json
from bench.workbook import Spec

SCALE_REPS, SCALE_MONTHS = 20_000, 12


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, help="reps in the spreadsheet (default 2000)")
    parser.add_argument("--months", type=int, help="months of goals and actuals (default 24)")
    parser.add_argument("--backend", choices=("google", "xlsx"), default="google",
                        help="google: the local fake Sheets API server (default); xlsx: a workbook file")
    parser.add_argument("--scale", action="store_true",
                        help=f"{SCALE_REPS:,} reps × {SCALE_MONTHS} months, cold cycle only")
    parser.add_argument("--mode", choices=("both", "daemon", "process"), default="both",
                        help="daemon: cycles in a running process; process: whole run --once commands")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run every sequence N times and report the median time (default 1)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--seed", type=int, default=7, help="data generator seed (default 7)")
    parser.add_argument("--fill-down", type=int, default=0, metavar="N",
                        help="drag one Actuals row down over N rows (the same key N times)")
    parser.add_argument("--garbage", type=int, default=0, metavar="N",
                        help="append N rows of junk to Actuals (five bad cells each)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--sources", type=int, metavar="N",
                        help="N spreadsheets served by 1 and 2 workers (--reps defaults to 500, --months to 12)")
    parser.add_argument("--turn", action="store_true",
                        help="one worker turn with nothing changed, jobs included, beside its cycle alone")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 when every target holds, 1 when one is missed."""
    args = build_parser().parse_args(argv)
    if args.sources:
        return _sources(args)
    if args.turn:
        return _turn(args)
    reps, months = args.reps or 2000, args.months or 24
    cycles: tuple[str, ...] = CYCLES
    if args.scale:
        reps, months, cycles = SCALE_REPS, SCALE_MONTHS, ("cold",)
    modes = ("daemon", "process") if args.mode == "both" else (args.mode,)

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  … {text}", file=sys.stderr, flush=True)

    spec = Spec(reps=reps, months=months, seed=args.seed, fill_down=args.fill_down, garbage=args.garbage)
    bench = Bench(spec, backend=args.backend, cycles=cycles,
                  modes=modes, repeat=max(args.repeat, 1), progress=progress)
    run = bench.run()
    print(table(run))
    if args.json:
        write_json([run], args.json)
        print(f"\nJSON written to {args.json}")
    missed = misses(run, scale=args.scale)
    if missed:
        print("\nTargets missed:\n  " + "\n  ".join(missed))
        return 1
    print("\nEvery target holds.")
    return 0


def _sources(args: argparse.Namespace) -> int:
    """``--sources N``: many spreadsheets, 1 and 2 workers, the quota's effect (bench.sources)."""
    from bench.sources import report, run_sources

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  … {text}", file=sys.stderr, flush=True)

    figures = run_sources(args.sources, args.reps or 500, args.months or 12, progress=progress)
    print(report(figures))
    return 0


def _turn(args: argparse.Namespace) -> int:
    """``--turn``: an unchanged worker turn with its jobs, and its cycle alone (bench.turn)."""
    from bench.turn import report, run_turn_bench

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  … {text}", file=sys.stderr, flush=True)

    print(report(run_turn_bench(args.reps or 2000, args.months or 24, max(args.repeat, 7), progress=progress)))
    return 0
