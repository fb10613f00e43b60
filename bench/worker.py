"""A long-running process that runs sync cycles on request, as the daemon does.

``python -m bench.worker CONFIG``: loads the config, opens and migrates the
database and creates the spreadsheet backend once (start-up, not timed as part
of a cycle), then for every JSON line ``{"now": "<ISO-8601>"}`` on stdin runs one
cycle and answers one JSON line on stdout: the cycle's wall time (``run_cycle``
only), its counters, and the process's peak resident memory during that cycle.
Running in its own process keeps the fake Sheets server's work and memory out of
the figures, as Google's would be.
"""

from __future__ import annotations

import cProfile
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

PROFILE_ENV = "BENCH_PROFILE"
"""Set to a directory to get a cProfile dump of every cycle (``cycle-0.prof``, …); slows them."""


def reset_peak_memory() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux ``clear_refs``); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MB (since the last reset, where supported)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _profiler() -> cProfile.Profile | None:
    """A running profiler when ``BENCH_PROFILE`` names a directory for the cycles' profiles."""
    if not os.environ.get(PROFILE_ENV):
        return None
    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def serve(config: Path, commands: TextIO, out: TextIO) -> None:
    """Start up, then run one cycle per command line until stdin closes."""
    started = time.perf_counter()
    from sync.context import Context
    from sync.cycle import run_cycle

    context = Context.load(config)
    store, backend = context.store(), context.backend()
    _send(out, {"ready": True, "startup_seconds": time.perf_counter() - started,
                "startup_cpu_seconds": time.process_time(), "peak_memory_mb": peak_memory_mb()})
    cycles = 0
    try:
        for line in commands:
            if not line.strip():
                continue
            now = datetime.fromisoformat(json.loads(line)["now"])
            reset_peak_memory()
            profiler = _profiler()
            began, cpu = time.perf_counter(), time.process_time()
            result = run_cycle(context.settings, store, backend, now, memo=context.cycle_memo())  # as the daemon
            seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(Path(os.environ[PROFILE_ENV]) / f"cycle-{cycles}.prof")
            cycles += 1
            _send(out, {
                "seconds": seconds, "cpu_seconds": cpu, "status": result.status, "error": result.error,
                "rows_read": result.rows_read, "rows_upserted": result.rows_upserted,
                "problems": result.problem_count, "api_reads": result.api_reads,
                "api_writes": result.api_writes, "sql_statements": result.sql_statements,
                "tabs_written": list(result.tabs_written), "peak_memory_mb": peak_memory_mb(),
                "unchanged": result.unchanged,
            })
    finally:
        context.close()


def main() -> None:
    """Entry point: protocol on stdout, everything else (logs, prints) on stderr."""
    out = sys.stdout
    sys.stdout = sys.stderr
    serve(Path(sys.argv[1]), sys.stdin, out)


if __name__ == "__main__":
    main()
