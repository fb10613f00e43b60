"""A bug (an exception that is not one of ours) fails the cycle cleanly instead of killing the daemon."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from models.engine import make_engine
from models.store import Store
from sheets.outputs import Finish, TabWrite, WriteReport
from sync.cycle import run_cycle
from tests.faults.support import MemoryBackend, query, workbook


class BrokenWriter(MemoryBackend):
    """Reads fine; writing raises something no layer expects."""

    def write_tabs(self, writes: Sequence[TabWrite], *, finish: Finish | None = None) -> WriteReport:
        raise ZeroDivisionError("a bug in the writer")


def test_unexpected_exception_fails_the_cycle_rolls_back_and_is_logged(
        fresh_db_url: str, settings_factory, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_factory(database={"url": fresh_db_url})
    store = Store(make_engine(fresh_db_url))
    try:
        result = run_cycle(settings, store, BrokenWriter(workbook()), datetime(2026, 11, 3, 9, tzinfo=UTC))
    finally:
        store.dispose()
    assert result.status == "failed" and result.exit_code == 1
    assert result.error == "unexpected error (ZeroDivisionError); see the log for details"
    assert "a bug in the writer" in caplog.text  # the traceback is in the log
    assert query(fresh_db_url, "SELECT count(*) FROM sales_reps") == [(0,)]
    assert query(fresh_db_url, "SELECT status, error FROM sheets_sync_log") == [
        ("failed", "unexpected error (ZeroDivisionError); see the log for details")]
