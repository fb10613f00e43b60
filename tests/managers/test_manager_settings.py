"""The managers' config keys and the digest's moments (pure)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from jobs.moments import latest_weekly, next_moment, week_start
from models.settings import NotificationSettings

BERLIN = ZoneInfo("Europe/Berlin")


def test_team_urls_as_a_list_go_to_every_team() -> None:
    settings = NotificationSettings(team_urls=["slack://a/b/c", "msteams://x"])
    assert settings.all_team_urls() == ["slack://a/b/c", "msteams://x"]
    assert settings.urls_for_team("East") == ["slack://a/b/c", "msteams://x"]


def test_team_urls_as_a_map_go_to_their_team_only() -> None:
    settings = NotificationSettings(team_urls={"East": "slack://east", "West": ["msteams://w1", "msteams://w2"]})
    assert settings.urls_for_team("east ") == ["slack://east"]
    assert settings.urls_for_team("North") == []
    assert settings.all_team_urls() == ["slack://east", "msteams://w1", "msteams://w2"]


def test_team_managers_are_emails_per_team() -> None:
    settings = NotificationSettings(team_managers={"West": " Max@Example.com", "East": ["a@x.com", "b@x.com"]})
    assert settings.managers_of_team("west") == ("max@example.com",)
    assert settings.managers_of_team("East") == ("a@x.com", "b@x.com")
    with pytest.raises(ValidationError, match="'max' \\(team West\\) is not an email address"):
        NotificationSettings(team_managers={"West": ["max"]})


def test_digest_weekday_and_time_are_checked() -> None:
    assert NotificationSettings(digest={"weekday": " Friday", "time": "17:30"}).digest.weekday == "friday"
    with pytest.raises(ValidationError, match="'8am' is not a time of day like 09:00"):
        NotificationSettings(digest={"time": "8am"})
    with pytest.raises(ValidationError):
        NotificationSettings(digest={"weekday": "someday"})


def test_the_digest_moment_is_the_latest_weekday_and_time_in_local_time() -> None:
    monday = 0
    at = datetime(2026, 3, 30, 7, 59, tzinfo=BERLIN)  # the Monday after the clocks went forward
    assert latest_weekly(at, BERLIN, monday, "08:00") == datetime(2026, 3, 23, 8, 0, tzinfo=BERLIN)
    assert latest_weekly(at.replace(minute=0, hour=8), BERLIN, monday, "08:00") == datetime(
        2026, 3, 30, 8, 0, tzinfo=BERLIN)
    # The daemon wakes for it even when the poll interval is long.
    assert next_moment(datetime(2026, 3, 29, 23, 30, tzinfo=BERLIN), BERLIN, ["09:00"], (monday, "08:00")) == \
        datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)
    assert next_moment(datetime(2026, 3, 30, 7, 0, tzinfo=BERLIN), BERLIN, ["09:00"], (monday, "08:00")) == \
        datetime(2026, 3, 30, 8, 0, tzinfo=BERLIN)


def test_alert_weeks_start_on_monday() -> None:
    assert str(week_start(datetime(2026, 3, 15).date())) == "2026-03-09"  # a Sunday
    assert str(week_start(datetime(2026, 3, 16).date())) == "2026-03-16"
