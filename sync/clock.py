"""The one seam for "now": the real clock, or ``--now`` for backfills and tests."""

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


class Clock:
    """Reads the time. With ``start`` (``--now``) the first reading is exactly ``start`` and
    time then runs at the normal rate, so a daemon started with ``--now`` still moves forward.

    The pretend clock advances in absolute (UTC) time: adding seconds to a local wall-clock
    time would jump an hour when the clocks change (01:59 EDT + 2 s is 01:00:01 EST, not
    02:00:01 EST)."""

    def __init__(self, tz: ZoneInfo, start: datetime | None = None) -> None:
        self.tz = tz
        self.start = start
        self._origin: float | None = None

    @classmethod
    def create(cls, tz: ZoneInfo, start: datetime | None = None) -> Clock:
        """A clock in the company time zone, optionally pretending to start at ``start``."""
        return cls(tz, start)

    def now(self) -> datetime:
        """The current moment, timezone-aware, in the company time zone."""
        if self.start is None:
            return datetime.now(UTC).astimezone(self.tz)
        if self._origin is None:
            self._origin = time.monotonic()
            return self.start.astimezone(self.tz)
        elapsed = time.monotonic() - self._origin
        return (self.start.astimezone(UTC) + timedelta(seconds=elapsed)).astimezone(self.tz)
