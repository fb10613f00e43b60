"""When scheduled jobs fall due: local midnights, reminder check times, the start of a month.

Pure functions of ``now`` and the config; every result is timezone-aware. A
"moment" is the key of a ``job_runs`` row: a job is due when its latest moment
at or before ``now`` has no successful run recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.rules.deadlines import parse_check_time
from models.rules.periods import require_aware


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``tz``, normalised to a real instant.

    A wall-clock time skipped by a daylight-saving jump is read with the offset
    in force before the jump (``fold=0``), like ``models.rules.deadlines.goal_deadline``.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """The local midnight that began ``now``'s day (the daily snapshot moment)."""
    require_aware(now)
    return local_moment(now.astimezone(tz).date(), time(0), tz)


def month_start(now: datetime, tz: ZoneInfo) -> datetime:
    """00:00 local on the 1st of ``now``'s month (the reminder creation moment)."""
    require_aware(now)
    return local_moment(now.astimezone(tz).date().replace(day=1), time(0), tz)


def latest_check(now: datetime, tz: ZoneInfo, check_times: Sequence[str | time]) -> datetime | None:
    """The latest reminder check moment at or before ``now`` (today's, else yesterday's last);
    None when no check time is configured."""
    require_aware(now)
    times = sorted(parse_check_time(t) for t in check_times)
    if not times:
        return None
    today = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):
        passed = [moment for moment in (local_moment(day, t, tz) for t in times) if moment <= now]
        if passed:
            return max(passed)
    return None  # unreachable: yesterday's checks are all in the past


def next_moment(now: datetime, tz: ZoneInfo, check_times: Sequence[str | time],
                weekly: tuple[int, str | time] | None = None) -> datetime:
    """The first midnight, reminder check or weekly moment (``(weekday, time)``: the digest)
    strictly after ``now``: when the daemon should run a turn even if its poll interval has
    not elapsed yet."""
    require_aware(now)
    today = now.astimezone(tz).date()
    times = {time(0), *(parse_check_time(t) for t in check_times)}
    candidates = [local_moment(day, t, tz) for day in (today, today + timedelta(days=1)) for t in times]
    if weekly is not None:
        candidates.append(latest_weekly(now, tz, *weekly) + timedelta(days=7))
    return min(moment for moment in candidates if moment > now)


def latest_weekly(now: datetime, tz: ZoneInfo, weekday: int, at: str | time) -> datetime:
    """The latest ``weekday`` (0 = Monday) at wall-clock ``at`` at or before ``now`` (the digest moment)."""
    require_aware(now)
    today = now.astimezone(tz).date()
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    moment = local_moment(day, parse_check_time(at), tz)
    return moment if moment <= now else local_moment(day - timedelta(days=7), parse_check_time(at), tz)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (pace alerts are limited to one per rep per week)."""
    return day - timedelta(days=day.weekday())
