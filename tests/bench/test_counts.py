"""Sheets API calls and SQL statements per cycle: the counts issue 7 sets, at two sizes.

A cold cycle (empty database), a warm one (nothing changed) and one after 1 % of
the actuals changed, each for 30 and for 300 reps (3 months), against the local
fake Sheets API server through the real Google backend and a real PostgreSQL.
Timings are the benchmark's business (``python -m bench``); the counts are asserted
here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bench.workbook import Spec, changed_actuals, cycle_time, generate
from models.settings import Settings
from models.store import Store
from sheets.google import GoogleSheetsBackend
from sheets.inputs import column_letter
from sync.cycle import run_cycle
from tests.sheets_api.server import FakeSheetsServer

MONTHS = 3
READS = ("values.batchGet", "values.get", "spreadsheets.get")
WRITES = ("values.batchUpdate", "values.update", "values.append", "values.clear", "values.batchClear",
          "spreadsheets.batchUpdate")


@dataclass(frozen=True)
class Counts:
    """What one cycle sent."""

    values_reads: int
    metadata_reads: int
    writes: int
    sql_statements: int
    status: str


def run_sequence(server: FakeSheetsServer, settings_factory: Callable[..., Settings], database_url: str,
                 reps: int) -> dict[str, Counts]:
    """Cold, warm and 1 %-changed cycles on a fresh database and spreadsheet of ``reps`` reps."""
    sheet_id = f"counts-{reps}"
    now = cycle_time(MONTHS)
    tabs = generate(Spec(reps=reps, months=MONTHS), now)
    server.create_spreadsheet(sheet_id, tabs)
    settings = settings_factory(database={"url": database_url}, sheets={
        "backend": "google", "spreadsheet_id": sheet_id, "api_endpoint": server.url})
    store = Store.open(settings)
    backend = GoogleSheetsBackend(settings.sheets, environ={})
    counts = {}
    try:
        for minute, cycle in enumerate(("cold", "warm", "1% changed")):
            if cycle == "1% changed":
                for row, column, value in changed_actuals(tabs, 0.01):
                    cell = f"{column_letter(column)}{row + 1}"
                    server.set_values(sheet_id, "Actuals", [[value]], start=cell)
            server.clear_requests()
            result = run_cycle(settings, store, backend, now + timedelta(minutes=minute))
            counts[cycle] = Counts(
                values_reads=server.count("values.batchGet") + server.count("values.get"),
                metadata_reads=server.count("spreadsheets.get"),
                writes=sum(server.count(kind) for kind in WRITES),
                sql_statements=result.sql_statements, status=result.status,
            )
    finally:
        store.dispose()
    return counts


@pytest.fixture
def both_sizes(sheets_server: FakeSheetsServer, settings_factory: Callable[..., Settings], fresh_db_url: str,
               second_fresh_db_url: str) -> dict[int, dict[str, Counts]]:
    return {30: run_sequence(sheets_server, settings_factory, fresh_db_url, 30),
            300: run_sequence(sheets_server, settings_factory, second_fresh_db_url, 300)}


def test_every_cycle_reads_the_input_tabs_in_one_call(both_sizes: dict[int, dict[str, Counts]]) -> None:
    for by_cycle in both_sizes.values():
        assert {cycle: c.status for cycle, c in by_cycle.items()} == {
            "cold": "partial", "warm": "partial", "1% changed": "partial"}  # 5 bad cells on purpose
        assert [c.values_reads for c in by_cycle.values()] == [1, 1, 1]
        # New output tabs are added with ids of our choosing: no cycle lists the spreadsheet's tabs.
        assert [c.metadata_reads for c in by_cycle.values()] == [0, 0, 0]


def test_writes_only_when_the_output_changed(both_sizes: dict[int, dict[str, Counts]]) -> None:
    for by_cycle in both_sizes.values():
        assert 1 <= by_cycle["cold"].writes <= 2  # values, plus the layout of the new tabs
        assert by_cycle["warm"].writes == 0
        assert by_cycle["1% changed"].writes == 1  # values only: the layout is unchanged


def test_sql_statements_do_not_grow_with_the_number_of_reps(both_sizes: dict[int, dict[str, Counts]]) -> None:
    small, large = both_sizes[30], both_sizes[300]
    assert {cycle: c.sql_statements for cycle, c in small.items()} == {
        cycle: c.sql_statements for cycle, c in large.items()}
    # Two of them are issue 17's fingerprint (its check, and its save after a cycle that did the work),
    # which let an unchanged cycle skip the rest: the lock, the clock, the check and its log row.
    # A first load adds six more: the goal rows' foreign keys set aside and added back (models.bulk).
    assert max(c.sql_statements for c in large.values()) <= 48
    assert large["warm"].sql_statements <= 6
