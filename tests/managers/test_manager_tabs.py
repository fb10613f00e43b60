"""The Team, History and Charts tabs for a known month (tests/managers/month.py), cell by cell,
through a real cycle on an xlsx workbook and on the strict local Sheets API server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import text

from models.settings import Settings
from models.store import Store
from sheets.google import GoogleSheetsBackend
from sheets.xlsx import XlsxBackend, create_workbook
from sync.cycle import run_cycle
from tests.managers.month import REPS, TODAY, build_history, known_month, tabs
from tests.sheets_api.server import FakeSheetsServer

MONTHS = ["Mar 2025", "Apr 2025", "May 2025", "Jun 2025", "Jul 2025", "Aug 2025", "Sep 2025", "Oct 2025",
          "Nov 2025", "Dec 2025", "Jan 2026", "Feb 2026"]
EXPECTED_TODAY = 0.3226  # 10 of 31 days


def trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows without trailing blanks ("" and None alike), as a person reads them."""
    result = []
    for row in rows:
        cells = [None if value == "" else value for value in row]
        while cells and cells[-1] is None:
            cells.pop()
        result.append(cells)
    while result and not result[-1]:
        result.pop()
    return result


@pytest.fixture
def synced(jobs_settings: Callable[..., Settings], store: Store, workbook_path: Path) -> dict[str, list[list[Any]]]:
    """The known month synced on the 10th into an xlsx workbook; its output tabs as read back."""
    settings = jobs_settings()
    known_month(settings, store, workbook_path)
    result = run_cycle(settings, store, XlsxBackend(workbook_path), TODAY)
    assert result.status == "success", result
    grids = XlsxBackend(workbook_path).read_tabs(["Team", "History", "Charts"])
    return {name: trimmed(grid or []) for name, grid in grids.items()}


def test_manager_email_is_stored_trimmed_and_lower_case(synced: dict[str, Any], store: Store) -> None:
    with store.engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT email, manager_email FROM sales_reps")).all())
    assert stored == {"ana@example.com": "mia@example.com", "bo@example.com": "mia@example.com",
                      "cy@example.com": "max@example.com", "dee@example.com": None}


def test_team_tab_has_one_ranked_row_per_team(synced: dict[str, list[list[Any]]]) -> None:
    assert synced["Team"] == [
        ["Team", "Members", "Signups", "Signup Goal", "Signup %", "Revenue", "Revenue Goal", "Revenue %",
         "Expected %", "Pace", "Ahead", "On Track", "Behind", "Critical", "Goals Not Set", "Rank"],
        # East: 9 of 30 = 30 %, 0.93 of the expected 32.26 %: behind; Ana ahead, Bo critical.
        ["East", 2, 9, 30, 0.3, 0, None, None, EXPECTED_TODAY, "Behind", 1, 0, 0, 1, 0, 1],
        ["West", 1, 1, 10, 0.1, 0, None, None, EXPECTED_TODAY, "Critical", 0, 0, 0, 1, 0, 2],
        # Dee's goal comes from the Reps tab and was never set; a row without a team is not ranked.
        ["(no team)", 1, 2, 5, 0.4, 0, None, None, EXPECTED_TODAY, "Ahead", 1, 0, 0, 0, 1],
    ]


def test_history_tab_grid_and_final_top_ten(synced: dict[str, list[list[Any]]]) -> None:
    header = ["Rep", "Team"] + [f"{month} {part}" for month in MONTHS for part in ("%", "Tier")]
    blank_months = [None] * 20
    assert synced["History"] == [
        header,
        ["Ana", "East", *blank_months, 0.5, "Rookie", 1.0, "Bronze"],
        ["Bo", "East", *blank_months, None, None, 0.5, "Bronze"],
        ["Cy", "West", *blank_months, None, None, 1.2, "Silver"],
        ["Dee"],
        [],
        ["Final leaderboard of each month: the top 10 of its last day's snapshot"],
        ["February 2026", "Team", "Signup %", "Tier", "Revenue %"],
        ["1. Cy", "West", 1.2, "Silver"],
        ["2. Ana", "East", 1.0, "Bronze"],
        ["3. Bo", "East", 0.5, "Bronze"],
    ]


def test_charts_tab_holds_the_data_of_both_charts(synced: dict[str, list[list[Any]]]) -> None:
    charts = synced["Charts"]
    assert charts[0] == ["Day", "East", "East expected", "West", "West expected", "(no team)",
                         "(no team) expected", None, "Month", "East", "West", "(no team)"]
    assert len(charts) == 1 + 31
    # Day 1: no snapshot yet; the expected lines are each team's goal x 1/31.
    assert charts[1] == [1, None, 1.0, None, 0.3, None, 0.2, None, "Mar 2025"]
    # Day 5: the daily snapshot (Ana 2 + Bo 1; Cy 0; Dee 0).
    assert charts[5] == [5, 3, 4.8, 0, 1.6, 0, 0.8, None, "Jul 2025"]
    assert charts[6] == [6, None, 5.8, None, 1.9, None, 1.0, None, "Aug 2025"]
    # Today: the live numbers.
    assert charts[10] == [10, 9, 9.7, 1, 3.2, 2, 1.6, None, "Dec 2025"]
    # January: only Ana had a goal (5 of 10); February: East 20 of 30, West 12 of 10.
    assert charts[11] == [11, None, 10.6, None, 3.5, None, 1.8, None, "Jan 2026", 0.5]
    assert charts[12] == [12, None, 11.6, None, 3.9, None, 1.9, None, "Feb 2026", 0.6666, 1.2]  # 2 of 3, cut
    assert charts[31] == [31, None, 30.0, None, 10.0, None, 5.0]


def test_the_saved_workbook_holds_two_native_line_charts_over_the_tab(
        synced: dict[str, Any], jobs_settings: Callable[..., Settings], store: Store, workbook_path: Path) -> None:
    def charts() -> list[Any]:
        sheet = openpyxl.load_workbook(workbook_path)["Charts"]
        return list(sheet._charts)

    def describe(found: list[Any]) -> list[tuple[str, int, list[str]]]:
        return [(chart.tagname, len(chart.series), [s.val.numRef.f for s in chart.series][:2]) for chart in found]

    expected = [("lineChart", 6, ["'Charts'!$B$2:$B$32", "'Charts'!$C$2:$C$32"]),
                ("lineChart", 3, ["'Charts'!$J$2:$J$13", "'Charts'!$K$2:$K$13"])]
    assert describe(charts()) == expected
    assert [s.spPr.ln.prstDash for s in charts()[0].series][:2] == ["solid", "dash"]
    # A later cycle that rewrites only the Summary keeps the Charts tab's charts in the file.
    create_workbook(workbook_path, tabs([["ana@example.com", 2026, 3, 7]]) | _outputs(workbook_path))
    result = run_cycle(jobs_settings(), store, XlsxBackend(workbook_path), TODAY.replace(minute=5))
    assert "Charts" in result.tabs_written  # the live number of today moved
    assert describe(charts()) == expected


def _outputs(path: Path) -> dict[str, list[list[Any]]]:
    """The output tabs' current values (create_workbook rewrites the whole file)."""
    book = openpyxl.load_workbook(path)
    return {name: [list(row) for row in book[name].iter_rows(values_only=True)]
            for name in ("Team", "History", "Charts") if name in book.sheetnames}


def test_google_adds_each_chart_once_then_changes_only_data_and_ranges(
        sheets_server: FakeSheetsServer, jobs_settings: Callable[..., Settings], store: Store,
        workbook_path: Path) -> None:
    xlsx_settings = jobs_settings()
    build_history(xlsx_settings, store, workbook_path)
    sheets_server.create_spreadsheet("managers", tabs([["ana@example.com", 2026, 3, 6]]))
    settings = jobs_settings(sheets={"backend": "google", "spreadsheet_id": "managers",
                                     "api_endpoint": sheets_server.url})
    backend = GoogleSheetsBackend(settings.sheets, environ={})

    def cycle(minute: int) -> list[dict[str, Any]]:
        sheets_server.clear_requests()
        result = run_cycle(settings, store, backend, TODAY.replace(minute=minute))
        assert result.status == "success", result
        return [request for recorded in sheets_server.requests if recorded.kind == "spreadsheets.batchUpdate"
                for request in recorded.body["requests"]]

    first = cycle(0)
    kinds = [next(iter(request)) for request in first]
    assert kinds.count("addChart") == 2
    charts = sheets_server.tab("managers", "Charts").charts
    assert len(charts) == 2
    line = next(iter(charts.values()))["spec"]["basicChart"]
    assert line["chartType"] == "LINE"
    assert [s["series"]["sourceRange"]["sources"][0]["startColumnIndex"] for s in line["series"]] == [1, 2, 3, 4, 5, 6]
    assert {s["series"]["sourceRange"]["sources"][0]["endRowIndex"] for s in line["series"]} == {32}
    assert sheets_server.get_values("managers", "Charts")[10][:3] == [10, 7, 9.7]  # Ana 6 + Bo 1 (stored on the 5th)

    # New actuals: values only, no formatting call, the same charts.
    sheets_server.set_values("managers", "Actuals", [["ana@example.com", 2026, 3, 8]], start="A6")
    assert cycle(1) == []
    assert sheets_server.get_values("managers", "Charts")[10][:3] == [10, 9, 9.7]
    assert set(sheets_server.tab("managers", "Charts").charts) == set(charts)

    # A new team: the charts read more columns; they are updated, never added again.
    sheets_server.set_values("managers", "Reps", [["eve@example.com", "Eve", "North", 8]], start="A6")
    kinds = [next(iter(request)) for request in cycle(2)]
    assert "addChart" not in kinds
    assert kinds.count("updateChartSpec") == 2
    after = sheets_server.tab("managers", "Charts").charts
    assert set(after) == set(charts)
    assert [len(chart["spec"]["basicChart"]["series"]) for chart in after.values()] == [8, 4]


def test_reps_tab_reports_a_bad_manager_email_and_keeps_the_row(
        jobs_settings: Callable[..., Settings], store: Store, workbook_path: Path) -> None:
    reps = [list(row) for row in REPS]
    reps[1][4] = "mia at example"
    create_workbook(workbook_path, {**tabs([]), "Reps": reps})
    result = run_cycle(jobs_settings(), store, XlsxBackend(workbook_path), TODAY)
    assert [(p.cell, p.problem) for p in result.problems] == [
        ("Reps!E2", "Manager Email must be an email address like ana@example.com; got 'mia at example'")]
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM sales_reps WHERE email = 'ana@example.com'")).scalar() == "Ana"
