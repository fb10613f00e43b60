"""Sending messages: a small ``Notifier`` interface and its Apprise implementation.

A send either delivers (returns True) or raises ``NotifyError`` with a reason a
person can act on; the jobs record the reason and retry on their next turn.
Apprise URLs carry passwords and tokens, so neither the URLs nor anything
Apprise logs about them reaches our messages unmasked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import quote

from models.errors import NotifyError
from models.redact import mask_secrets, secrets_in_urls
from models.settings import NotificationSettings

_APP_ID = "Goals Sync"


class Notifier(Protocol):
    """Where reminders and announcements go: the rep's own inbox and the team channels."""

    @property
    def can_email(self) -> bool:
        """True when reps can be emailed (``notifications.email_url`` is set)."""
        ...

    @property
    def has_team(self) -> bool:
        """True when at least one team channel is configured (``notifications.team_urls``)."""
        ...

    def send_to_rep(self, email: str, subject: str, body: str) -> bool:
        """Email one rep; True when delivered, else ``NotifyError``."""
        ...

    def send_to_team(self, subject: str, body: str, *, team: str | None = None) -> bool:
        """Post to every team channel (``team``: only that team's); True when all accepted it, else
        ``NotifyError``."""
        ...


def with_recipient(url: str, email: str) -> str:
    """The sender's Apprise mail URL with ``to=`` set to ``email`` (any ``to=`` it had is replaced).

    Other query items are kept byte for byte, so encoded characters stay as written.
    """
    base, _, query = url.partition("?")
    items = [item for item in query.split("&") if item and not item.lower().startswith("to=")]
    items.append("to=" + quote(email.strip(), safe="@"))
    return f"{base}?{'&'.join(items)}"


class ApprisePoster:
    """``Notifier`` over Apprise: email through ``notifications.email_url`` (an Apprise
    ``mailto://``/``mailtos://`` URL of the sender, the rep added as recipient), team posts
    through ``notifications.team_urls`` (Slack, Teams, mail, … as Apprise URLs)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self._email_url = settings.email_url.get_secret_value().strip()
        self._settings = settings
        self._team_urls = settings.all_team_urls()
        self._secrets = secrets_in_urls([self._email_url, *self._team_urls])

    @property
    def can_email(self) -> bool:
        """True when ``notifications.email_url`` is set."""
        return bool(self._email_url)

    @property
    def has_team(self) -> bool:
        """True when ``notifications.team_urls`` lists at least one URL."""
        return bool(self._team_urls)

    def send_to_rep(self, email: str, subject: str, body: str) -> bool:
        """Email ``email`` from the configured sender. Raises ``NotifyError`` when it fails."""
        if not self._email_url:
            raise NotifyError("notifications.email_url is empty, so reps cannot be emailed")
        if not email or "@" not in email:
            raise NotifyError(f"{email!r} is not an email address")
        self._post([with_recipient(self._email_url, email)], subject, body,
                   what=f"email {email}", setting="notifications.email_url")
        return True

    def send_to_team(self, subject: str, body: str, *, team: str | None = None) -> bool:
        """Post to every team channel (``team``: only that team's, when ``team_urls`` is a map).
        Raises ``NotifyError`` when any of them fails."""
        urls = self._team_urls if team is None else self._settings.urls_for_team(team)
        if not urls:
            raise NotifyError("notifications.team_urls is empty, so there is no team channel")
        self._post(urls, subject, body, what="post to the team channel", setting="notifications.team_urls")
        return True

    def _post(self, urls: Sequence[str], subject: str, body: str, *, what: str, setting: str) -> None:
        import apprise  # imported on first send: loading its plugins takes a moment

        asset = apprise.AppriseAsset(app_id=_APP_ID, app_desc=_APP_ID)
        target = apprise.Apprise(asset=asset)
        for url in urls:
            if not target.add(url):
                raise NotifyError(f"could not {what}: a URL in {setting} is not a valid Apprise URL "
                                  "(check its scheme, host and port)")
        try:
            # DEBUG, because the server's actual answer (e.g. "451 mailbox unavailable") is only
            # logged there; the warnings alone just say that sending failed.
            with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s|%(message)s") as captured:
                delivered = target.notify(title=subject, body=body, body_format=apprise.NotifyFormat.TEXT)
                reasons = captured.getvalue()
        except Exception as error:  # a plugin bug must not take the job down
            raise NotifyError(f"could not {what}: {mask_secrets(str(error), self._secrets)}") from None
        if not delivered:
            raise NotifyError(f"could not {what}: {self._reason(reasons)}")

    def _reason(self, captured: str) -> str:
        lines = []
        for line in captured.splitlines():
            level, _, message = line.partition("|")
            if level in ("WARNING", "ERROR", "CRITICAL") or "Exception" in message:
                lines.append(message.strip())
        reason = "; ".join(dict.fromkeys(lines)) or "the server refused or could not be reached"
        return mask_secrets(reason, self._secrets)[:300]
