"""Fixtures for the job tests: a real SMTP server, a committed database, a moving clock.

``smtp`` (function) -> Mailbox
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

import email
import email.policy
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from models.engine import make_engine
from models.settings import Settings
from models.store import Store

SMTP_USER, SMTP_PASSWORD = "goals", "s3cret-pass"
SENDER = "goals-bot@example.com"
TEAM_ADDRESS = "sales-team@example.com"


@dataclass(frozen=True)
class Mail:
    """One message the SMTP server accepted."""

    to: tuple[str, ...]
    subject: str
    body: str
    sequence: int


class Mailbox:
    """The messages a local SMTP server received, in order."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Mail] = []
        self.refuse = False
        self._lock = threading.Lock()

    def url(self, to: str | None = None) -> str:
        """Apprise URL of the sender (plain SMTP with login), optionally with a fixed recipient."""
        base = f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}?from={SENDER}&cto=5"
        return f"{base}&to={to}" if to else base

    async def handle_DATA(self, _server: Any, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 mailbox temporarily unavailable"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        with self._lock:
            self.messages.append(Mail(tuple(sorted(envelope.rcpt_tos)), str(message["Subject"]), body,
                                      len(self.messages)))
        return "250 OK"

    def take(self) -> list[Mail]:
        """The messages received since the last call."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _authenticate(_server: Any, _session: Session, _envelope: Envelope, _mechanism: str,
                  data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == SMTP_USER.encode() \
        and data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server on localhost that keeps what it receives."""
    mailbox = Mailbox(_free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, authenticator=_authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def jobs_settings(settings_factory: Callable[..., Settings], fresh_db_url: str,
                  smtp: Mailbox) -> Callable[..., Settings]:
    """Settings on the fresh database with notifications through ``smtp``."""

    def build(*, team: bool = False, **overrides: Any) -> Settings:
        notifications = {"email_url": smtp.url(), "team_urls": [smtp.url(TEAM_ADDRESS)] if team else []}
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
