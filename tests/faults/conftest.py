"""Fixtures of the fault suite: a clean spreadsheet on the fake Sheets server, a fresh
database, and one-line ways to run a cycle in this process or as ``python -m sync``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from models.settings import Settings
from models.store import Store
from models.values import CycleResult
from sheets.backend import SpreadsheetBackend
from sheets.google import GoogleSheetsBackend
from sync.clock import parse_now
from sync.cycle import run_cycle
from tests.faults.support import Databases, GoogleSheet, workbook
from tests.sheets_api.server import FakeSheetsServer


@pytest.fixture
def databases(database_server_url: str, fresh_db_url: str) -> Iterator[Databases]:
    """Clones of ``fresh_db_url`` (as it is when ``clone`` is called), dropped after the test."""
    made = Databases(database_server_url, fresh_db_url)
    yield made
    made.drop_all()


@pytest.fixture
def google_sheet(sheets_server: FakeSheetsServer) -> GoogleSheet:
    """The clean workbook on the fake Sheets server."""
    sheet = GoogleSheet(sheets_server)
    sheet.put(workbook())
    return sheet


@dataclass
class InProcess:
    """Runs cycles in this process on one database and spreadsheet (a new backend per
    cycle, as a fresh ``run --once`` would have)."""

    settings: Settings
    store: Store

    def cycle(self, now: str, backend: SpreadsheetBackend | None = None, **kwargs: Any) -> CycleResult:
        """One cycle at ``now`` (ISO text in the company time zone)."""
        moment: datetime = parse_now(now, self.settings.tz)
        chosen = backend or GoogleSheetsBackend(self.settings.sheets, environ={})
        return run_cycle(self.settings, self.store, chosen, moment, **kwargs)


@pytest.fixture
def in_process(fresh_db_url: str, google_sheet: GoogleSheet,
               settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., InProcess]]:
    """``make(**overrides) -> InProcess`` on ``fresh_db_url`` and the fake spreadsheet."""
    stores: list[Store] = []

    def make(**overrides: Any) -> InProcess:
        sheets = {**google_sheet.sheets_config(), **overrides.pop("sheets", {})}
        database = {"url": fresh_db_url, **overrides.pop("database", {})}
        settings = settings_factory(database=database, sheets=sheets, **overrides)
        store = Store.open(settings)
        stores.append(store)
        return InProcess(settings, store)

    yield make
    for store in stores:
        store.dispose()


@pytest.fixture
def cli_config(fresh_db_url: str, google_sheet: GoogleSheet, write_config: Callable[..., Path]
               ) -> Callable[..., Path]:
    """``make(**sections) -> config path`` for ``python -m sync`` on the fake spreadsheet."""

    def make(**sections: Any) -> Path:
        sheets = {**google_sheet.sheets_config(), **sections.pop("sheets", {})}
        return write_config(sections.pop("database_url", fresh_db_url), sheets=sheets, **sections)

    return make
