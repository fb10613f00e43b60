"""pytest fixtures for the fake Sheets API server.

Register with ``pytest_plugins = ["tests.sheets_api.fixtures"]`` in the root
conftest. Fixtures:

- ``sheets_server``: a running :class:`FakeSheetsServer`, emptied for each test
  (one server per session: starting one costs a thread and a port).
- ``sheets_service_account``: a throwaway service-account JSON file (fresh RSA
  key, generated here, never committed) whose token endpoint is the fake server.
- ``google_sheets_settings``: a factory of ``SheetsSettings`` pointing at the server
  with short timeouts, for backend and end-to-end tests.
- ``fake_time``: an instant ``sleep`` and a ``clock`` that counts those sleeps.
- ``google_backend``: a factory of ``GoogleSheetsBackend`` on the server, using
  ``fake_time`` (retries cost no wall time) and ignoring the developer's
  ``GOOGLE_APPLICATION_CREDENTIALS``.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from models.settings import RetrySettings, SheetsSettings
from sheets.google import GoogleSheetsBackend
from tests.sheets_api.server import FakeSheetsServer


@pytest.fixture(scope="session")
def _fake_sheets_server() -> Iterator[FakeSheetsServer]:
    server = FakeSheetsServer().start()
    yield server
    server.stop()


@pytest.fixture
def sheets_server(_fake_sheets_server: FakeSheetsServer) -> Iterator[FakeSheetsServer]:
    """The fake Sheets API server, with no spreadsheets, faults or recorded requests."""
    _fake_sheets_server.reset()
    yield _fake_sheets_server
    _fake_sheets_server.reset()


@dataclass(frozen=True)
class ServiceAccount:
    """A test service-account key file and the email inside it."""

    path: Path
    email: str
    private_key: str
    """To assert that no message leaks it."""


@pytest.fixture(scope="session")
def _rsa_private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    # 1,024 bits: google-auth loads (and checks) the key each time credentials are built, about
    # 50 ms of CPU at 2,048 bits and 7 at 1,024; the fake token endpoint does not care, Google would.
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def sheets_service_account(tmp_path: Path, sheets_server: FakeSheetsServer,
                           _rsa_private_key_pem: str) -> ServiceAccount:
    """A service-account JSON (mode 0600) whose tokens come from the fake server."""
    email = "goals-sync@test-project.iam.gserviceaccount.com"
    info: dict[str, Any] = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": _rsa_private_key_pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": sheets_server.token_uri,
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(info))
    os.chmod(path, 0o600)
    return ServiceAccount(path=path, email=email, private_key=_rsa_private_key_pem)


@pytest.fixture
def google_sheets_settings(sheets_server: FakeSheetsServer) -> Callable[..., SheetsSettings]:
    """``make(spreadsheet_id="sheet-1", **overrides) -> SheetsSettings`` for the fake server.

    Retries are fast and bounded (timeout 0.5 s, 4 attempts, 3 s in all) unless
    ``retry=`` overrides them; pass the backend a no-op sleep to skip the waits.
    """

    def make(spreadsheet_id: str = "sheet-1", **overrides: Any) -> SheetsSettings:
        values: dict[str, Any] = {
            "backend": "google",
            "spreadsheet_id": spreadsheet_id,
            "api_endpoint": sheets_server.url,
            "retry": RetrySettings(timeout_seconds=0.5, max_attempts=4, max_total_seconds=3.0,
                                   backoff_base_seconds=0.01, backoff_max_seconds=0.05),
        }
        values.update(overrides)
        return SheetsSettings(**values)

    return make


@dataclass
class FakeTime:
    """Sleeps return at once; ``now()`` is the real monotonic time plus every sleep so far."""

    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        """Record the sleep instead of waiting."""
        self.slept.append(seconds)

    def now(self) -> float:
        """A monotonic clock that the recorded sleeps have moved forward."""
        return time.monotonic() + sum(self.slept)


@pytest.fixture
def fake_time() -> FakeTime:
    """An instant sleep and the matching clock, for retry tests."""
    return FakeTime()


@pytest.fixture
def google_backend(google_sheets_settings: Callable[..., SheetsSettings],
                   fake_time: FakeTime) -> Callable[..., GoogleSheetsBackend]:
    """``make(settings=None, **settings_overrides) -> GoogleSheetsBackend`` on the fake server."""

    def make(settings: SheetsSettings | None = None, **overrides: Any) -> GoogleSheetsBackend:
        chosen = settings or google_sheets_settings(**overrides)
        return GoogleSheetsBackend(chosen, sleep=fake_time.sleep, clock=fake_time.now,
                                   rng=random.Random(7), environ={})

    return make
