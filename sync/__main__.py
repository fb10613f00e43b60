"""``python -m sync``: the command line."""

import atexit
import contextlib
import os
import sys
import threading

from sync.cli import main


def _exit(code: int) -> None:
    """Leave with ``code`` as soon as the output is out and the exit handlers ran (logging's, the
    embedded server's handle bookkeeping): tearing down some 1,500 modules and collecting them is
    a fifth of a quiet cron run (0.69 → 0.49 s), paid every minute for nothing. With another thread
    still alive the interpreter exits as usual, so that thread is waited for as always; so it does
    under a profiler or tracer (``python -m cProfile``, coverage), which write their output at exit."""
    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (``| head``): nothing more to say
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
