"""``/healthz``: healthy while a sync cycle succeeded within the last three poll intervals.

``success``, ``partial`` (synced; some cells were rejected, see Sync Errors) and ``dry_run``
count as a successful cycle; ``failed`` and ``skipped`` (another process held the lock) do not.
So one failed poll does not make the daemon unhealthy, three in a row (or a hung turn, or a
lock that never frees) do. Time here is the real monotonic clock, not ``--now``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from models.values import CycleResult

WINDOW_POLLS = 3
SUCCEEDED = frozenset({"success", "partial", "dry_run"})


@dataclass(frozen=True)
class Verdict:
    """The answer of ``/healthz``: healthy or not, and why in one line."""

    healthy: bool
    reason: str


class Health:
    """The last cycle and the last successful one, shared between the daemon and the HTTP thread."""

    def __init__(self, poll_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = WINDOW_POLLS * poll_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._last: CycleResult | None = None
        self._last_success_at: float | None = None

    def record(self, result: CycleResult) -> None:
        """A cycle finished (called by the daemon after each one)."""
        with self._lock:
            self._last = result
            if result.status in SUCCEEDED:
                self._last_success_at = self._clock()

    def verdict(self) -> Verdict:
        """Healthy when the last successful cycle ended less than ``window`` seconds ago."""
        with self._lock:
            last, success_at, now = self._last, self._last_success_at, self._clock()
        if last is None:
            return Verdict(False, f"starting: no sync cycle has finished yet ({now - self._started:.0f} s up)")
        last_text = f"last cycle {last.status}" + (f": {last.error}" if last.error else "")
        if success_at is None:
            return Verdict(False, f"no sync cycle has succeeded since the start; {last_text}")
        age = now - success_at
        if age >= self.window:
            return Verdict(False, f"no successful sync cycle for {age:.0f} s (limit: {WINDOW_POLLS} poll "
                                  f"intervals = {self.window:g} s); {last_text}")
        return Verdict(True, f"ok: last successful sync cycle {age:.0f} s ago; {last_text}")
