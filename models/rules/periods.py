"""Calendar helpers: local dates, months and weeks in the company time zone."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo


def require_aware(moment: datetime, name: str = "now") -> None:
    """Raise ValueError when ``moment`` has no time zone (a naive time would be read as UTC or local
    time depending on the caller, which silently moves deadlines)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")


def local_date(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date of ``now`` in the company time zone ``tz``."""
    require_aware(now)
    return now.astimezone(tz).date()


def days_in_month(year: int, month: int) -> int:
    """Number of days in the month (28-31)."""
    return calendar.monthrange(year, month)[1]


def previous_month(year: int, month: int) -> tuple[int, int]:
    """The month before ``(year, month)``."""
    return (year - 1, 12) if month == 1 else (year, month - 1)


def shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    """``(year, month)`` moved by ``months`` (negative goes back)."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def month_index(year: int, month: int) -> int:
    """A running month number, so consecutive months differ by exactly one."""
    return year * 12 + (month - 1)


def month_start(year: int, month: int) -> date:
    """The 1st of the month."""
    return date(year, month, 1)


def month_end(year: int, month: int) -> date:
    """The last day of the month."""
    return date(year, month, days_in_month(year, month))


def is_last_day_of_month(d: date) -> bool:
    """True on the 28th-31st that ends its month (the monthly snapshot day)."""
    return d.day == days_in_month(d.year, d.month)


def is_week_end(d: date) -> bool:
    """True on a Sunday (the weekly snapshot day)."""
    return d.weekday() == 6
