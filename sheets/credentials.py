"""Google credentials, in SPEC order, never logging their contents.

1. ``sheets.credentials_file``: a service-account key (JSON).
2. Else Application Default Credentials (``google.auth.default()``):
   ``GOOGLE_APPLICATION_CREDENTIALS`` (a key, a workload identity federation
   ``external_account`` file or user credentials), ``gcloud auth
   application-default login``, or the GCE/GKE/Cloud Run metadata server.
3. ``sheets.impersonate_service_account`` (an email) on top of either: the
   service acts as that account through the IAM Credentials API, so no key
   file of it ever exists.

Sheets requests carry the ``spreadsheets`` scope only.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth
import google.auth.exceptions
from google.auth import impersonated_credentials
from google.auth.credentials import AnonymousCredentials, Credentials
from google.oauth2 import service_account

from models.errors import ConfigError
from models.settings import SheetsSettings

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
IAM_SCOPES = ("https://www.googleapis.com/auth/iam",)
"""What the source credentials need to ask the IAM Credentials API for an impersonated token."""
GOOGLE_IAM_ENDPOINT = "https://iamcredentials.googleapis.com"
_ENV = "GOOGLE_APPLICATION_CREDENTIALS"


@dataclass(frozen=True)
class LoadedCredentials:
    """Credentials for gspread plus what may be shown about them."""

    credentials: Credentials
    email: str | None
    """The service account acting (share the spreadsheets with it); None for a user or anonymous."""
    source: str
    """Where they came from, for ``check`` and messages (a path or a kind, never a secret)."""


def load_credentials(settings: SheetsSettings, environ: Mapping[str, str] | None = None) -> LoadedCredentials:
    """Credentials in the order above. Raises ``ConfigError`` saying what to set.

    ``environ`` (default ``os.environ``) is where ``GOOGLE_APPLICATION_CREDENTIALS``
    is looked up. With ``sheets.api_endpoint`` set and nothing found: anonymous
    (a local Sheets-compatible server).
    """
    env = os.environ if environ is None else environ
    if settings.credentials_file:
        loaded = _key_file(Path(settings.credentials_file).expanduser(), "sheets.credentials_file",
                           impersonating=bool(settings.impersonate_service_account))
    elif env.get(_ENV):
        loaded = _adc_file(Path(env[_ENV]).expanduser(), impersonating=bool(settings.impersonate_service_account))
    else:
        found = _application_default(impersonating=bool(settings.impersonate_service_account))
        if found is None:
            if settings.api_endpoint and not settings.impersonate_service_account:
                return LoadedCredentials(AnonymousCredentials(), None, "anonymous")
            raise ConfigError(
                "no Google credentials found: sheets.credentials_file is empty and Application Default "
                "Credentials are not set up. Use one of: a service-account key file in "
                "sheets.credentials_file (or GOOGLE_APPLICATION_CREDENTIALS); on GCE, GKE or Cloud Run the "
                "attached service account (nothing to set); a workload identity federation file in "
                "GOOGLE_APPLICATION_CREDENTIALS; or `gcloud auth application-default login` plus "
                "sheets.impersonate_service_account. See docs/google-sheets.md."
            )
        loaded = found
    target = settings.impersonate_service_account
    if not target:
        return loaded
    endpoint = (settings.iam_endpoint or GOOGLE_IAM_ENDPOINT).rstrip("/")
    credentials = impersonated_credentials.Credentials(
        source_credentials=loaded.credentials, target_principal=target, target_scopes=list(SCOPES),
        iam_endpoint_override=f"{endpoint}/v1/projects/-/serviceAccounts/{target}:generateAccessToken",
    )
    return LoadedCredentials(credentials, target, f"{loaded.source}, impersonating {target}")


def _key_file(path: Path, where: str, *, impersonating: bool) -> LoadedCredentials:
    """A service-account key file, with the checks a person can act on."""
    info = _read_json(path, where)
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else None
        raise ConfigError(
            f"{where} {path} is not a service-account key (its type is {kind!r}); create a key for a "
            "service account in the Google Cloud console, or leave sheets.credentials_file empty to use "
            "Application Default Credentials."
        )
    scopes = IAM_SCOPES if impersonating else SCOPES
    try:
        credentials = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))
    except ValueError as error:
        # google-auth names missing fields; a bad key raises from cryptography: say less then.
        detail = str(error) if "missing fields" in str(error) else "its private_key cannot be loaded"
        raise ConfigError(f"{where} {path} is not a usable service-account key: {detail}.") from None
    return LoadedCredentials(credentials, info.get("client_email"), f"{where} {path}")


def _adc_file(path: Path, *, impersonating: bool) -> LoadedCredentials:
    """``GOOGLE_APPLICATION_CREDENTIALS``: a key, an ``external_account`` file or user credentials."""
    info = _read_json(path, _ENV)
    kind = info.get("type") if isinstance(info, dict) else None
    if kind == "service_account":
        return _key_file(path, _ENV, impersonating=impersonating)
    scopes = list(IAM_SCOPES if impersonating else SCOPES)
    try:
        if kind == "external_account":
            credentials = _external_account(info, scopes)
        else:
            credentials, _ = google.auth.load_credentials_from_file(str(path), scopes=scopes)
    except (google.auth.exceptions.GoogleAuthError, ValueError) as error:
        raise ConfigError(f"{_ENV} {path} cannot be used ({_first_line(error)}).") from None
    return LoadedCredentials(credentials, email_of(credentials), f"{_ENV} {path} ({_kind(credentials)})")


def _external_account(info: dict[str, Any], scopes: list[str]) -> Credentials:
    """Workload identity federation credentials from their file, as google-auth builds them, minus its
    project-id lookup (a request to Cloud Resource Manager this service has no use for)."""
    source = info.get("credential_source") or {}
    if info.get("subject_token_type") == "urn:ietf:params:aws:token-type:aws4_request":
        from google.auth import aws

        return aws.Credentials.from_info(info, scopes=scopes)
    if isinstance(source, dict) and source.get("executable") is not None:
        from google.auth import pluggable

        return pluggable.Credentials.from_info(info, scopes=scopes)
    from google.auth import identity_pool

    return identity_pool.Credentials.from_info(info, scopes=scopes)


def _application_default(*, impersonating: bool) -> LoadedCredentials | None:
    """gcloud's application-default login or the metadata server; None when neither is there."""
    scopes = IAM_SCOPES if impersonating else SCOPES
    quiet = _Quiet()
    # google-auth warns of a missing metadata server; "none found" is said once, by the caller.
    logging.getLogger("google.auth._default").addFilter(quiet)
    try:
        credentials, _ = google.auth.default(scopes=list(scopes))
    except google.auth.exceptions.DefaultCredentialsError:
        return None
    finally:
        logging.getLogger("google.auth._default").removeFilter(quiet)
    return LoadedCredentials(credentials, email_of(credentials),
                             f"Application Default Credentials ({_kind(credentials)})")


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "metadata server" not in record.getMessage()


def _read_json(path: Path, where: str) -> Any:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{where} {path} cannot be read ({error.strerror or 'error'}).") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("credentials file %s is readable by other users (mode %s); run: chmod 600 %s",
                    path, oct(stat.S_IMODE(mode)), path)
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(f"{where} {path} is not JSON; it must be a Google credentials file.") from None


def _kind(credentials: Credentials) -> str:
    """What kind of credentials these are, in the words of Google's documentation."""
    module = type(credentials).__module__
    if module.startswith("google.auth.compute_engine"):
        return "metadata server: the attached service account"
    if module.startswith(("google.auth.identity_pool", "google.auth.aws", "google.auth.pluggable",
                          "google.auth.external_account")):
        return "workload identity federation"
    if module.startswith("google.oauth2.credentials"):
        return "user credentials from gcloud auth application-default login"
    if module.startswith("google.oauth2.service_account"):
        return "service-account key"
    if module.startswith("google.auth.impersonated_credentials"):
        return "impersonated service account"
    return type(credentials).__name__


def email_of(credentials: Credentials) -> str | None:
    """The service account credentials act as, when they say (None for a user or not yet known)."""
    email = getattr(credentials, "service_account_email", None)
    if email in (None, "default"):
        # The metadata server names the attached account only when asked; shown after the first request.
        return None
    return str(email)


def _first_line(error: BaseException) -> str:
    return str(error).split("\n", 1)[0][:200]
