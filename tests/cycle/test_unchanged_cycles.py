"""A cycle over an unchanged sheet recognises it across processes and does nothing but say so
(issue 17), and everything the output depends on defeats that: a changed cell, a new day,
changed settings, a database row changed by anyone.

Each cycle here gets a new store, backend and memo, as a new ``run --once`` process would: what
it remembers is only what the database keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import sync.cycle as cycle_module
from models.settings import Settings
from models.store import Store
from models.values import CycleResult
from sheets.google import GoogleSheetsBackend
from sync.cycle import run_cycle
from sync.reuse import CycleMemo
from tests.faults.support import GoogleSheet, execute, query, workbook
from tests.sheets_api.server import FakeSheetsServer

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
WRITES = ("values.batchUpdate", "values.update", "values.clear", "values.batchClear", "spreadsheets.batchUpdate")


class Cron:
    """Cycles as separate ``run --once`` processes would run them, on one sheet and database."""

    def __init__(self, server: FakeSheetsServer, settings_factory: Callable[..., Settings], url: str) -> None:
        self.server, self.url, self._factory = server, url, settings_factory
        self.sheet = GoogleSheet(server)
        self.sheet.put(workbook())
        self.overrides: dict[str, Any] = {}
        self.writes = 0

    def settings(self) -> Settings:
        return self._factory(**{"database": {"url": self.url}, "sheets": self.sheet.sheets_config(), **self.overrides})

    def cycle(self, now: datetime) -> CycleResult:
        """One cycle in a fresh store and backend; counts the spreadsheet writes it sent."""
        settings = self.settings()
        store = Store.open(settings)
        try:
            self.server.clear_requests()
            result = run_cycle(settings, store, GoogleSheetsBackend(settings.sheets, environ={}), now,
                               memo=CycleMemo.single_use())  # as run --once
            self.writes = sum(self.server.count(kind) for kind in WRITES)
        finally:
            store.dispose()
        assert result.status in ("success", "partial"), result.error
        return result


@pytest.fixture
def cron(sheets_server: FakeSheetsServer, settings_factory: Callable[..., Settings], fresh_db_url: str) -> Cron:
    runner = Cron(sheets_server, settings_factory, fresh_db_url)
    first = runner.cycle(NOW)
    assert not first.unchanged and runner.writes >= 1
    return runner


def summary_row(cron: Cron, email: str) -> list[Any]:
    return next(row for row in cron.sheet.output("Summary") if len(row) > 1 and row[1] == email)


def test_an_unchanged_sheet_is_recognised_by_the_next_process_which_writes_nothing(cron: Cron) -> None:
    first_log = query(cron.url, "SELECT count(*) FROM sheets_sync_log")[0][0]
    summary = cron.sheet.output("Summary")
    result = cron.cycle(NOW + timedelta(minutes=1))
    assert result.unchanged and result.status == "success" and result.rows_read > 0
    assert cron.writes == 0 and result.tabs_written == () and result.rows_upserted == 0
    assert result.api_reads == 1 and result.sql_statements <= 6  # lock, clock, check, prune, log row
    assert cron.sheet.output("Summary") == summary
    # Its log row says so, with the figures of the cycle that did the work.
    rows = query(cron.url, "SELECT status, unchanged, rows_read FROM sheets_sync_log ORDER BY id")
    assert len(rows) == first_log + 1 and rows[-1] == ("success", True, result.rows_read)
    assert not rows[0][1]
    # And the next one again.
    assert cron.cycle(NOW + timedelta(minutes=2)).unchanged


def test_a_changed_cell_is_synced_and_written(cron: Cron) -> None:
    tabs = workbook()
    tabs["Actuals"][1][3] = 42  # ann's signups for November
    cron.sheet.put(tabs)
    result = cron.cycle(NOW + timedelta(minutes=1))
    assert not result.unchanged and result.rows_upserted >= 1 and cron.writes == 1
    assert summary_row(cron, "ann@example.com")[3] == 42
    assert cron.cycle(NOW + timedelta(minutes=2)).unchanged


def test_a_new_day_recomputes_pace_and_days_left(cron: Cron) -> None:
    days_left = summary_row(cron, "ann@example.com")[15]
    result = cron.cycle(NOW + timedelta(days=1))
    assert not result.unchanged and cron.writes == 1
    assert summary_row(cron, "ann@example.com")[15] == days_left - 1


def test_changed_settings_are_applied(cron: Cron) -> None:
    cron.overrides = {"sheets": {**cron.sheet.sheets_config(), "tabs": {"summary": "Overview"}}}
    result = cron.cycle(NOW + timedelta(minutes=1))
    assert not result.unchanged and "Overview" in result.tabs_written
    cron.overrides = {"goals": {"pace": {"calendar": "business"}}}  # pace by business days, not calendar days
    assert not cron.cycle(NOW + timedelta(minutes=2)).unchanged


@pytest.mark.parametrize("change", [
    # A person in psql renames a rep: the sheet is the source of truth, so the next cycle puts it back.
    "UPDATE sales_reps SET name = 'Someone Else' WHERE email = 'ann@example.com'",
    # A job (or another process) writes a row the output reads: a daily snapshot.
    "INSERT INTO goal_progress_snapshots (sales_rep_id, snapshot_date, snapshot_type, signups_to_date, "
    "signup_progress_percent) SELECT id, DATE '2026-11-16', 'daily', 1, 10 "
    "FROM sales_reps WHERE email = 'ann@example.com'",
    # Forgetting what was written (a replaced file) makes the next cycle write every tab.
    "DELETE FROM sheet_output_state",
])
def test_a_database_change_by_anyone_is_seen(cron: Cron, change: str) -> None:
    name = summary_row(cron, "ann@example.com")[0]
    execute(cron.url, change)
    result = cron.cycle(NOW + timedelta(minutes=1))
    assert not result.unchanged
    assert query(cron.url, "SELECT name FROM sales_reps WHERE email = 'ann@example.com'")[0][0] == name
    assert summary_row(cron, "ann@example.com")[0] == name
    assert cron.cycle(NOW + timedelta(minutes=2)).unchanged


@pytest.fixture
def staged(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(rows read, rows staged) of each input frame the cycles store."""
    seen: list[tuple[int, int]] = []
    original = cycle_module.rows_to_store

    def spy(frame: Any, hashes: Any, stored: Any) -> Any:
        rows = original(frame, hashes, stored)
        seen.append((len(frame), len(rows)))
        return rows

    monkeypatch.setattr(cycle_module, "rows_to_store", spy)
    return seen


def test_the_next_process_stores_only_the_rows_that_changed(cron: Cron, staged: list[tuple[int, int]]) -> None:
    tabs = workbook()
    tabs["Actuals"][1][3] = 42  # ann's signups for November
    cron.sheet.put(tabs)
    cron.cycle(NOW + timedelta(minutes=1))
    assert [kept for _, kept in staged] == [0, 1, 0]  # reps, months, years: one month row
    assert summary_row(cron, "ann@example.com")[3] == 42
    assert query(cron.url, "SELECT signups_actual FROM rep_monthly_goals g JOIN sales_reps r ON r.id = "
                           "g.sales_rep_id WHERE r.email = 'ann@example.com' AND goal_month = 11") == [(42,)]
    # Someone else wrote, or it is another day: what the last cycle stored may not be what the
    # database holds (or the day's rules differ), so every row is stored again.
    execute(cron.url, "UPDATE sales_reps SET name = 'Someone Else' WHERE email = 'ann@example.com'")
    tabs["Actuals"][1][3] = 43
    cron.sheet.put(tabs)
    staged.clear()
    cron.cycle(NOW + timedelta(minutes=2))
    assert staged and all(read == kept for read, kept in staged)
    assert query(cron.url, "SELECT name FROM sales_reps WHERE email = 'ann@example.com'") == [("Ann Archer",)]
    tabs["Actuals"][1][3] = 44
    cron.sheet.put(tabs)
    staged.clear()
    cron.cycle(NOW + timedelta(days=1))
    assert staged and all(read == kept for read, kept in staged)


class Daemon(Cron):
    """Cycles in one long-running process: one store, backend and memo, as the daemon runs them."""

    def __init__(self, server: FakeSheetsServer, settings_factory: Callable[..., Settings], url: str) -> None:
        super().__init__(server, settings_factory, url)
        self.memo = CycleMemo()
        settings = self.settings()
        self.store = Store.open(settings)
        self.backend = GoogleSheetsBackend(settings.sheets, environ={})

    def cycle(self, now: datetime) -> CycleResult:
        self.server.clear_requests()
        result = run_cycle(self.settings(), self.store, self.backend, now, memo=self.memo)
        self.writes = sum(self.server.count(kind) for kind in WRITES)
        assert result.status in ("success", "partial"), result.error
        return result


@pytest.fixture
def daemon(sheets_server: FakeSheetsServer, settings_factory: Callable[..., Settings],
           fresh_db_url: str) -> Iterator[Daemon]:
    runner = Daemon(sheets_server, settings_factory, fresh_db_url)
    try:
        assert not runner.cycle(NOW).unchanged
        yield runner
    finally:
        runner.store.dispose()


def test_a_daemon_stores_a_changed_cell_and_keeps_the_rest(daemon: Daemon) -> None:
    tabs = workbook()
    tabs["Actuals"][2][3] = 11  # ben's signups
    daemon.sheet.put(tabs)
    result = daemon.cycle(NOW + timedelta(minutes=1))
    assert not result.unchanged and result.rows_upserted >= 1 and daemon.writes == 1
    assert summary_row(daemon, "ben@example.com")[3] == 11
    assert query(daemon.url, "SELECT signups_actual FROM rep_monthly_goals g JOIN sales_reps r ON r.id = "
                             "g.sales_rep_id WHERE r.email = 'ben@example.com' AND goal_month = 11") == [(11,)]
    assert daemon.cycle(NOW + timedelta(minutes=2)).unchanged


def test_a_daemon_stores_every_row_again_once_someone_else_wrote(daemon: Daemon) -> None:
    # Someone renames a rep in psql, and the sheet changes elsewhere: the rows this process stored are
    # no longer what the database holds, so every row is stored again and the name comes back.
    execute(daemon.url, "UPDATE sales_reps SET name = 'Someone Else' WHERE email = 'ann@example.com'")
    tabs = workbook()
    tabs["Actuals"][2][3] = 11
    daemon.sheet.put(tabs)
    assert not daemon.cycle(NOW + timedelta(minutes=1)).unchanged
    assert query(daemon.url, "SELECT name FROM sales_reps WHERE email = 'ann@example.com'") == [("Ann Archer",)]
    assert summary_row(daemon, "ann@example.com")[0] == "Ann Archer"
