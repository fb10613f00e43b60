"""The cycle's own decisions, on the in-memory store (no database): milliseconds per test.

A real workbook (the xlsx backend, a file in tmp_path) is read and written; the store is
``tests/fakes/cycle_store.py``. The end-to-end tests through PostgreSQL and the command line
(``test_cycle_e2e.py``, ``test_goal_rules_manager.py``) prove the same behaviour for real.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from models.settings import Settings
from sheets.xlsx import XlsxBackend, create_workbook
from sync.cycle import CycleMemo, run_cycle
from tests.fakes.cycle_store import FakeCycleStore

NOW = datetime(2026, 11, 3, 9, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 9, 5, tzinfo=UTC)
AFTER_DEADLINE = datetime(2026, 11, 20, 9, tzinfo=UTC)
OUTPUT_TABS = ("Summary", "Leaderboard", "Sync Errors", "Team", "History", "Charts")


def tabs(*, bad_signups: bool = False, alice_goal: object = 15) -> dict[str, list[list[Any]]]:
    return {
        "Reps": [["Email", "Name", "Team", "Monthly Signup Goal"],
                 ["alice@example.com", "Alice Able", "East", 10],
                 ["bob@example.com", "Bob Baker", "West", 12]],
        "Monthly Goals": [["Email", "Year", "Month", "Signup Goal", "Revenue Goal"],
                          ["alice@example.com", 2026, 11, alice_goal, 3000],
                          ["bob@example.com", 2026, 11, None, None]],
        "Yearly Goals": [["Email", "Year", "Signup Goal"], ["alice@example.com", 2026, 180]],
        "Actuals": [["Email", "Year", "Month", "Signups", "Revenue"],
                    ["alice@example.com", 2026, 11, 15, 3000],
                    ["bob@example.com", 2026, 11, "lots" if bad_signups else 4, 100]],
    }


@pytest.fixture
def sheet(tmp_path: Path) -> tuple[Settings, XlsxBackend, Path]:
    path = tmp_path / "goals.xlsx"
    create_workbook(path, tabs())
    settings = Settings.model_validate({"timezone": "UTC", "sheets": {"backend": "xlsx", "xlsx_path": str(path)}})
    return settings, XlsxBackend(path, tabs=settings.sheets.tabs), path


def summary(path: Path) -> dict[str, tuple[Any, ...]]:
    """Summary rows by email."""
    book = openpyxl.load_workbook(path)
    rows = list(book["Summary"].iter_rows(values_only=True))
    header = rows[0]
    return {row[header.index("Email")]: row for row in rows[1:] if row[header.index("Email")]}


def test_a_clean_sheet_is_stored_written_and_logged(sheet):
    settings, backend, path = sheet
    store = FakeCycleStore()
    result = run_cycle(settings, store, backend, NOW)
    assert (result.status, result.problem_count, result.rows_read) == ("success", 0, 7)
    assert set(result.tabs_written) == set(OUTPUT_TABS)
    alice = store.data.months[("alice@example.com", 2026, 11)]
    assert (alice["signup_goal"], alice["signups"], alice["revenue_goal"], alice["goal_set_at"]) == (
        15, 150, 300_000, NOW)
    bob = store.data.months[("bob@example.com", 2026, 11)]
    assert (bob["signup_goal"], bob["goal_set_at"]) == (12, None)  # blank goal: the roster default stays
    assert [row["status"] for row in store.data.log] == ["success"]
    assert set(summary(path)) == {"alice@example.com", "bob@example.com"}


def test_a_bad_cell_makes_the_cycle_partial_and_the_rest_syncs(sheet):
    settings, backend, path = sheet
    create_workbook(path, tabs(bad_signups=True))
    store = FakeCycleStore()
    result = run_cycle(settings, store, backend, NOW)
    assert result.status == "partial" and result.exit_code == 3
    assert [(p.cell, p.value) for p in result.problems] == [("Actuals!D3", "lots")]
    assert store.data.months[("alice@example.com", 2026, 11)]["signups"] == 150
    assert store.data.log[-1]["rows_rejected"] == 1
    errors = list(openpyxl.load_workbook(path)["Sync Errors"].iter_rows(values_only=True))
    assert errors[1][:2] == ("Actuals", "Actuals!D3")


def test_an_unchanged_sheet_writes_nothing_and_a_change_rewrites_only_what_it_shows(sheet):
    settings, backend, path = sheet
    store, memo = FakeCycleStore(), CycleMemo()
    run_cycle(settings, store, backend, NOW, memo=memo)
    again = run_cycle(settings, store, backend, NOW, memo=memo)
    assert (again.status, again.tabs_written, again.rows_upserted, again.api_writes) == ("success", (), 0, 0)
    create_workbook(path, tabs(alice_goal=30))
    changed = run_cycle(settings, store, backend, NOW, memo=memo)
    assert changed.rows_upserted == 1
    assert "Summary" in changed.tabs_written and "Sync Errors" not in changed.tabs_written
    assert summary(path)["alice@example.com"][4] == 30


def test_a_dry_run_says_what_would_change_and_changes_nothing(sheet):
    settings, backend, path = sheet
    before = path.read_bytes()
    store = FakeCycleStore()
    result = run_cycle(settings, store, backend, NOW, dry_run=True)
    assert result.status == "dry_run" and store.commits == 0
    assert store.data.months == {} and store.data.log == []
    assert "database, monthly goals and actuals: 2 rows would be inserted or changed" in result.changes
    assert "Summary: would be rewritten (2 rows)" in result.changes
    assert path.read_bytes() == before


def test_a_failing_statement_rolls_back_writes_no_tab_and_is_recorded(sheet):
    settings, backend, path = sheet
    before = path.read_bytes()
    store = FakeCycleStore(fail_in=("standings",))
    result = run_cycle(settings, store, backend, NOW)
    assert result.status == "failed" and result.exit_code == 1 and "standings failed" in (result.error or "")
    assert store.data.months == {}  # the stored inputs were rolled back
    assert [row["status"] for row in store.data.log] == ["failed"]  # recorded in its own unit of work
    assert path.read_bytes() == before


def test_a_failing_read_is_recorded_and_stores_nothing(sheet, tmp_path):
    settings, _, _ = sheet
    store = FakeCycleStore()
    result = run_cycle(settings, store, XlsxBackend(tmp_path / "missing.xlsx"), NOW)
    assert result.status == "failed" and store.data.reps == {}
    assert store.data.log[-1]["status"] == "failed" and store.data.log[-1]["error"] == result.error


def test_a_second_cycle_while_one_holds_the_lock_is_skipped(sheet):
    settings, backend, _ = sheet
    store = FakeCycleStore(lock_held=True)
    result = run_cycle(settings, store, backend, NOW)
    assert result.status == "skipped" and result.exit_code == 75
    assert store.data.log == [] and store.commits == 0


def test_a_locked_goal_is_refused_with_its_cell_named(sheet, tmp_path):
    settings, backend, path = sheet
    locked = settings.model_copy(update={"goals": settings.goals.model_copy(update={"lock_after_deadline": True})})
    store = FakeCycleStore()
    run_cycle(locked, store, backend, NOW)
    create_workbook(path, tabs(alice_goal=9))
    result = run_cycle(locked, store, backend, AFTER_DEADLINE)
    assert result.status == "partial"
    assert [(p.cell, p.value) for p in result.problems] == [("Monthly Goals!D2", "9")]
    assert "the stored goal 15 was kept" in result.problems[0].problem
    assert store.data.months[("alice@example.com", 2026, 11)]["signup_goal"] == 15
