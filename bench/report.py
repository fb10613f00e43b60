"""The benchmark's figures as a terminal table, as JSON, and checked against the targets of issues 7 and 17."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bench.measure import CHANGED, HELP, Figures, Run, floors

DAEMON_TARGETS = {"cold": 4.0, "warm": 0.8, CHANGED: 1.2}
PROCESS_TARGETS = {"cold": 3.0, "warm": 1.2, CHANGED: 1.4}
HELP_TARGET_SECONDS = 0.3
MEMORY_TARGET_MB = 400.0
SCALE_TARGET_SECONDS = 40.0

_HEADER = ("mode", "cycle", "wall s", "cycle s", "outside the cycle s", "CPU s", "of which API server s",
           "API reads", "API writes", "SQL statements", "rows touched", "problems", "peak MB", "status")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _row(f: Figures) -> tuple[str, ...]:
    outside = f.outside_seconds
    share = f" ({outside / f.seconds:.0%})" if outside is not None and f.seconds > 0 else ""
    if not f.is_cycle:  # start-up and --help: all of it is outside a cycle
        return (f.mode, f.cycle, f"{f.seconds:.2f}", "-", f"{f.seconds:.2f} (100%)", _seconds(f.cpu_seconds),
                "-", "-", "-", "-", "-", "-", f"{f.peak_memory_mb:.0f}", f.status)
    return (f.mode, f.cycle, f"{f.seconds:.2f}", _seconds(f.cycle_seconds), _seconds(outside) + share,
            _seconds(f.cpu_seconds), _seconds(f.server_seconds), str(f.api_reads), str(f.api_writes),
            str(f.sql_statements), str(f.rows_upserted), str(f.problems), f"{f.peak_memory_mb:.0f}",
            f"{f.status}, unchanged" if f.unchanged else f.status)


def table(run: Run) -> str:
    """The figures as an aligned text table with a title line."""
    rows = [_HEADER, *(_row(f) for f in run.figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    repeat = f", median of {run.repeat} runs" if run.repeat > 1 else ""
    lines = [f"{run.backend} backend, {run.reps:,} reps × {run.months} months ({run.rows:,} input rows), "
             f"cycles at {run.now}{repeat}"]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [f"note: {note}" for note in run.notes]
    return "\n".join(lines)


def misses(run: Run, *, scale: bool = False) -> list[str]:
    """Every target of issues 7 and 17 this run's figures miss. Times and memory are targets at
    N = 2,000 and M = 24 (and the cold cycle's time at the ``scale`` size); API calls at any size;
    ``--help`` at any size."""
    found = []
    default_size = run.reps == 2000 and run.months == 24
    floor = floors(run.figures)
    for f in run.figures:
        where = f"{f.mode} {f.cycle}"
        if not f.is_cycle:
            if f.status != "-":
                found.append(f"{where}: {f.status}")
            if f.cycle == HELP and f.seconds > HELP_TARGET_SECONDS:
                found.append(f"{where}: {f.seconds:.2f} s (target ≤ {HELP_TARGET_SECONDS} s)")
            continue
        if f.status not in ("success", "partial"):
            found.append(f"{where}: status {f.status}")
        if f.api_reads != 1:
            calls = (f.api_calls or {}).items()
            kinds = ", ".join(f"{n} {kind}" for kind, n in calls if "get" in kind.lower())
            found.append(f"{where}: {f.api_reads} API reads (target 1){f' ({kinds})' if kinds else ''}")
        limit, writes = (0 if f.cycle == "warm" else 2), counted_writes(f)
        if writes > limit:
            found.append(f"{where}: {writes} API writes (target ≤ {limit})")
        if default_size and f.peak_memory_mb > MEMORY_TARGET_MB:
            found.append(f"{where}: peak memory {f.peak_memory_mb:.0f} MB (target ≤ {MEMORY_TARGET_MB:.0f})")
        targets = DAEMON_TARGETS if f.mode == "daemon" else PROCESS_TARGETS
        if default_size and f.cycle in targets and f.seconds > targets[f.cycle]:
            least = floor[f.cycle].seconds if f.mode == "process" and f.cycle in floor else 0.0
            found.append(f"{where}: {f.seconds:.2f} s (target ≤ {targets[f.cycle]} s"
                         + (f", below its floor of {least:.2f} s)" if least > targets[f.cycle] else ")"))
        if scale and f.mode == "daemon" and f.cycle == "cold" and f.seconds >= SCALE_TARGET_SECONDS:
            found.append(f"{where}: {f.seconds:.1f} s (target < {SCALE_TARGET_SECONDS:.0f} s)")
    return found


def counted_writes(f: Figures) -> int:
    """The writes as the target counts them: the values write, sent as several bodies when its
    JSON is over the 2 MB payload Google recommends (``sheets.google.MAX_BODY_BYTES``: 20,000 reps),
    is one write; every other request counts as it is."""
    return f.api_writes - max(f.value_bodies - 1, 0)


def write_json(runs: Sequence[Run], path: Path) -> None:
    """All runs' figures as JSON (one object per run)."""
    payload = [run.as_json() for run in runs]
    text = json.dumps(payload if len(payload) != 1 else payload[0], indent=2)
    path.write_text(text + "\n", encoding="utf-8")
