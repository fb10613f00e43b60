"""The operator commands through the command line: demo, check, status, db upgrade."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheets.xlsx import create_workbook
from tests.conftest import TEST_PGDATA
from tests.cycle.conftest import ROOT, run_cli
from tests.cycle.test_cycle_e2e import workbook


@pytest.mark.db  # the demo runs on the embedded server
def test_demo_builds_a_workbook_and_prints_the_summary(write_config, tmp_path: Path) -> None:
    config = write_config("", database={"url": "", "data_dir": str(TEST_PGDATA)})
    result = run_cli("demo", "--now", "2026-11-17T10:00", config=config)
    assert result.returncode == 0, result.stderr
    assert "Summary for November 2026 (day 17)" in result.stdout
    assert "Emily Nakamura" in result.stdout and "Enterprise" in result.stdout
    assert "0 problems" in result.stdout
    teams = [line.split()[2] for line in result.stdout.splitlines()
             if len(line.split()) > 2 and line.split()[2] in {"Enterprise", "Mid-Market", "SMB"}]
    assert len(teams) == 11 and set(teams) == {"Enterprise", "Mid-Market", "SMB"}  # 12 reps, one inactive

    # Every tab a manager reads is filled: the month was replayed day by day.
    book = openpyxl.load_workbook(ROOT / "var" / "demo-goals.xlsx")
    summary = list(book["Summary"].iter_rows(min_row=2, max_col=26, values_only=True))
    assert len(summary) == 11 and all(row[25] and len(row[25]) == 14 for row in summary)  # 14-day Trend
    assert [row[0] for row in book["Team"].iter_rows(min_row=2, values_only=True)] == ["SMB", "Mid-Market",
                                                                                        "Enterprise"]
    history = [row[0] for row in book["History"].iter_rows(values_only=True)]
    assert history.count("October 2026") == 1 and "1." in str(history[history.index("October 2026") + 1])
    charts = book["Charts"]
    assert len(charts._charts) == 2
    enterprise = [row[1] for row in charts.iter_rows(min_row=2, max_row=31, values_only=True)]
    assert all(value is not None for value in enterprise[:17]) and set(enterprise[17:]) == {None}  # to the 17th


def test_check_reports_ok_and_what_to_fix(fresh_db_url: str, write_config, tmp_path: Path) -> None:
    config = write_config(fresh_db_url)
    tabs = workbook()
    del tabs["Yearly Goals"]
    tabs["Actuals"][0] = ["Email", "Year", "Signups", "Revenue"]  # Month header missing
    create_workbook(tmp_path / "goals.xlsx", tabs)
    result = run_cli("check", config=config)
    assert result.returncode == 1
    out = result.stdout
    assert "OK   config" in out and "OK   database" in out and "OK   spreadsheet" in out
    assert "OK   tab 'Monthly Goals': headers found in row 1, 6 rows" in out
    assert "FIX  tab 'Yearly Goals': missing — add a tab named 'Yearly Goals'" in out
    assert "FIX  tab 'Actuals': header row 1 lacks month" in out
    assert "FIX  tab 'Actuals': Actuals!E1: column E has values but a blank header" in out  # every column shifted left
    assert "3 thing(s) to fix." in out


def test_status_shows_the_current_month(fresh_db_url: str, write_config, tmp_path: Path) -> None:
    config = write_config(fresh_db_url)
    create_workbook(tmp_path / "goals.xlsx", workbook())
    assert run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config).returncode == 3
    result = run_cli("status", "--now", "2026-11-03T10:00", config=config)
    assert result.returncode == 0, result.stderr
    assert "November 2026 — 4 active reps" in result.stdout
    alice = next(line for line in result.stdout.splitlines() if line.startswith("Alice Able"))
    assert alice.split() == ["Alice", "Able", "East", "12", "15", "80.0%", "80.0%", "10.0%", "Ahead", "Silver",
                             "complete", "0"]
    assert "Last sync: 2026-11-03 09:00 UTC, partial, 15 rows read, 5 problems" in result.stdout


def test_db_upgrade_is_idempotent(fresh_db_url: str, write_config) -> None:
    config = write_config(fresh_db_url)
    for _ in range(2):
        result = run_cli("db", "upgrade", config=config)
        assert result.returncode == 0 and "up to date" in result.stdout
