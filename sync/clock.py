"""The one seam for "now": the real clock, or ``--now`` for backfills and tests.

``--clock-rate N`` (tests and backfills only) makes a pretend clock run N times as fast, so
a simulated day of turns, midnights, reminder checks and month ends passes in seconds.
Only the time the turns *see* runs faster: poll intervals, retries, heartbeats and every
other wait stay in real seconds. ``--clock-origin`` pins the real moment at which the
pretend clock read ``--now``, so several processes given the same three values share one
pretend clock (without it each process starts its own at its first reading).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models.errors import ConfigError


def parse_now(text: str, tz: ZoneInfo) -> datetime:
    """Parse ``--now``: ISO-8601; a time without an offset is in the company time zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"--now {text!r} is not an ISO-8601 time; use e.g. 2026-11-03T09:00 or 2026-11-03T09:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def parse_origin(text: str) -> datetime:
    """Parse ``--clock-origin``: a real moment, ISO-8601 with an offset (e.g. ``…Z``)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConfigError(f"--clock-origin {text!r} is not an ISO-8601 time with an offset; "
                          "use e.g. 2026-11-28T08:30:00+00:00")
    return moment


class Clock:
    """Reads the time. With ``start`` (``--now``) the first reading is exactly ``start`` and
    time then runs at ``rate`` times the normal rate (1 unless ``--clock-rate``), so a daemon
    started with ``--now`` still moves forward. With ``origin`` the clock reads ``start`` at
    that real moment instead of at its first reading (one pretend clock for many processes).

    The pretend clock advances in absolute (UTC) time: adding seconds to a local wall-clock
    time would jump an hour when the clocks change (01:59 EDT + 2 s is 01:00:01 EST, not
    02:00:01 EST)."""

    def __init__(self, tz: ZoneInfo, start: datetime | None = None, rate: float = 1.0,
                 origin: datetime | None = None) -> None:
        self.tz = tz
        self.start = start
        self.rate = rate
        self.origin = origin
        self._origin: float | None = None

    @classmethod
    def create(cls, tz: ZoneInfo, start: datetime | None = None, rate: float = 1.0,
               origin: datetime | None = None) -> Clock:
        """A clock in the company time zone, optionally pretending to start at ``start`` (and to
        run ``rate`` times as fast from the real moment ``origin``)."""
        if start is None and (rate != 1.0 or origin is not None):
            raise ConfigError("--clock-rate and --clock-origin need --now (the pretend clock's start)")
        if not rate > 0:
            raise ConfigError(f"--clock-rate {rate:g}: give a positive number (e.g. 600: a minute in 0.1 s)")
        return cls(tz, start, rate, origin)

    def now(self) -> datetime:
        """The current moment, timezone-aware, in the company time zone."""
        if self.start is None:
            return datetime.now(UTC).astimezone(self.tz)
        if self.origin is not None:
            elapsed = time.time() - self.origin.timestamp()  # the wall clock: shared by processes
        elif self._origin is None:
            self._origin = time.monotonic()
            return self.start.astimezone(self.tz)
        else:
            elapsed = time.monotonic() - self._origin
        return (self.start.astimezone(UTC) + timedelta(seconds=elapsed * self.rate)).astimezone(self.tz)
