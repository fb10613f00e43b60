"""Masking secrets: the one function every message, log line and stored error goes through.

``mask_secrets`` replaces the secrets a process knows of (taken from its config
with ``secrets_in_urls``) *and* every credential written in a form it can
recognise on its own — ``user:password@`` in a URL, ``password=``/``token=``
query items or libpq keywords, Telegram bot tokens, Slack tokens — so that a
secret nobody listed (a URL typed into the wrong key, a library echoing a
request) is masked too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from models.settings import Settings

MASK = "***"
DATABASE_URL_ENV = "GOALS_DATABASE_URL"
SECRET_SETTING_KEYS = frozenset({"url", "email_url", "team_urls", "credentials_file"})
"""Config keys whose values are never echoed back, not even masked (a config error names the key only)."""

_MIN_SECRET = 4
"""Shorter "secrets" (an empty password, ``x``) would mask ordinary words."""
_MIN_TOKEN = 8
"""Shortest path segment or host-position text of a notification URL taken for a token."""
_MIN_TOKEN_USER = 12
"""Shortest user name of a notification URL taken for a key (``mailto://reports:…`` keeps "reports")."""

_USERINFO_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@'\"]*):(?P<secret>[^\s@/'\"]+)@")
"""``scheme://user:password@``: the password (``user`` and host stay readable)."""

_SECRET_NAMES = (r"password|passwd|pwd|pass|secret|client_secret|token|access_token|refresh_token|apikey"
                 r"|api_key|key|auth|sslpassword|webhook|signature|sig")
_NAMED_SECRET = re.compile(rf"(?P<head>(?:^|(?<=[\s?&;,(\[{{'\"]))(?:{_SECRET_NAMES})\s*=\s*)"
                           r"(?P<quote>['\"]?)(?P<secret>[^\s&;,'\")\]}]+)", re.IGNORECASE)
"""``password=…``, ``token=…`` and the like: URL query items, libpq ``key=value`` strings."""

_TOKEN_SHAPES = re.compile(
    r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}"  # a Telegram bot token, (bot)123456789:AAH…
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # a Slack API token
    r"|(?<=hooks\.slack\.com/services/)[A-Za-z0-9/]+"  # a Slack incoming-webhook path
)

_QUERY_SECRET_NAMES = frozenset(_SECRET_NAMES.split("|"))


def mask_secrets(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by ``***``: each of ``known`` (longest first), then any
    credential recognisable by its form. Use it on anything a person or a log may see."""
    for secret in sorted({s for s in known if s and len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@" if m["secret"] != MASK else m[0], text)
    text = _NAMED_SECRET.sub(lambda m: f"{m['head']}{m['quote']}{MASK}", text)
    return _TOKEN_SHAPES.sub(MASK, text)


def secrets_in_urls(urls: Iterable[str], *, path_tokens: bool = True) -> list[str]:
    """The secrets inside configured URLs, longest first: each whole URL, its user and password, a
    "host" that is no host name (``tgram://<bot token>/…``, ``slack://<token>/…``), secret-named
    query values, and (``path_tokens``) long path segments, where Slack, Teams and webhook URLs
    keep their tokens. ``path_tokens`` is off for a database URL, whose path is the database name.
    """
    found: set[str] = set()
    for given in urls:
        url = given.strip()
        if not url:
            continue
        found.add(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        userinfo, at, host = parts.netloc.rpartition("@")
        if at:
            user, _, password = userinfo.partition(":")
            found.update({password, unquote(password)})
            if path_tokens and len(user) >= _MIN_TOKEN_USER:  # pover://<user key>@<token>; not "bot"
                found.update({user, unquote(user)})
        if path_tokens and len(host) >= _MIN_TOKEN and not _is_host_name(host):
            found.add(host)  # tgram://<bot token>/…, slack://<TokenA>/…
            found.update(part for part in host.split(":") if len(part) >= _MIN_TOKEN)
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if name.lower() in _QUERY_SECRET_NAMES:
                found.update({value, unquote(value)})
        if path_tokens:
            found.update(segment for segment in parts.path.split("/") if len(segment) >= _MIN_TOKEN)
    # A number alone (a bot or chat id) is no secret, and masking it would hide figures in logs.
    return sorted((s for s in found if len(s) >= _MIN_SECRET and not s.lstrip("-").isdigit()),
                  key=len, reverse=True)


def _is_host_name(netloc: str) -> bool:
    """True for ``smtp.example.com``, ``localhost``, ``127.0.0.1:25``, ``[::1]``: not a token."""
    host = netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc
    return host == "localhost" or host.startswith("[") or ("." in host and not host.isdigit())


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the config (and ``GOALS_DATABASE_URL``) holds: the database, notification and
    Sheets endpoint URLs, their passwords and the tokens inside them."""
    notifications = secrets_in_urls([settings.notifications.email_url.get_secret_value(),
                                     *settings.notifications.all_team_urls()])
    databases = secrets_in_urls([settings.database.url.get_secret_value(), os.environ.get(DATABASE_URL_ENV, "")],
                                path_tokens=False)
    endpoint = secrets_in_urls([settings.sheets.api_endpoint], path_tokens=False)
    # The endpoint's own text is no secret (check prints it, masked): only its credentials are.
    endpoint = [s for s in endpoint if s != settings.sheets.api_endpoint.strip()]
    return sorted({*notifications, *databases, *endpoint}, key=len, reverse=True)
