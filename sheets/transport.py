"""HTTP sessions that count every request they send: API calls, retries and OAuth token requests.

google-auth's ``AuthorizedSession`` refreshes tokens through a session of its
own and repeats a request after a 401 by itself; counting at the transport
adapter sees all of those, so the log's API call counts are what went over
the wire.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from requests.adapters import HTTPAdapter


class RequestCounter:
    """A thread-safe count of HTTP requests sent.

    ``before`` runs before each request is counted and sent: the Sheets quota shared by every
    process (it may wait there until the sliding window has room), so it sees exactly the
    requests counted here, token requests and retries included.
    """

    def __init__(self, before: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._before = before

    def add(self) -> None:
        """Count one request (after the quota, if any, let it through)."""
        if self._before is not None:
            self._before()
        with self._lock:
            self._count += 1

    @property
    def count(self) -> int:
        """Requests counted so far."""
        with self._lock:
            return self._count


class _CountingAdapter(HTTPAdapter):
    def __init__(self, counter: RequestCounter) -> None:
        super().__init__()
        self._counter = counter

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._counter.add()
        return super().send(request, *args, **kwargs)


def _count_on(session: requests.Session, counter: RequestCounter) -> requests.Session:
    adapter = _CountingAdapter(counter)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def authorized_session(credentials: Credentials, counter: RequestCounter) -> AuthorizedSession:
    """An ``AuthorizedSession`` whose API requests and token requests are all counted."""
    token_transport = Request(_count_on(requests.Session(), counter))
    session = AuthorizedSession(credentials, auth_request=token_transport)
    _count_on(session, counter)
    return session
