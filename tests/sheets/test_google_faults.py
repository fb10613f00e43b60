"""Faults: retries within bounds, timeouts, and messages a person can act on."""

from __future__ import annotations

import logging
import os
import time

import pytest

from models.errors import (
    ConfigError,
    SheetsAccessDenied,
    SheetsRequestError,
    SheetsUnavailable,
    SpreadsheetNotFound,
)
from models.settings import RetrySettings
from sheets.google import GoogleSheetsBackend
from sheets.outputs import Column, Layout, OutputTable, TabWrite

TABS = ["Reps", "Actuals"]


@pytest.fixture
def spreadsheet(sheets_server):
    sheets_server.create_spreadsheet("sheet-1", {
        "Reps": [["Email", "Name"], ["ann@example.com", "Ann"]],
        "Actuals": [["Email", "Year", "Month", "Signups"], ["ann@example.com", 2026, 11, 3]],
        "Summary": [],
    })
    return sheets_server


def summary_write() -> TabWrite:
    layout = Layout(columns=(Column("Rep"), Column("Signups", "number")))
    return TabWrite(OutputTable("Summary", layout, rows=(("Ann", 3), ("=cmd", 4))))


def test_three_429s_then_success(spreadsheet, google_backend, fake_time):
    spreadsheet.inject(429, times=3, retry_after=0)
    backend = google_backend()

    grids = backend.read_tabs(TABS)

    assert grids["Reps"][1] == ["ann@example.com", "Ann"]
    assert [r.status for r in spreadsheet.requests] == [429, 429, 429, 200]
    assert backend.request_count == 4
    assert fake_time.slept == [0, 0, 0]  # Retry-After: 0 honoured instead of the backoff


def test_retry_after_seconds_are_honoured(spreadsheet, google_backend, fake_time):
    spreadsheet.inject(503, retry_after=2)

    google_backend().read_tabs(TABS)

    assert fake_time.slept == [2.0]


def test_backoff_is_exponential_with_full_jitter(spreadsheet, google_backend, google_sheets_settings, fake_time):
    retry = RetrySettings(timeout_seconds=0.5, max_attempts=6, max_total_seconds=1000,
                          backoff_base_seconds=1, backoff_max_seconds=8)
    spreadsheet.inject(500, times=5)

    google_backend(google_sheets_settings(retry=retry)).read_tabs(TABS)

    windows = [1, 2, 4, 8, 8]
    assert len(fake_time.slept) == 5
    assert all(0 <= slept <= window for slept, window in zip(fake_time.slept, windows, strict=True))


def test_endless_503_fails_within_the_attempt_bound(spreadsheet, google_backend):
    spreadsheet.inject(503, times=None)

    with pytest.raises(SheetsUnavailable) as failure:
        google_backend().read_tabs(TABS)

    assert spreadsheet.count() == 4  # max_attempts in the test settings
    message = str(failure.value)
    assert "values:batchGet on spreadsheet sheet-1" in message
    assert "failed 4 time(s)" in message
    assert "HTTP 503 UNAVAILABLE: The service is currently unavailable." in message


def test_endless_503_fails_within_the_time_bound(spreadsheet, google_backend, google_sheets_settings, fake_time):
    retry = RetrySettings(timeout_seconds=1, max_attempts=20, max_total_seconds=30,
                          backoff_base_seconds=4, backoff_max_seconds=10)
    spreadsheet.inject(503, times=None)

    with pytest.raises(SheetsUnavailable, match="max_total_seconds 30"):
        google_backend(google_sheets_settings(retry=retry)).read_tabs(TABS)

    assert sum(fake_time.slept) < 30
    assert spreadsheet.count() < 20


def test_a_hung_server_times_out_is_retried_then_fails(spreadsheet, google_backend, google_sheets_settings):
    # 0.1 s: the held requests never answer, so a shorter timeout only shortens the test; each
    # request is recorded by the server within that time, before the next is sent.
    retry = RetrySettings(timeout_seconds=0.1, max_attempts=3, max_total_seconds=5,
                          backoff_base_seconds=0, backoff_max_seconds=0)
    spreadsheet.inject(delay=3, times=None)
    started = time.monotonic()

    with pytest.raises(SheetsUnavailable, match=r"no answer within the 0\.10 s timeout"):
        google_backend(google_sheets_settings(retry=retry)).read_tabs(TABS)

    assert spreadsheet.count() == 3
    assert time.monotonic() - started < 2.5


def test_one_slow_answer_is_retried_and_succeeds(spreadsheet, google_backend):
    spreadsheet.inject(delay=2)

    grids = google_backend().read_tabs(TABS)

    assert grids["Actuals"][1][3] == 3
    assert spreadsheet.count() == 2


def test_html_error_page_is_retried(spreadsheet, google_backend):
    spreadsheet.inject(502, html=True, times=2)

    grids = google_backend().read_tabs(TABS)

    assert grids["Reps"][0] == ["Email", "Name"]
    assert spreadsheet.count() == 3


def test_html_error_pages_that_never_stop_are_named_in_the_message(spreadsheet, google_backend):
    spreadsheet.inject(502, html=True, times=None)

    with pytest.raises(SheetsUnavailable, match=r"non-JSON error page \(Error 502 \(Server Error\)!!1\)"):
        google_backend().read_tabs(TABS)


def test_a_dropped_connection_is_retried(spreadsheet, google_backend):
    spreadsheet.inject(close=True)

    assert google_backend().read_tabs(TABS)["Reps"][1][1] == "Ann"
    assert spreadsheet.count() == 2


def test_a_retried_write_sends_the_same_values(spreadsheet, google_backend):
    spreadsheet.inject(503, times=2, kind="values.batchUpdate")

    report = google_backend().write_tabs([summary_write()])

    bodies = [r.body for r in spreadsheet.requests]
    assert len(bodies) == 3
    assert bodies[0] == bodies[1] == bodies[2]
    assert report.value_calls == 1
    assert spreadsheet.get_values("sheet-1", "Summary") == [["Rep", "Signups"], ["Ann", 3], ["=cmd", 4]]


def test_403_names_the_service_account_and_never_the_key(spreadsheet, google_backend, google_sheets_settings,
                                                         sheets_service_account):
    spreadsheet.unshare("sheet-1")
    settings = google_sheets_settings(credentials_file=str(sheets_service_account.path))

    with pytest.raises(SheetsAccessDenied) as failure:
        google_backend(settings).read_tabs(TABS)

    message = str(failure.value)
    assert sheets_service_account.email in message
    assert "Share the spreadsheet" in message
    assert "sheet-1" in message
    key_body = sheets_service_account.private_key.splitlines()[1]
    assert key_body not in message and "PRIVATE KEY" not in message
    assert spreadsheet.count() == 1  # a 403 is not retried
    # The request really carried the service account's token.
    api_request = next(r for r in spreadsheet.requests if r.kind != "token")
    token = api_request.authorization.removeprefix("Bearer ")
    assert spreadsheet.token_email(token) == sheets_service_account.email


def test_404_says_the_spreadsheet_id_is_wrong(sheets_server, google_backend):
    with pytest.raises(SpreadsheetNotFound) as failure:
        google_backend(spreadsheet_id="1NoSuchId").read_tabs(TABS)

    message = str(failure.value)
    assert "1NoSuchId" in message
    assert "sheets.spreadsheet_id" in message
    assert sheets_server.count() == 1


def test_other_refusals_carry_googles_message(spreadsheet, google_backend):
    spreadsheet.inject(400, message="Invalid requests[0].repeatCell: No grid with id: 5",
                       kind="values.batchUpdate")

    with pytest.raises(SheetsRequestError, match=r"No grid with id: 5") as failure:
        google_backend().write_tabs([summary_write()])
    assert "HTTP 400 INVALID_ARGUMENT" in str(failure.value)


def test_an_unknown_request_kind_is_refused_like_google(spreadsheet, google_backend):
    backend = google_backend()

    with pytest.raises(SheetsRequestError, match='Unknown name "frobnicate"'):
        backend._http.batch_update("sheet-1", {"requests": [{"frobnicate": {}}]})


def test_a_group_readable_key_file_is_warned_about(google_sheets_settings, sheets_service_account, caplog):
    os.chmod(sheets_service_account.path, 0o644)

    with caplog.at_level(logging.WARNING, logger="sheets.credentials"):
        GoogleSheetsBackend(google_sheets_settings(credentials_file=str(sheets_service_account.path)), environ={})

    assert "chmod 600" in caplog.text
    assert sheets_service_account.private_key.splitlines()[1] not in caplog.text


def test_a_key_file_that_is_not_a_service_account_is_a_config_error(google_sheets_settings, tmp_path):
    path = tmp_path / "oauth-client.json"
    path.write_text('{"installed": {"client_id": "x", "client_secret": "very-secret"}}')

    with pytest.raises(ConfigError, match="not a service-account key") as failure:
        GoogleSheetsBackend(google_sheets_settings(credentials_file=str(path)), environ={})
    assert "very-secret" not in str(failure.value)


def test_google_application_credentials_is_used_when_the_config_names_no_file(
        spreadsheet, google_sheets_settings, sheets_service_account):
    backend = GoogleSheetsBackend(google_sheets_settings(),
                                  environ={"GOOGLE_APPLICATION_CREDENTIALS": str(sheets_service_account.path)})

    assert backend.account_email == sheets_service_account.email
    assert "PRIVATE" not in backend.describe()


def test_a_retry_after_beyond_the_budget_fails_at_once_and_says_so(spreadsheet, google_backend, fake_time):
    spreadsheet.inject(429, retry_after=3600, times=None)

    with pytest.raises(SheetsUnavailable, match=r"Retry-After: 3600 s") as failure:
        google_backend().read_tabs(TABS)

    assert fake_time.slept == []
    assert spreadsheet.count() == 1
    assert "RESOURCE_EXHAUSTED" in str(failure.value)


def test_request_counts_include_token_requests_and_the_repeats_after_a_401(
        spreadsheet, google_sheets_settings, sheets_service_account, fake_time):
    spreadsheet.require_auth()
    backend = GoogleSheetsBackend(google_sheets_settings(credentials_file=str(sheets_service_account.path)),
                                  sleep=fake_time.sleep, clock=fake_time.now, environ={})
    backend.read_tabs(TABS)
    assert backend.request_count == len(spreadsheet.requests) == 2  # a token, then the read
    spreadsheet.inject(401, times=None)  # the token stopped working and refreshing does not help

    with pytest.raises(SheetsAccessDenied):
        backend.read_tabs(TABS)

    sent = spreadsheet.requests
    assert backend.request_count == len(sent) > 4
    assert [r.kind for r in sent[2:]].count("values.batchGet") >= 2
    assert [r.kind for r in sent[2:]].count("token") >= 1
