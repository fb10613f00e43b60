"""The sync log stays small: a bounded problem list per row, and old rows pruned.

``sheets_sync_log`` keeps one row per cycle. However bad the sheet, a row holds the
count of problems and only the first ``LOG_PROBLEMS_KEPT`` of them; rows older than
``sync.log_retention_days`` (90 by default) are deleted by the next cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models.store import LOG_PROBLEMS_KEPT
from tests.cycle.conftest import run_cli
from tests.faults.support import GoogleSheet, query, workbook

BAD_ROWS = 1500


def test_a_sheet_full_of_bad_cells_stores_a_bounded_log_row(
        cli_config: Callable[..., Path], google_sheet: GoogleSheet, fresh_db_url: str) -> None:
    tabs = workbook()
    tabs["Actuals"] += [[f"nobody{i}@example.com", 2026, 11, "lots " + "x" * 2000, 1] for i in range(BAD_ROWS)]
    google_sheet.put(tabs)

    result = run_cli("run", "--once", "--now", "2026-11-03T09:00", config=cli_config())

    assert result.returncode == 3, result.stderr
    [(rejected, kept, size)] = query(fresh_db_url, """
        SELECT rows_rejected, jsonb_array_length(problems), pg_column_size(problems) FROM sheets_sync_log
    """)
    assert rejected >= BAD_ROWS, "the count covers every problem"
    assert kept == LOG_PROBLEMS_KEPT
    assert size < 100_000, f"the problems of one log row take {size} bytes"
    # The other rows still synced.
    assert query(fresh_db_url, "SELECT count(*) FROM rep_monthly_goals WHERE signups_actual IS NOT NULL") \
        != [(0,)]


def test_old_log_rows_are_pruned_by_the_next_cycle(cli_config: Callable[..., Path], fresh_db_url: str) -> None:
    query(fresh_db_url, """
        INSERT INTO sheets_sync_log (started_at, status, spreadsheet) VALUES
            ('2026-06-01T09:00Z', 'success', 'old'), ('2026-08-04T09:00Z', 'failed', 'old'),
            ('2026-08-06T09:00Z', 'success', 'recent') RETURNING id
    """)
    config = cli_config()

    for now in ("2026-11-03T09:00", "2026-11-03T09:05"):  # the second prunes nothing more
        assert run_cli("run", "--once", "--now", now, config=config).returncode == 0
        kept = query(fresh_db_url, "SELECT spreadsheet FROM sheets_sync_log ORDER BY started_at")
        assert [name for (name,) in kept][:1] == ["recent"], "rows older than 90 days are deleted"
        assert len(kept) == (2 if now.endswith("09:00") else 3)

    # A shorter retention from the config; 0 keeps every row.
    shorter = cli_config(sync={"log_retention_days": 30})
    assert run_cli("run", "--once", "--now", "2026-11-03T09:10", config=shorter).returncode == 0
    assert query(fresh_db_url, "SELECT count(*) FROM sheets_sync_log WHERE spreadsheet = 'recent'") == [(0,)]
    query(fresh_db_url, "INSERT INTO sheets_sync_log (started_at, status) VALUES ('2020-01-01Z', 'success') "
                        "RETURNING id")
    forever = cli_config(sync={"log_retention_days": 0})
    assert run_cli("run", "--once", "--now", "2026-11-03T09:15", config=forever).returncode == 0
    assert query(fresh_db_url, "SELECT count(*) FROM sheets_sync_log WHERE started_at < '2021-01-01Z'") == [(1,)]
