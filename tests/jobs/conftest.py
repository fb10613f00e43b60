"""Fixtures for the job tests: a real SMTP server, a committed database, a moving clock.

``smtp`` (function) -> tests.jobs.mailbox.Mailbox
    An aiosmtpd server on 127.0.0.1 (a free port) that requires the login
    ``goals``/``s3cret-pass`` (plain AUTH, no TLS, like a relay on a private
    network) and keeps every message it accepts. ``smtp.url(to=None)`` is the
    Apprise ``mailto://`` URL of the sender; ``smtp.refuse = True`` makes it
    answer 451 (a temporary failure) to every message.
``jobs_settings`` (function) -> Callable[..., Settings]
    ``settings_factory`` on ``fresh_db_url`` with email (and, with ``team=True``,
    a team mailbox) pointing at ``smtp``.
``store`` (function) -> Store
    A ``models.store.Store`` on ``fresh_db_url`` (commits allowed), disposed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from models.engine import make_engine
from models.settings import Settings
from models.store import Store
from tests.jobs.mailbox import TEAM_ADDRESS, Mailbox


@pytest.fixture
def jobs_settings(settings_factory: Callable[..., Settings], fresh_db_url: str,
                  smtp: Mailbox) -> Callable[..., Settings]:
    """Settings on the fresh database with notifications through ``smtp``."""

    def build(*, team: bool = False, **overrides: Any) -> Settings:
        notifications = {"email_url": smtp.url(), "team_urls": [smtp.url(TEAM_ADDRESS)] if team else [],
                         **overrides.pop("notifications", {})}
        merged = {"database": {"url": fresh_db_url}, "notifications": notifications, **overrides}
        return settings_factory(**merged)

    return build


@pytest.fixture
def store(fresh_db_url: str) -> Iterator[Store]:
    """A store on the fresh (migrated) database."""
    opened = Store(make_engine(fresh_db_url))
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def workbook_path(tmp_path: Path) -> Path:
    """Where a test's xlsx workbook lives."""
    return tmp_path / "goals.xlsx"
