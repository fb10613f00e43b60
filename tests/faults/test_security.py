"""Security: a cell never becomes code, secrets never reach output, output tabs can be locked.

- Text starting with ``=``, ``+``, ``-`` or ``@`` goes back to the spreadsheet as
  text: RAW values to Google, string cells (never formulas) in xlsx.
- The database password, the service account's private key and notification
  tokens never appear in what ``run --once`` or ``check`` print, nor in the
  database's logs of cycles and jobs, whatever fails.
- A key file readable by other users draws a warning.
- ``sheets.protect_output_tabs`` protects Summary, Leaderboard and Sync Errors so
  that only the service account can edit them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy.engine import make_url

from sheets.inputs import column_letter
from sheets.xlsx import create_workbook
from tests.cycle.conftest import run_cli, run_clis
from tests.faults.conftest import InProcess
from tests.faults.support import (
    OUTPUT_TABS,
    REFUSE_SYNC_LOG,
    GoogleSheet,
    execute,
    format_requests,
    query,
    sent_values,
    workbook,
)
from tests.sheets_api.fixtures import ServiceAccount
from tests.sheets_api.server import FakeSheetsServer

DANGEROUS = ["=1+2", "+SUM(A1:A9)", "-3+4", "@INDIRECT(\"A1\")", '=IMPORTXML("http://evil.example/x","//a")',
             "=HYPERLINK(\"http://evil.example\",\"click\")"]
DB_PASSWORD = "Db-Pa55word-8c1f"
MAIL_PASSWORD = "M4il-Pa55word-77aa"
HOOK_TOKEN = "T3amT0ken-secret-93bd"


def dangerous_workbook() -> dict[str, list[list[Any]]]:
    """The clean workbook with a formula-looking name, team and title on every rep."""
    tabs = workbook()
    for index, row in enumerate(tabs["Reps"][1:]):
        row[1] = DANGEROUS[index]
        row[2] = DANGEROUS[index + 3]
        row[3] = DANGEROUS[(index + 1) % len(DANGEROUS)]
    return tabs


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- cells never become code ------------------------------------------------------------

def test_formula_text_goes_to_google_as_raw_text(in_process: Callable[..., InProcess], google_sheet: GoogleSheet,
                                                  sheets_server: FakeSheetsServer, fresh_db_url: str) -> None:
    google_sheet.put(dangerous_workbook())

    assert in_process().cycle("2026-11-03T09:00").status == "success"

    bodies = sent_values(sheets_server)
    assert bodies and all(body["valueInputOption"] == "RAW" for body in bodies)
    names = {row[0] for row in google_sheet.output("Summary")[1:]}
    assert set(DANGEROUS[:3]) <= names
    for tab in ("Summary", "Leaderboard"):
        grid = google_sheet.output(tab)
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if isinstance(value, str) and value and value[0] in "=+-@":
                    cell = sheets_server.get_cell(google_sheet.id, tab, f"{column_letter(c)}{r + 1}")
                    assert cell is not None and cell.formula is None and cell.value == value, (tab, r, c)
    stored = {name for (name,) in query(fresh_db_url, "SELECT name FROM sales_reps")}
    assert stored == set(DANGEROUS[:3])


def test_formula_text_stays_text_in_xlsx(settings_factory: Callable[..., Any], fresh_db_url: str,
                                         tmp_path: Path) -> None:
    from models.store import Store
    from sheets.xlsx import XlsxBackend
    from sync.clock import parse_now
    from sync.cycle import run_cycle

    path = tmp_path / "goals.xlsx"
    create_workbook(path, dangerous_workbook())
    settings = settings_factory(database={"url": fresh_db_url}, sheets={"backend": "xlsx", "xlsx_path": str(path)})
    store = Store.open(settings)
    try:
        result = run_cycle(settings, store, XlsxBackend(path), parse_now("2026-11-03T09:00", settings.tz))
    finally:
        store.dispose()
    assert result.status == "success", result.error

    book = openpyxl.load_workbook(path)
    seen: set[str] = set()
    for tab in ("Summary", "Leaderboard", "Reps"):
        for row in book[tab].iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value and cell.value[0] in "=+-@":
                    assert cell.data_type == "s", f"{tab}!{cell.coordinate} {cell.value!r} became a formula"
                    seen.add(cell.value)
    assert set(DANGEROUS) <= seen
    # What the next cycle reads back is still the text.
    grids = XlsxBackend(path).read_tabs(["Summary", "Reps"])
    assert {row[0] for row in grids["Summary"][1:]} >= set(DANGEROUS[:3])


# --- secrets never printed or stored ----------------------------------------------------

def secrets_of(account: ServiceAccount) -> list[str]:
    """Every secret of the test config, with each line of the private key body."""
    key_lines = [line for line in account.private_key.splitlines() if line and "PRIVATE KEY" not in line]
    return [DB_PASSWORD, MAIL_PASSWORD, HOOK_TOKEN, "PRIVATE KEY", *key_lines]


def assert_no_secret(where: str, text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{where} shows a secret ({secret[:12]}…):\n{text[-3000:]}"


def leaky_config(write_config: Callable[..., Path], account: ServiceAccount, database_url: str,
                 sheet: GoogleSheet, **sheets: Any) -> Path:
    """A config full of secrets, logging at DEBUG, notifications to endpoints that refuse."""
    port = closed_port()
    return write_config(
        database_url,
        sheets=sheet.sheets_config(credentials_file=str(account.path), **sheets),
        notifications={"email_url": f"mailto://bot:{MAIL_PASSWORD}@127.0.0.1:{port}?from=bot@example.com",
                       "team_urls": [f"json://hook:{HOOK_TOKEN}@127.0.0.1:{port}/notify"]},
        logging={"level": "DEBUG"},
    )


def with_password(url: str) -> str:
    """The test database URL with a password (ignored by the trust-auth test server)."""
    return make_url(url).set(username="postgres", password=DB_PASSWORD).render_as_string(hide_password=False)


@pytest.mark.process
def test_no_secret_when_the_database_is_unreachable(write_config: Callable[..., Path], google_sheet: GoogleSheet,
                                                     sheets_service_account: ServiceAccount) -> None:
    secrets = secrets_of(sheets_service_account)
    dead = f"postgresql://goals:{DB_PASSWORD}@127.0.0.1:{closed_port()}/goals"
    config = leaky_config(write_config, sheets_service_account, dead, google_sheet)

    commands = (("run", "--once"), ("check",), ("status",), ("db", "upgrade"))
    results = run_clis([(*command, "--now", "2026-11-03T09:00") for command in commands], config=config)
    for command, result in zip(commands, results, strict=True):
        assert result.returncode != 0
        assert "127.0.0.1" in result.stdout + result.stderr, "the message should say which database"
        assert_no_secret(" ".join(command), result.stdout + result.stderr, secrets)


def test_no_secret_when_the_sheet_refuses_and_notifications_fail(
        write_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        sheets_service_account: ServiceAccount, fresh_db_url: str) -> None:
    secrets = secrets_of(sheets_service_account)
    config = leaky_config(write_config, sheets_service_account, with_password(fresh_db_url), google_sheet)

    # A cycle that succeeds, then jobs whose announcements fail (the endpoints refuse).
    ok = run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config)
    assert ok.returncode == 0, ok.stderr
    assert "chmod" not in ok.stderr  # the key file is 0600
    # The sheet is no longer shared: the cycle fails, naming the account, not the key.
    sheets_server.unshare(google_sheet.id)
    refused = run_cli("run", "--once", "--now", "2026-11-03T10:00", config=config)
    assert refused.returncode == 1
    assert sheets_service_account.email in refused.stdout + refused.stderr
    check = run_cli("check", "--now", "2026-11-03T10:00", config=config)
    assert "***" in check.stdout or DB_PASSWORD not in check.stdout

    for name, result in (("run --once", ok), ("failed run --once", refused), ("check", check)):
        assert_no_secret(name, result.stdout + result.stderr, secrets)
    stored = "\n".join(str(row) for row in query(fresh_db_url, "SELECT error, problems::text FROM sheets_sync_log")
                       + query(fresh_db_url, "SELECT detail FROM job_runs")
                       + query(fresh_db_url, "SELECT last_error FROM goal_deadline_reminders"))
    assert_no_secret("the database's logs", stored, secrets)
    assert "failed" in ok.stderr.lower() or "could not" in ok.stderr.lower(), "the failed sends should be logged"


def test_a_key_file_readable_by_others_draws_a_warning(write_config: Callable[..., Path],
                                                       google_sheet: GoogleSheet, fresh_db_url: str,
                                                       sheets_service_account: ServiceAccount) -> None:
    os.chmod(sheets_service_account.path, 0o644)
    config = write_config(fresh_db_url, sheets=google_sheet.sheets_config(
        credentials_file=str(sheets_service_account.path)))

    for command in (("run", "--once"), ("check",)):
        result = run_cli(*command, "--now", "2026-11-03T09:00", config=config)
        output = result.stdout + result.stderr
        assert "readable by other users" in output and "chmod 600" in output, (command, output)
        assert_no_secret(" ".join(command), output, secrets_of(sheets_service_account))


# --- output tabs locked to the service account -------------------------------------------

@pytest.mark.parametrize("from_the_start", [True, False], ids=["from-the-start", "switched-on-later"])
def test_output_tabs_can_be_protected(in_process: Callable[..., InProcess], google_sheet: GoogleSheet,
                                      sheets_server: FakeSheetsServer, sheets_service_account: ServiceAccount,
                                      from_the_start: bool) -> None:
    key = str(sheets_service_account.path)
    if not from_the_start:  # an existing deployment turns the option on
        assert in_process(sheets={"credentials_file": key}).cycle("2026-11-03T09:00").status == "success"
    run = in_process(sheets={"credentials_file": key, "protect_output_tabs": True})
    assert run.cycle("2026-11-03T10:00").status == "success"
    assert run.cycle("2026-11-03T11:00").status == "success"

    protections = [r["addProtectedRange"]["protectedRange"] for r in format_requests(sheets_server)
                   if "addProtectedRange" in r]
    sheet_ids = {tab: sheets_server.tab(google_sheet.id, tab).sheet_id for tab in OUTPUT_TABS}
    assert sorted(p["range"]["sheetId"] for p in protections) == sorted(sheet_ids.values()), \
        "each output tab is protected exactly once"
    assert all(p["editors"]["users"] == [sheets_service_account.email] and not p["warningOnly"]
               for p in protections)
    for tab in OUTPUT_TABS:
        assert sheets_server.tab(google_sheet.id, tab).protected_ranges, f"{tab} is not protected"
    for tab in ("Reps", "Monthly Goals", "Actuals"):
        assert not sheets_server.tab(google_sheet.id, tab).protected_ranges, f"input tab {tab} was locked"


# --- every secret form, one masking function -------------------------------------------

QUERY_PASSWORD = "Qu3ry-Pa55word-4d2e"
ENDPOINT_PASSWORD = "Endp0int-Pa55-6b1a"
TELEGRAM_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
SLACK_TOKENS = ("T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ")


def with_query_password(url: str) -> str:
    """The test database URL with its password as ``?password=`` (ignored by the trust-auth server)."""
    return make_url(url).update_query_dict({"password": QUERY_PASSWORD}).render_as_string(hide_password=False)


def test_a_password_in_the_database_url_query_is_masked_everywhere(
        write_config: Callable[..., Path], google_sheet: GoogleSheet, fresh_db_url: str) -> None:
    config = write_config(with_query_password(fresh_db_url), sheets=google_sheet.sheets_config(),
                          logging={"level": "DEBUG"})
    outputs = {"run --once": run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config),
               "check": run_cli("check", "--now", "2026-11-03T09:00", config=config)}
    assert outputs["run --once"].returncode == 0, outputs["run --once"].stderr
    assert "password=***" in outputs["check"].stdout
    # A cycle that fails on a statement: its error names the database, and is stored and shown.
    execute(fresh_db_url, REFUSE_SYNC_LOG)
    outputs["failed run --once"] = run_cli("run", "--once", "--now", "2026-11-03T10:00", config=config)
    outputs["status"] = run_cli("status", "--now", "2026-11-03T10:00", config=config)
    dead = with_query_password(fresh_db_url.replace(":5432/", f":{closed_port()}/"))
    dead_config = write_config(dead, sheets=google_sheet.sheets_config())
    for command in (("run", "--once"), ("check",), ("status",), ("db", "upgrade")):
        outputs[f"unreachable {' '.join(command)}"] = run_cli(*command, "--now", "2026-11-03T09:00",
                                                              config=dead_config)

    assert outputs["failed run --once"].returncode == 1
    assert "the sync log refuses new rows" in outputs["status"].stdout, "status shows the stored error"
    for name, result in outputs.items():
        assert_no_secret(name, result.stdout + result.stderr, [QUERY_PASSWORD])
    stored = query(fresh_db_url, "SELECT error FROM sheets_sync_log WHERE error IS NOT NULL")
    assert stored and "password=***" in stored[0][0]
    assert_no_secret("sheets_sync_log.error", str(stored), [QUERY_PASSWORD])


@pytest.mark.process
def test_a_config_type_error_does_not_echo_a_secret(write_config: Callable[..., Path]) -> None:
    config = write_config("", database=f"postgresql://goals:{DB_PASSWORD}@127.0.0.1/goals",
                          timezone=f"postgres://goals:{DB_PASSWORD}@db.example.com/goals?password={QUERY_PASSWORD}",
                          sync={"poll_seconds": f"https://hook:{HOOK_TOKEN}@127.0.0.1/x"})

    result = run_cli("run", "--once", config=config)

    assert result.returncode == 2
    assert "database:" in result.stderr and "timezone:" in result.stderr and "sync.poll_seconds" in result.stderr
    assert_no_secret("the config error", result.stdout + result.stderr, [DB_PASSWORD, QUERY_PASSWORD, HOOK_TOKEN])


def test_credentials_in_the_sheets_endpoint_are_not_printed(
        write_config: Callable[..., Path], google_sheet: GoogleSheet, sheets_server: FakeSheetsServer,
        fresh_db_url: str) -> None:
    endpoint = sheets_server.url.replace("http://", f"http://api:{ENDPOINT_PASSWORD}@")
    config = write_config(fresh_db_url, sheets=google_sheet.sheets_config(api_endpoint=endpoint),
                          logging={"level": "DEBUG"})

    for command in (("check",), ("run", "--once")):
        result = run_cli(*command, "--now", "2026-11-03T09:00", config=config)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert_no_secret(" ".join(command), result.stdout + result.stderr, [ENDPOINT_PASSWORD])
    assert "http://api:***@127.0.0.1" in result.stdout + run_cli("check", config=config).stdout


def test_notification_tokens_are_masked_in_every_log_line(settings_factory: Callable[..., Any],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from sync.logs import configure_logging

    settings = settings_factory(notifications={"team_urls": [
        f"tgram://{TELEGRAM_TOKEN}/-100123456", "slack://{}/{}/{}/#sales".format(*SLACK_TOKENS)]})
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(settings)
        # What Apprise and our jobs log about a failed post, with and without the configured URL.
        logging.getLogger("apprise").error("Failed to send Telegram notification to "
                                           f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/sendMessage")
        logging.getLogger("apprise").warning("Slack webhook https://hooks.slack.com/services/{}/{}/{} "
                                             "returned 404".format(*SLACK_TOKENS))
        logging.getLogger("jobs").error("could not post: %s", f"tgram://{TELEGRAM_TOKEN}/-100123456")
        logging.getLogger("jobs").error("an unconfigured bot 987654321:AAAbbbCCCdddEEEfffGGGhhhIIIjjjKKKlll "
                                        "and xoxb-1234567890-abcdefghij")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    logged = capsys.readouterr().err
    assert logged.count("***") >= 6, logged
    assert_no_secret("the log", logged, [TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], *SLACK_TOKENS,
                                         "AAAbbbCCCdddEEEfff", "xoxb-1234567890"])


# --- names never drive the terminal ------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m"
"""Retitle the terminal window, clear the screen, switch to red."""


def test_terminal_escape_sequences_are_shown_not_obeyed(cli_config: Callable[..., Path], google_sheet: GoogleSheet,
                                                        fresh_db_url: str) -> None:
    config = cli_config()
    assert run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config).returncode == 0
    # Stored before any input cleaning existed, or typed straight into the database.
    execute(fresh_db_url, f"UPDATE sales_reps SET name = 'Ann{ESCAPES}Archer', "
                          f"team = E'East\\u202e' WHERE email = 'ann@example.com'")
    tabs = workbook()
    tabs["Actuals"][2][3] = f"7{ESCAPES}"  # a bad Signups cell: the dry run prints its problem
    google_sheet.put(tabs)

    status = run_cli("status", "--now", "2026-11-03T10:00", config=config)
    dry_run = run_cli("run", "--once", "--dry-run", "--now", "2026-11-03T10:00", config=config)

    assert status.returncode == 0, status.stderr
    assert "Ann\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mArcher" in status.stdout
    assert dry_run.returncode == 3, dry_run.stderr
    # The parser already shows a bad cell's control characters as visible symbols (U+241B for ESC).
    assert "7\u241b]0;owned\u2407\u241b[2J\u241b[31m" in dry_run.stdout
    for name, result in (("status", status), ("run --once --dry-run", dry_run)):
        for raw in ("\x1b", "\x07", "\u202e"):
            assert raw not in result.stdout + result.stderr, f"{name} printed {raw!r} raw"


@pytest.mark.parametrize(("text", "secret"), [
    ("postgresql+psycopg://goals:Pw-1234@db:5432/goals", "Pw-1234"),
    ("postgresql://goals@db/goals?sslmode=require&password=Pw-1234", "Pw-1234"),
    ("host=db user=goals password=Pw-1234 dbname=goals", "Pw-1234"),
    ("mailtos://bot:Pw-1234@smtp.example.com:465?from=bot@example.com", "Pw-1234"),
    (f"GET https://api.telegram.org/bot{TELEGRAM_TOKEN}/sendMessage failed", TELEGRAM_TOKEN.split(":")[1]),
    ("POST https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ: 404", "TIiajkdnla"),
    ("slack said invalid_auth for xoxb-1234567890-abcdefghijkl", "abcdefghijkl"),
    ("https://sheets.example.com/v4?key=AIzaSyD-1234567890&alt=json", "AIzaSyD-1234567890"),
    ("{'access_token': 'x', 'token=\"ya29.a0Af-1234\"'}", "ya29.a0Af-1234"),
])
def test_every_secret_form_is_masked_without_being_told(text: str, secret: str) -> None:
    from models.redact import mask_secrets

    masked = mask_secrets(text)

    assert secret not in masked and "***" in masked, masked
