"""Signing in to Google and what ``check`` proves: credentials in SPEC order (a key file, the
metadata server, workload identity federation, gcloud, impersonation), read access to the input,
write access to the output, the cell budget."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.errors import ConfigError, SheetsAccessDenied
from models.settings import SheetsSettings
from sheets.google import GoogleSheetsBackend
from tests.cycle.conftest import run_cli
from tests.faults.conftest import InProcess
from tests.faults.support import GoogleSheet, query
from tests.sheets_api.auth_servers import KeylessAuthServer
from tests.sheets_api.fixtures import FakeTime, ServiceAccount
from tests.sheets_api.server import FakeSheetsServer

NOW = ("--now", "2026-11-03T09:00")


def test_check_proves_the_output_spreadsheet_is_writable(cli_config: Callable[..., Path],
                                                          google_sheet: GoogleSheet,
                                                          sheets_server: FakeSheetsServer) -> None:
    sheets_server.create_spreadsheet("summary-book", {"Notes": []}, title="Team Summary")
    config = cli_config(sheets={"summary_spreadsheet_id": "summary-book"})

    result = run_cli("check", *NOW, config=config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK   output spreadsheet summary-book ('Team Summary'): writable" in result.stdout
    assert sheets_server.tab_titles("summary-book") == ["Notes"]  # the proof wrote nothing visible
    assert sheets_server.metadata("summary-book")["properties"]["title"] == "Team Summary"
    assert "All checks passed." in result.stdout


def test_check_fails_when_the_output_spreadsheet_is_shared_read_only(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer) -> None:
    sheets_server.create_spreadsheet("summary-book", {"Notes": []})
    sheets_server.share("summary-book", role="reader")  # a Viewer: reading works, the first run would not
    config = cli_config(sheets={"summary_spreadsheet_id": "summary-book"})

    result = run_cli("check", *NOW, config=config)

    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if "summary-book" in x and "writable" in x)
    assert line.startswith("FIX  output spreadsheet summary-book") and "Editor" in line
    assert "All checks passed." not in result.stdout


def test_check_reports_the_cell_budget_and_warns_above_80_percent(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer) -> None:
    config = cli_config()
    calm = run_cli("check", *NOW, config=config)
    sheets_server.add_tab(google_sheet.id, "Archive 2024", rows=330_000, columns=26)  # 8,580,000 cells

    crowded = run_cli("check", *NOW, config=config)

    cells = sum(t.row_count * t.column_count for t in map(lambda n: sheets_server.tab(google_sheet.id, n),
                                                            sheets_server.tab_titles(google_sheet.id)))
    assert "cells used" in calm.stdout and "WARN" not in calm.stdout
    warning = next(x for x in crowded.stdout.splitlines() if x.startswith("WARN"))
    assert f"cells used {cells:,} of 10,000,000 (" in warning and "above 80 %" in warning
    assert "sheets.summary_spreadsheet_id" in warning
    assert crowded.returncode == 0  # a warning, not a failure


# --- keyless sign-in: local metadata, STS and IAM servers; the Sheets server wants their tokens ---

SPREADSHEETS = ("https://www.googleapis.com/auth/spreadsheets",)
TARGET = "goals-writer@test-project.iam.gserviceaccount.com"


@pytest.fixture
def keyless(sheets_server: FakeSheetsServer) -> Iterator[KeylessAuthServer]:
    """The keyless auth servers; the Sheets server from now on answers 401 without one of their tokens."""
    server = KeylessAuthServer(sheets_server).start()
    sheets_server.require_auth()
    yield server
    server.stop()


def sheets_tokens(sheets_server: FakeSheetsServer) -> set[str]:
    """The bearer tokens the Sheets API requests carried."""
    return {(r.authorization or "").removeprefix("Bearer ") for r in sheets_server.requests if r.kind != "token"}


def test_on_gce_the_metadata_server_signs_in_with_no_key_file(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        keyless: KeylessAuthServer) -> None:
    config = cli_config()
    on_gce = {"NO_GCE_CHECK": "false", "GCE_METADATA_HOST": keyless.host, "GCE_METADATA_IP": keyless.host}

    checked = run_cli("check", *NOW, config=config, env=on_gce)
    ran = run_cli("run", "--once", *NOW, config=config, env=on_gce)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "credentials: Application Default Credentials (metadata server" in checked.stdout
    assert ran.returncode == 0, ran.stderr
    assert google_sheet.output("Summary")[0][0] == "Rep"
    tokens = sheets_tokens(sheets_server)
    assert tokens and all(sheets_server.token_email(t) == keyless.vm_account for t in tokens)
    assert all(sheets_server.token_scopes(t) == SPREADSHEETS for t in tokens)
    assert ("metadata", "/computeMetadata/v1/instance/service-accounts/default/token") in keyless.calls


def test_without_the_metadata_server_no_request_leaves_this_machine(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, keyless: KeylessAuthServer) -> None:
    # The test session's own settings: NO_GCE_CHECK=true and a closed local port as the metadata host.
    result = run_cli("check", *NOW, config=cli_config())

    assert "credentials: anonymous" in result.stdout
    assert keyless.calls == []


def workload_identity_file(tmp_path: Path, keyless: KeylessAuthServer) -> Path:
    """An ``external_account`` file as ``gcloud iam workload-identity-pools create-cred-config`` writes one."""
    subject = tmp_path / "oidc-token"
    subject.write_text(keyless.subject_token)
    path = tmp_path / "wif.json"
    path.write_text(json.dumps({
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/providers/gh",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{keyless.url}/v1/token",
        "credential_source": {"file": str(subject)},
    }))
    return path


def test_workload_identity_federation_signs_in_with_an_external_account_file(
        google_sheet: GoogleSheet, sheets_server: FakeSheetsServer, keyless: KeylessAuthServer,
        google_sheets_settings: Callable[..., SheetsSettings], tmp_path: Path) -> None:
    path = workload_identity_file(tmp_path, keyless)
    backend = GoogleSheetsBackend(google_sheets_settings(google_sheet.id),
                                  environ={"GOOGLE_APPLICATION_CREDENTIALS": str(path)})

    grids = backend.read_tabs(["Reps"])

    assert grids["Reps"] is not None
    assert "workload identity federation" in backend.credentials_source
    tokens = sheets_tokens(sheets_server)
    assert {sheets_server.token_email(t) for t in tokens} == {keyless.federated_principal}
    assert {sheets_server.token_scopes(t) for t in tokens} == {SPREADSHEETS}
    assert backend.request_count == 2  # the token exchange and the read


def test_impersonation_on_top_of_workload_identity(
        google_sheet: GoogleSheet, sheets_server: FakeSheetsServer, keyless: KeylessAuthServer,
        google_sheets_settings: Callable[..., SheetsSettings], tmp_path: Path) -> None:
    keyless.may_impersonate[keyless.federated_principal] = {TARGET}
    settings = google_sheets_settings(google_sheet.id, impersonate_service_account=TARGET, iam_endpoint=keyless.url)
    backend = GoogleSheetsBackend(settings, environ={"GOOGLE_APPLICATION_CREDENTIALS":
                                                     str(workload_identity_file(tmp_path, keyless))})

    backend.read_tabs(["Reps"])

    tokens = sheets_tokens(sheets_server)
    assert {sheets_server.token_email(t) for t in tokens} == {TARGET}
    assert {sheets_server.token_scopes(t) for t in tokens} == {SPREADSHEETS}
    assert backend.account_email == TARGET
    assert [what for what, _ in keyless.calls] == ["sts", "iam"]
    assert backend.request_count == 3


def test_impersonation_on_top_of_a_key_file(
        google_sheet: GoogleSheet, sheets_server: FakeSheetsServer, keyless: KeylessAuthServer,
        google_sheets_settings: Callable[..., SheetsSettings], sheets_service_account: ServiceAccount) -> None:
    keyless.may_impersonate[sheets_service_account.email] = {TARGET}
    settings = google_sheets_settings(google_sheet.id, credentials_file=str(sheets_service_account.path),
                                      impersonate_service_account=TARGET, iam_endpoint=keyless.url)

    GoogleSheetsBackend(settings, environ={}).read_tabs(["Reps"])

    tokens = sheets_tokens(sheets_server)
    assert {sheets_server.token_email(t) for t in tokens} == {TARGET}
    assert {sheets_server.token_scopes(t) for t in tokens} == {SPREADSHEETS}


def test_impersonation_without_the_token_creator_role_says_what_to_grant(
        google_sheet: GoogleSheet, keyless: KeylessAuthServer, fake_time: FakeTime,
        google_sheets_settings: Callable[..., SheetsSettings], sheets_service_account: ServiceAccount) -> None:
    settings = google_sheets_settings(google_sheet.id, credentials_file=str(sheets_service_account.path),
                                      impersonate_service_account=TARGET, iam_endpoint=keyless.url)
    backend = GoogleSheetsBackend(settings, environ={}, sleep=fake_time.sleep, clock=fake_time.now)

    with pytest.raises(SheetsAccessDenied, match="Token Creator") as failure:
        backend.read_tabs(["Reps"])

    assert sheets_service_account.private_key.splitlines()[1] not in str(failure.value)


def test_a_revoked_key_shows_the_token_endpoints_own_words(
        google_sheet: GoogleSheet, sheets_server: FakeSheetsServer, fake_time: FakeTime,
        google_sheets_settings: Callable[..., SheetsSettings], sheets_service_account: ServiceAccount) -> None:
    sheets_server.revoke(sheets_service_account.email)
    settings = google_sheets_settings(google_sheet.id, credentials_file=str(sheets_service_account.path))
    backend = GoogleSheetsBackend(settings, environ={}, sleep=fake_time.sleep, clock=fake_time.now)

    with pytest.raises(SheetsAccessDenied, match="invalid_grant: Invalid JWT Signature") as failure:
        backend.read_tabs(["Reps"])

    assert str(sheets_service_account.path) in str(failure.value)


@pytest.mark.process
def test_gcloud_application_default_login_is_found(
        google_sheets_settings: Callable[..., SheetsSettings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # google-auth always sends user-credential refreshes to Google's own endpoint, so this test
    # only proves the file is found (and used as the source for impersonation); it sends nothing.
    (tmp_path / "application_default_credentials.json").write_text(json.dumps({
        "type": "authorized_user", "client_id": "1.apps.googleusercontent.com", "client_secret": "not-a-secret",
        "refresh_token": "1//refresh"}))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    # google-auth then asks the gcloud command for a default project (not used here): the machine's
    # own gcloud, if any, is hidden, so the test never runs it (0.5 s, and it may go online).
    path = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv("PATH", os.pathsep.join(d for d in path if d and not (Path(d) / "gcloud").exists()))

    backend = GoogleSheetsBackend(google_sheets_settings(impersonate_service_account=TARGET), environ={})

    assert backend.credentials_source == ("Application Default Credentials (user credentials from gcloud auth "
                                          f"application-default login), impersonating {TARGET}")
    assert backend.account_email == TARGET


def test_without_any_credentials_the_message_lists_the_ways(google_sheets_settings: Callable[..., SheetsSettings]
                                                            ) -> None:
    settings = SheetsSettings(backend="google", spreadsheet_id="sheet-1")

    with pytest.raises(ConfigError) as failure:
        GoogleSheetsBackend(settings, environ={})

    for way in ("sheets.credentials_file", "GCE, GKE or Cloud Run", "workload identity federation",
                "gcloud auth application-default login", "sheets.impersonate_service_account"):
        assert way in str(failure.value)


def test_the_sync_log_counts_every_request_token_and_retries_included(
        in_process: Callable[..., InProcess], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        sheets_service_account: ServiceAccount, fresh_db_url: str) -> None:
    sheets_server.require_auth()
    run = in_process(sheets={"credentials_file": str(sheets_service_account.path),
                             "retry": {"timeout_seconds": 2.0, "max_attempts": 3, "max_total_seconds": 6,
                                       "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}})
    sheets_server.inject(503, kind="values.batchUpdate")  # one write retried

    first = run.cycle("2026-11-03T09:00")
    sent = len(sheets_server.requests)
    sheets_server.clear_requests()
    second = run.cycle("2026-11-03T10:00")  # a fresh backend: a token, then the one read

    assert first.status == "success", first
    assert first.api_reads + first.api_writes == sent
    assert [r.kind for r in sheets_server.requests] == ["token", "values.batchGet"]
    assert (second.api_reads, second.api_writes) == (2, 0)
    logged = query(fresh_db_url, "SELECT api_reads + api_writes FROM sheets_sync_log ORDER BY id")
    assert [row[0] for row in logged] == [sent, 2]
