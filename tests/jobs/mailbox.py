"""A real SMTP server for the tests (aiosmtpd), keeping every message it accepts.

A pytest plugin (registered in the root conftest): the ``smtp`` fixture is a running server.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

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
        self.delay = 0.0
        self._lock = threading.Lock()

    def url(self, to: str | None = None) -> str:
        """Apprise URL of the sender (plain SMTP with login), optionally with a fixed recipient."""
        base = f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}?from={SENDER}&cto=5"
        return f"{base}&to={to}" if to else base

    async def handle_DATA(self, _server: Any, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow server widens the window for races
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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def authenticate(_server: Any, _session: Session, _envelope: Envelope, _mechanism: str,
                 data: Any) -> AuthResult:
    """Accept only the test login."""
    ok = isinstance(data, LoginPassword) and data.login == SMTP_USER.encode() \
        and data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server on localhost that keeps what it receives."""
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
