"""Several spreadsheets in one database (``sources:``), through the command line.

Each source keeps its own reps, goals, output tabs, sync log, settings and cycle lock in its
own schema; ``--source`` picks sources; the exit code is the most serious of the sources'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from models.locks import CYCLE_LOCK_KEY, lock_key
from sheets.xlsx import XlsxBackend, create_workbook
from tests.cycle.conftest import run_cli

NOW = "2026-11-17T10:00"


def tabs(signups: int, *, name: str = "Alice Able", team: str = "East") -> dict[str, list[list[Any]]]:
    """A small clean workbook: alice (same email in every source) plus one rep of its own."""
    return {
        "Reps": [["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
                 ["alice@example.com", name, team, "AE", True, 20, 200],
                 [f"rep{signups}@example.com", f"Rep {signups}", team, "AE", True, 10, 100]],
        "Monthly Goals": [["Email", "Year", "Month", "Signup Goal", "Revenue Goal"],
                          ["alice@example.com", 2026, 11, 20, 1000]],
        "Yearly Goals": [["Email", "Year", "Signup Goal", "Revenue Goal"]],
        "Actuals": [["Email", "Year", "Month", "Signups", "Revenue"],
                    ["alice@example.com", 2026, 11, signups, 100]],
    }


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq(url)) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def two_sources(fresh_db_url: str, write_config, tmp_path: Path) -> Path:
    """``default`` (UTC) and ``emea`` (Europe/Berlin, deadline day 3), each with its own workbook."""
    create_workbook(tmp_path / "default.xlsx", tabs(12))
    create_workbook(tmp_path / "emea.xlsx", tabs(3, name="Alice Able (EMEA)", team="Berlin"))
    return write_config(fresh_db_url, sources=[
        {"name": "default", "xlsx_path": str(tmp_path / "default.xlsx")},
        {"name": "emea", "xlsx_path": str(tmp_path / "emea.xlsx"), "timezone": "Europe/Berlin",
         "goals": {"deadline_day": 3}},
    ])


def test_two_sources_are_isolated(two_sources: Path, fresh_db_url: str, tmp_path: Path) -> None:
    result = run_cli("run", "--once", "--now", NOW, config=two_sources)
    assert result.returncode == 0, result.stderr
    assert "== source default ==" in result.stdout and "== source emea ==" in result.stdout

    # The same rep email, a different rep in each source, with its own numbers.
    alice = """SELECT r.name, g.signups_actual FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id
               WHERE r.email = 'alice@example.com' AND g.goal_year = 2026 AND g.goal_month = 11"""
    assert rows(fresh_db_url, alice) == [("Alice Able", 12)]
    assert rows(fresh_db_url, alice.replace("rep_monthly_goals", "source_emea.rep_monthly_goals")
                .replace("sales_reps", "source_emea.sales_reps")) == [("Alice Able (EMEA)", 3)]
    assert rows(fresh_db_url, "SELECT email FROM source_emea.sales_reps ORDER BY email") == [
        ("alice@example.com",), ("rep3@example.com",)]
    # Settings, sync logs and output tabs are each source's own.
    assert rows(fresh_db_url, "SELECT timezone, deadline_day FROM app_settings") == [("UTC", 6)]
    assert rows(fresh_db_url, "SELECT timezone, deadline_day FROM source_emea.app_settings") == [("Europe/Berlin", 3)]
    for schema, workbook in [("public", "default.xlsx"), ("source_emea", "emea.xlsx")]:
        logged = rows(fresh_db_url, f"SELECT spreadsheet, status FROM {schema}.sheets_sync_log")
        assert len(logged) == 1 and logged[0][0].endswith(workbook) and logged[0][1] == "success"
    summaries = {name: XlsxBackend(tmp_path / f"{name}.xlsx").read_tabs(["Summary"])["Summary"]
                 for name in ("default", "emea")}
    assert any(row and row[0] == "Alice Able" for row in summaries["default"])
    assert not any(row and row[0] == "Alice Able (EMEA)" for row in summaries["default"])
    assert any(row and row[0] == "Alice Able (EMEA)" for row in summaries["emea"])

    # The company roll-up sees both.
    rollup = rows(fresh_db_url, "SELECT source, rep_name, signups_actual FROM v_company_rollup "
                                "WHERE email = 'alice@example.com' ORDER BY source")
    assert rollup == [("default", "Alice Able", 12), ("emea", "Alice Able (EMEA)", 3)]
    # Each source's view keeps its own settings when read from outside its schema: emea's
    # deadline is the end of the 3rd in Berlin, the default's the end of the 6th in UTC.
    deadlines = rows(fresh_db_url, "SELECT source, to_char(deadline AT TIME ZONE 'UTC', 'MM-DD HH24:MI') "
                                   "FROM v_company_rollup WHERE email = 'alice@example.com' ORDER BY source")
    assert deadlines == [("default", "11-07 00:00"), ("emea", "11-03 23:00")]


def test_source_option_picks_sources(two_sources: Path, fresh_db_url: str) -> None:
    result = run_cli("run", "--once", "--now", NOW, "--source", "emea", config=two_sources)
    assert result.returncode == 0, result.stderr
    assert rows(fresh_db_url, "SELECT count(*) FROM source_emea.sheets_sync_log") == [(1,)]
    assert rows(fresh_db_url, "SELECT count(*) FROM sheets_sync_log") == [(0,)]

    status = run_cli("status", "--now", NOW, "--source", "emea", config=two_sources)
    assert status.returncode == 0, status.stderr
    assert "Alice Able (EMEA)" in status.stdout and "== source" not in status.stdout

    wrong = run_cli("status", "--source", "apac", config=two_sources)
    assert wrong.returncode == 2
    assert "--source apac: no such source" in wrong.stderr and "configured: default, emea" in wrong.stderr


def test_the_exit_code_is_the_worst_of_the_sources(two_sources: Path, fresh_db_url: str, tmp_path: Path) -> None:
    broken = tabs(12)
    broken["Actuals"].append(["rep12@example.com", 2026, 11, "many", 5])  # a rejected cell: exit 3
    create_workbook(tmp_path / "default.xlsx", broken)
    (tmp_path / "emea.xlsx").unlink()  # emea's cycle fails: exit 1
    result = run_cli("run", "--once", "--now", NOW, config=two_sources)
    assert result.returncode == 1
    # The failing source did not stop the other one.
    assert rows(fresh_db_url, "SELECT status FROM sheets_sync_log") == [("partial",)]
    assert rows(fresh_db_url, "SELECT status FROM source_emea.sheets_sync_log") == [("failed",)]


def test_each_source_has_its_own_cycle_lock(two_sources: Path, fresh_db_url: str) -> None:
    assert run_cli("db", "upgrade", config=two_sources).returncode == 0
    with psycopg.connect(libpq(fresh_db_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(CYCLE_LOCK_KEY, "emea"),))
        result = run_cli("run", "--once", "--now", NOW, config=two_sources)
    assert result.returncode == 75  # emea skipped; default ran
    assert "another sync cycle is running on this database for source 'emea'" in result.stdout + result.stderr
    assert rows(fresh_db_url, "SELECT status FROM sheets_sync_log") == [("success",)]


def test_bad_source_names_are_refused(write_config, fresh_db_url: str) -> None:
    config = write_config(fresh_db_url, sources=[{"name": "EMEA-1"}])
    result = run_cli("check", config=config)
    assert result.returncode == 2
    assert "lowercase letters, digits and underscores" in result.stderr
