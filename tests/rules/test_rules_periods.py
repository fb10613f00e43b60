from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.rules.periods import (
    days_in_month,
    is_last_day_of_month,
    is_week_end,
    local_date,
    previous_month,
    shift_month,
)

NEW_YORK = ZoneInfo("America/New_York")


def test_local_date_uses_company_zone():
    # 03:30 UTC on the 7th is still the 6th in New York.
    now = datetime(2026, 11, 7, 3, 30, tzinfo=UTC)
    assert local_date(now, NEW_YORK) == date(2026, 11, 6)
    assert local_date(now, ZoneInfo("UTC")) == date(2026, 11, 7)


def test_local_date_rejects_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 11, 7), NEW_YORK)


def test_month_helpers():
    assert days_in_month(2024, 2) == 29
    assert days_in_month(2026, 2) == 28
    assert days_in_month(2026, 11) == 30
    assert previous_month(2026, 1) == (2025, 12)
    assert previous_month(2026, 11) == (2026, 10)
    assert shift_month(2026, 2, -3) == (2025, 11)
    assert shift_month(2025, 11, 14) == (2027, 1)


def test_last_day_of_month_and_week_end():
    assert is_last_day_of_month(date(2024, 2, 29))
    assert not is_last_day_of_month(date(2026, 2, 27))
    assert is_last_day_of_month(date(2026, 2, 28))
    assert is_week_end(date(2026, 11, 8))
    assert not is_week_end(date(2026, 11, 7))
