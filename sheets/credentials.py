"""Loading the Google service-account key named by the config (never logging its contents)."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from google.auth.credentials import AnonymousCredentials, Credentials
from google.oauth2 import service_account

from models.errors import ConfigError
from models.settings import SheetsSettings

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)


@dataclass(frozen=True)
class LoadedCredentials:
    """Credentials for gspread plus what may be shown about them."""

    credentials: Credentials
    email: str | None
    """The service account's ``client_email`` (None for anonymous access)."""
    source: str
    """The key file's path, or ``anonymous``."""


def load_credentials(settings: SheetsSettings, environ: Mapping[str, str] | None = None) -> LoadedCredentials:
    """Service-account credentials from ``sheets.credentials_file`` or ``GOOGLE_APPLICATION_CREDENTIALS``.

    With ``sheets.api_endpoint`` set and no key file, anonymous credentials
    (a local Sheets-compatible server). Raises ``ConfigError`` naming the file.
    """
    env = os.environ if environ is None else environ
    name = settings.credentials_file or env.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if not name:
        if settings.api_endpoint:
            return LoadedCredentials(AnonymousCredentials(), None, "anonymous")
        raise ConfigError(
            "sheets.credentials_file is empty and GOOGLE_APPLICATION_CREDENTIALS is not set: the google "
            "backend needs a service-account key (JSON). Create one in the Google Cloud console "
            "(IAM & Admin > Service accounts > Keys), save it with mode 600 and set sheets.credentials_file."
        )
    path = Path(name).expanduser()
    where = "sheets.credentials_file" if settings.credentials_file else "GOOGLE_APPLICATION_CREDENTIALS"
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{where} {path} cannot be read ({error.strerror or 'error'}).") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("credentials file %s is readable by other users (mode %s); run: chmod 600 %s",
                    path, oct(stat.S_IMODE(mode)), path)
    try:
        info = json.loads(text)
    except ValueError:
        raise ConfigError(f"{where} {path} is not JSON; it must be a service-account key file.") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else None
        raise ConfigError(
            f"{where} {path} is not a service-account key (its type is {kind!r}); create a key for a "
            "service account in the Google Cloud console."
        )
    try:
        credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except ValueError as error:
        # google-auth names missing fields; a bad key raises from cryptography: say less then.
        detail = str(error) if "missing fields" in str(error) else "its private_key cannot be loaded"
        raise ConfigError(f"{where} {path} is not a usable service-account key: {detail}.") from None
    return LoadedCredentials(credentials, info.get("client_email"), str(path))
