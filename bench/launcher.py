"""A small process that starts the benchmark's ``run --once`` commands and measures them.

A child forked from a large process inherits that process's resident size as
its own peak (Linux keeps the pre-exec high-water mark in ``ru_maxrss``), and
the benchmark holds a 100,000-row spreadsheet in its fake server. So commands
are started from this process instead, which ``python -m bench`` starts before
it grows: for every JSON line ``{"argv": [...], "env": {...}, "cwd": "...",
"log": "..."}`` it runs the command and answers ``{"seconds", "cpu_seconds",
"exit_code", "peak_memory_mb"}`` (``cpu_seconds``: the command's own user + system
time, which a busy machine inflates far less than the wall time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    """Serve commands from stdin until it closes."""
    for line in sys.stdin:
        if not line.strip():
            continue
        order = json.loads(line)
        with open(order["log"], "a", encoding="utf-8") as log:
            began = time.perf_counter()
            process = subprocess.Popen(order["argv"], cwd=order["cwd"], env=order["env"],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        sys.stdout.write(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                                     "exit_code": process.returncode,
                                     "peak_memory_mb": usage.ru_maxrss / 1024}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
