"""gspread's HTTP client with a timeout on every request, bounded retries and plain-language errors.

gspread's own ``BackOffHTTPClient`` retries forever and sends requests with no
timeout; this one retries 429/408/5xx, connection errors, timeouts and
non-JSON error pages with exponential backoff and full jitter (tenacity),
honours ``Retry-After``, and stops after ``max_attempts`` or
``max_total_seconds``. Final failures become ``models.errors`` classes whose
message says what to do.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import google.auth.exceptions
import requests
import tenacity
from google.auth.credentials import Credentials
from gspread.http_client import FileType, HTTPClient, ParamsType
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from models.errors import (
    SheetsAccessDenied,
    SheetsRequestError,
    SheetsUnavailable,
    SpreadsheetNotFound,
)
from models.settings import RetrySettings
from sheets.transport import RequestCounter, authorized_session

log = logging.getLogger(__name__)

GOOGLE_SHEETS_ROOT = SPREADSHEETS_API_V4_BASE_URL.removesuffix("/v4/spreadsheets")
"""``https://sheets.googleapis.com``: gspread's URLs all start with it."""

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_NO_RETRY_EVEN_IF_HTML = frozenset({401, 403, 404})
_ID_IN_URL = re.compile(r"/v4/spreadsheets/([^/:?]+)(.*)$")


class SheetsApiRequestError(SheetsRequestError):
    """A 4xx refusal other than 401/403/404, with Google's status and message."""

    def __init__(self, message: str, *, status: int, google_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.google_message = google_message

    @property
    def unparsable_range(self) -> bool:
        """True for Google's ``400 Unable to parse range``: a named tab does not exist."""
        return self.status == 400 and self.google_message.startswith("Unable to parse range")


class _Retryable(Exception):
    """One failed attempt that is worth repeating."""

    def __init__(self, what: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.retry_after = retry_after


class _FullJitter(tenacity.wait.wait_exponential):
    """tenacity's exponential window, with the random draw from an injectable source."""

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        super().__init__(multiplier=base, max=cap)
        self._rng = rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self._rng.uniform(0, super().__call__(retry_state))


@dataclass(frozen=True)
class _Call:
    """What one API call is, for messages: ``values:batchGet on spreadsheet 1AbC``."""

    method: str
    spreadsheet_id: str | None

    @classmethod
    def from_url(cls, http_method: str, url: str) -> _Call:
        match = _ID_IN_URL.search(url)
        if not match:
            return cls(f"{http_method.upper()} {url.split('?', maxsplit=1)[0]}", None)
        spreadsheet_id, rest = match.groups()
        if rest.startswith(":"):
            method = "spreadsheets" + rest
        elif rest.startswith("/values:"):
            method = rest[1:]
        elif rest.startswith("/values/"):
            method = {"get": "values.get", "put": "values.update"}.get(http_method.lower(), "values")
        else:
            method = "spreadsheets.get"
        return cls(method, spreadsheet_id)

    def __str__(self) -> str:
        if self.spreadsheet_id:
            return f"{self.method} on spreadsheet {self.spreadsheet_id}"
        return self.method


def stoppable_sleep(stop: Callable[[], bool], *, slice_seconds: float = 0.1) -> Callable[[float], None]:
    """A retry sleep that ends as soon as ``stop()`` is true and then gives up the call.

    The daemon's SIGTERM makes ``stop()`` true: a ``Retry-After: 90`` must not keep a stopping
    process alive for 90 s. The cycle then fails like any Sheets outage (rolled back).
    """

    def sleep(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not stop():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(slice_seconds, left))
        raise SheetsUnavailable("stopped while waiting to retry Google Sheets: the process was asked to "
                                "stop; nothing of this cycle was stored, the next start syncs it")

    return sleep


class SheetsHttpClient(HTTPClient):
    """gspread ``HTTPClient`` that times out, retries within bounds and explains failures.

    ``base_url`` replaces ``https://sheets.googleapis.com`` in gspread's URLs
    (a Sheets-API-compatible server). ``account_email`` is named in 403
    messages. ``gate`` is called before every HTTP request, retries included
    (the quota shared by all processes blocks there while the window is full).
    ``sleep``, ``rng`` and ``clock`` are injectable for fast tests.
    """

    def __init__(
        self,
        auth: Credentials,
        session: requests.Session | None = None,
        *,
        retry: RetrySettings | None = None,
        base_url: str = "",
        account_email: str | None = None,
        credentials_source: str = "sheets.credentials_file",
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        gate: Callable[[], None] | None = None,
    ) -> None:
        self._counter = RequestCounter(before=gate)
        super().__init__(auth, session or authorized_session(auth, self._counter))
        self.retry = retry or RetrySettings()
        self.base_url = (base_url or GOOGLE_SHEETS_ROOT).rstrip("/")
        self.account_email = account_email
        self.credentials_source = credentials_source
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._retries = 0
        self.timeout = self.retry.timeout_seconds

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far: every attempt, the repeat after a 401 and OAuth token requests."""
        return self._counter.count

    @property
    def retry_count(self) -> int:
        """Attempts that failed transiently and were repeated so far."""
        return self._retries

    def request(  # noqa: PLR0917 (gspread's signature)
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one API call, retrying transient failures; raise a ``SheetsError`` when it fails."""
        url = self._rewrite(endpoint)
        call = _Call.from_url(method, url)
        started = self._clock()
        policy = self.retry

        def attempt() -> requests.Response:
            remaining = policy.max_total_seconds - (self._clock() - started)
            timeout = max(min(policy.timeout_seconds, remaining), 0.05)
            return self._send_once(method, url, timeout, params=params, data=data, json=json,
                                   files=files, headers=headers)

        def out_of_budget(state: tenacity.RetryCallState) -> bool:
            spent = self._clock() - started
            return spent + state.upcoming_sleep >= policy.max_total_seconds

        out_of_attempts = tenacity.stop_after_attempt(policy.max_attempts)

        def should_stop(state: tenacity.RetryCallState) -> bool:
            # What ``out_of_attempts | out_of_budget`` does; tenacity types ``|`` for stop objects only.
            return out_of_attempts(state) or out_of_budget(state)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=should_stop,
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(call, state),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as failure:
            attempts = retrying.statistics.get("attempt_number", 1)
            elapsed = self._clock() - started
            raise SheetsUnavailable(
                f"Google Sheets is unavailable: {call} failed {attempts} time(s) in {elapsed:.1f} s "
                f"(last: {failure.what}). Retries stopped at the limit of sheets.retry (max_attempts "
                f"{policy.max_attempts}, max_total_seconds {policy.max_total_seconds:g}); the next cycle "
                "will try again."
            ) from None

    def _rewrite(self, endpoint: str) -> str:
        if endpoint.startswith(GOOGLE_SHEETS_ROOT):
            return self.base_url + endpoint[len(GOOGLE_SHEETS_ROOT):]
        return endpoint

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Retryable) and failure.retry_after is not None:
            return failure.retry_after
        jitter = _FullJitter(self.retry.backoff_base_seconds, self.retry.backoff_max_seconds, self._rng)
        return jitter(state)

    def _log_retry(self, call: _Call, state: tenacity.RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        self._retries += 1
        log.warning("Sheets %s failed (%s); attempt %d of %d, retrying in %.2f s", call,
                    getattr(failure, "what", failure), state.attempt_number, self.retry.max_attempts,
                    state.upcoming_sleep)

    def _send_once(self, method: str, url: str, timeout: float, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method=method, url=url, timeout=timeout, **kwargs)
        except requests.Timeout:
            raise _Retryable(f"no answer within the {timeout:.2f} s timeout") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            raise _Retryable(f"connection failed ({_short(error)})") from None
        except google.auth.exceptions.TransportError as error:
            raise _Retryable(f"could not reach the OAuth token endpoint ({_short(error)})") from None
        except google.auth.exceptions.InvalidOperation:
            raise SheetsAccessDenied(
                f"Google Sheets at {self.base_url} asked for credentials and none are configured: set "
                "sheets.credentials_file or Application Default Credentials (see docs/google-sheets.md)."
            ) from None
        except google.auth.exceptions.RefreshError as error:
            if getattr(error, "retryable", False):
                raise _Retryable("the OAuth token endpoint failed") from None
            raise SheetsAccessDenied(
                f"Google did not issue an access token{self._account_phrase()} ({_oauth_reason(error)}) for "
                f"the credentials from {self.credentials_source}: a key may be revoked, deleted or belong to "
                "another project; an impersonating account needs the Service Account Token Creator role on "
                "the account it impersonates. Create a new key (or fix the role) and run `python -m sync check`."
            ) from None
        return self._check(response, _Call.from_url(method, url))

    def _check(self, response: requests.Response, call: _Call) -> requests.Response:
        status = response.status_code
        is_json = "json" in response.headers.get("Content-Type", "")
        if response.ok:
            if response.content and not is_json:
                raise _Retryable(f"HTTP {status} with a non-JSON body ({_page_title(response)})")
            return response
        error = _google_error(response) if is_json else None
        if error is None and status not in _NO_RETRY_EVEN_IF_HTML:
            raise _Retryable(f"HTTP {status} with a non-JSON error page ({_page_title(response)})",
                             status=status, retry_after=_retry_after(response))
        code_name, message = error or ("", response.reason or "")
        if status in RETRY_STATUSES:
            retry_after = _retry_after(response)
            what = f"HTTP {status} {code_name}: {message}".replace("  ", " ")
            if retry_after is not None:
                what += f" (Retry-After: {retry_after:g} s)"
            raise _Retryable(what, status=status, retry_after=retry_after)
        raise self._final_error(status, code_name, message, call)

    def _final_error(self, status: int, code_name: str, message: str, call: _Call) -> Exception:
        sheet = call.spreadsheet_id or "(unknown id)"
        if status == 403:
            if self.account_email:
                whom = f"the service account {self.account_email}"
            else:
                whom = "the account the service uses (the client_email in sheets.credentials_file)"
            return SheetsAccessDenied(
                f"Google Sheets denied access to spreadsheet {sheet} (HTTP 403: {message}). "
                f"Share the spreadsheet with {whom} as an Editor (Share button in Google Sheets), "
                "and check that the Google Sheets API is enabled for its project."
            )
        if status == 401:
            return SheetsAccessDenied(
                f"Google Sheets did not accept the credentials{self._account_phrase()} (HTTP 401: "
                f"{message}). Check sheets.credentials_file: the key may be revoked or expired."
            )
        if status == 404:
            return SpreadsheetNotFound(
                f"Spreadsheet {sheet} was not found (HTTP 404): the spreadsheet id is wrong or the "
                "spreadsheet was deleted. Check sheets.spreadsheet_id and sheets.summary_spreadsheet_id: "
                "the id is the long text between /d/ and /edit in the spreadsheet's address."
            )
        return SheetsApiRequestError(
            f"Google Sheets refused {call} (HTTP {status} {code_name}: {message})".replace(" :", ":"),
            status=status, google_message=message,
        )

    def _account_phrase(self) -> str:
        return f" {self.account_email}" if self.account_email else ""


def _google_error(response: requests.Response) -> tuple[str, str] | None:
    """(status name, message) from Google's ``{"error": {...}}`` body, None if not that shape."""
    try:
        error = response.json()["error"]
        return str(error.get("status", "")), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _oauth_reason(error: google.auth.exceptions.RefreshError) -> str:
    """The token endpoint's own words (``invalid_grant: Invalid JWT Signature.``), one short line."""
    text = str(error.args[0]) if error.args else "refused"
    return text.split("\n", 1)[0][:200]


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _page_title(response: requests.Response) -> str:
    match = re.search(r"<title>(.*?)</title>", response.text[:2000], re.IGNORECASE | re.DOTALL)
    if match:
        return match.group(1).strip()[:100]
    return response.headers.get("Content-Type") or "no content type"


def _short(error: BaseException) -> str:
    """A one-line reason without URLs' query strings (which may carry tokens)."""
    text = str(error).split("\n")[0]
    text = re.sub(r"\?[^\s'\")]*", "", text)
    # urllib3 buries the reason under pool and connection reprs; keep "host:port: reason".
    where = re.search(r"host='([^']+)', port=(\d+)", text)
    reason = re.search(r"\[Errno -?\d+\] ([^\"')]+)", text)
    if where and reason:
        return f"{where.group(1)}:{where.group(2)}: {reason.group(1).strip()}"
    return text[:200]
