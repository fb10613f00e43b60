"""Writing output tabs with real gspread over HTTP to the fake Sheets API."""

from __future__ import annotations

import json

import pytest

from models.settings import RetrySettings
from sheets.formatting import PROTECTION_DESCRIPTION
from sheets.outputs import PACE_COLOURS, Column, Layout, OutputTable, TabWrite

SUMMARY_LAYOUT = Layout(
    columns=(Column("Rep", "text", 160), Column("Signups", "number", 80), Column("Signup %", "percent", 80),
             Column("Revenue", "money", 110), Column("Bonus Tier", "int", 80),
             Column("Synced", "datetime", 140), Column("Pace", "text", 90)),
    frozen_rows=1,
    colour_column="Pace",
    colours=tuple(PACE_COLOURS.items()),
    side_block_column=8,
)
ERRORS_LAYOUT = Layout(columns=(Column("Tab"), Column("Cell"), Column("Problem", width=300)))


def summary(rows, side=(("Last sync", "2026-11-03 09:00"), ("Problems", 0))) -> OutputTable:
    return OutputTable(tab="Summary", layout=SUMMARY_LAYOUT, rows=tuple(tuple(r) for r in rows),
                       side_block=tuple(tuple(r) for r in side))


def errors(rows=()) -> OutputTable:
    return OutputTable(tab="Sync Errors", layout=ERRORS_LAYOUT, rows=tuple(tuple(r) for r in rows))


ROWS = [("Ann", 14.5, 0.8532, 1234.5, 2, 46000.375, "ahead"),
        ("Bob", 3, 0.25, 0, 0, 46000.375, "critical")]


@pytest.fixture
def spreadsheet(sheets_server):
    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]], "Summary": [], "Sync Errors": []})
    return sheets_server


def test_first_write_is_one_values_request_and_one_formatting_request(spreadsheet, google_backend):
    backend = google_backend()

    report = backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True),
                                 TabWrite(errors(), apply_layout=True)])

    assert spreadsheet.count("values.batchUpdate") == 1
    assert spreadsheet.count("spreadsheets.batchUpdate") == 1
    assert spreadsheet.count("spreadsheets.get") == 1  # sheet ids for the formatting call
    assert (report.value_calls, report.format_calls, report.tabs_created) == (1, 1, ())
    values = spreadsheet.get_values("sheet-1", "Summary")
    assert values[0][:7] == ["Rep", "Signups", "Signup %", "Revenue", "Bonus Tier", "Synced", "Pace"]
    assert values[1][:7] == ["Ann", 14.5, 0.8532, 1234.5, 2, 46000.375, "ahead"]
    assert values[0][8:] == ["Last sync", "2026-11-03 09:00"]
    assert values[1][8:] == ["Problems", 0]
    assert spreadsheet.get_values("sheet-1", "Sync Errors") == [["Tab", "Cell", "Problem"]]
    assert spreadsheet.requests[-1].body["valueInputOption"] == "RAW"


def test_the_warm_path_is_a_single_request(spreadsheet, google_backend):
    backend = google_backend()
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True), TabWrite(errors(), apply_layout=True)])
    spreadsheet.clear_requests()

    report = backend.write_tabs([TabWrite(summary(ROWS[:1]), clear_rows=3, clear_columns=10),
                                 TabWrite(errors([("Actuals", "Actuals!D7", "not a number")]))])

    assert [r.kind for r in spreadsheet.requests] == ["values.batchUpdate"]
    assert (report.value_calls, report.format_calls) == (1, 0)
    assert spreadsheet.get_values("sheet-1", "Sync Errors")[1] == ["Actuals", "Actuals!D7", "not a number"]


def test_a_fresh_backend_writing_values_only_fetches_no_metadata(spreadsheet, google_backend):
    google_backend().write_tabs([TabWrite(summary(ROWS))])

    assert [r.kind for r in spreadsheet.requests] == ["values.batchUpdate"]


def test_formats_follow_the_column_kinds(spreadsheet, google_backend):
    google_backend().write_tabs([TabWrite(summary(ROWS), apply_layout=True)])

    tab = spreadsheet.tab("sheet-1", "Summary")
    assert tab.frozen_row_count == 1
    assert tab.column_widths == {0: 160, 1: 80, 2: 80, 3: 110, 4: 80, 5: 140, 6: 90}
    shown = spreadsheet.get_values("sheet-1", "Summary", render="FORMATTED_VALUE")
    assert shown[1][:6] == ["Ann", "14.5", "85.32%", "$1,234.50", "2", "2025-12-09 09:00"]
    assert shown[2][1:5] == ["3.0", "25.00%", "$0.00", "0"]
    header_formats = [r["repeatCell"] for r in tab.requests
                      if "repeatCell" in r and r["repeatCell"]["range"].get("endRowIndex") == 1]
    assert header_formats[0]["cell"]["userEnteredFormat"]["textFormat"]["bold"] is True


def test_pace_colours_are_rules_that_replace_the_previous_ones(spreadsheet, google_backend):
    backend = google_backend()
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])

    rules = spreadsheet.tab("sheet-1", "Summary").conditional_formats
    assert len(rules) == len(PACE_COLOURS)
    by_text = {r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]: r for r in rules}
    assert set(by_text) == set(PACE_COLOURS)
    ahead = by_text["ahead"]
    assert ahead["booleanRule"]["condition"]["type"] == "TEXT_EQ"
    assert ahead["ranges"][0]["startColumnIndex"] == 6
    assert ahead["booleanRule"]["format"]["backgroundColor"] == {"red": 0.7176, "green": 0.8824, "blue": 0.8039}

    # A new backend (a restarted daemon) learns the existing rules from the metadata.
    google_backend().write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    assert len(spreadsheet.tab("sheet-1", "Summary").conditional_formats) == len(PACE_COLOURS)


@pytest.mark.parametrize("text", ["=IMPORTXML(\"http://x\", \"//a\")", "+1 555 0100", "-5", "@everyone",
                                  "=1+1"])
def test_text_that_looks_like_a_formula_stays_text(spreadsheet, google_backend, text):
    google_backend().write_tabs([TabWrite(summary([(text, 1, 0.1, 1, 1, 1, "ahead")]))])

    cell = spreadsheet.get_cell("sheet-1", "Summary", "A2")
    assert cell.formula is None
    assert cell.value == text


def test_leftover_rows_and_columns_of_a_longer_table_are_blanked(spreadsheet, google_backend):
    backend = google_backend()
    many = [(f"Rep {i}", i, 0.5, 10, 1, 46000, "ahead") for i in range(6)]
    backend.write_tabs([TabWrite(summary(many))])
    assert len(spreadsheet.get_values("sheet-1", "Summary")) == 7

    backend.write_tabs([TabWrite(summary(many[:2], side=()), clear_rows=7, clear_columns=10)])

    values = spreadsheet.get_values("sheet-1", "Summary")
    assert len(values) == 3
    assert values[2][0] == "Rep 1"
    assert all(len(row) <= 7 for row in values)  # the side block's old cells are blank too


def test_a_missing_output_tab_is_created_and_formatted(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]]})

    report = google_backend().write_tabs([TabWrite(summary(ROWS)), TabWrite(errors())])

    assert report.tabs_created == ("Summary", "Sync Errors")
    assert sheets_server.tab_titles("sheet-1") == ["Reps", "Summary", "Sync Errors"]
    assert [r.kind for r in sheets_server.requests] == [
        "values.batchUpdate", "spreadsheets.get", "spreadsheets.batchUpdate", "values.batchUpdate"]
    assert sheets_server.get_values("sheet-1", "Summary")[1][0] == "Ann"
    assert sheets_server.tab("sheet-1", "Summary").frozen_row_count == 1


def test_a_missing_tab_with_layout_due_is_created_in_the_one_formatting_call(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]], "Sync Errors": []})

    report = google_backend().write_tabs([TabWrite(summary(ROWS), apply_layout=True),
                                          TabWrite(errors(), apply_layout=False)])

    assert report.tabs_created == ("Summary",)
    assert [r.kind for r in sheets_server.requests] == [
        "spreadsheets.get", "spreadsheets.batchUpdate", "values.batchUpdate"]
    formats = sheets_server.tab("sheet-1", "Sync Errors").requests
    assert formats == []  # its layout was not due


def test_outputs_go_to_the_summary_spreadsheet_when_configured(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]]})
    sheets_server.create_spreadsheet("summary-9", {"Summary": []})

    google_backend(summary_spreadsheet_id="summary-9").write_tabs([TabWrite(summary(ROWS))])

    assert sheets_server.get_values("summary-9", "Summary")[1][0] == "Ann"
    assert {r.spreadsheet_id for r in sheets_server.requests} == {"summary-9"}


def test_output_tabs_are_protected_for_the_service_account_only(spreadsheet, google_backend,
                                                                 google_sheets_settings, sheets_service_account):
    settings = google_sheets_settings(credentials_file=str(sheets_service_account.path), protect_output_tabs=True)
    backend = google_backend(settings)

    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    google_backend(settings).write_tabs([TabWrite(summary(ROWS), apply_layout=True)])

    protected = spreadsheet.tab("sheet-1", "Summary").protected_ranges
    assert len(protected) == 1
    assert protected[0]["description"] == PROTECTION_DESCRIPTION
    assert protected[0]["warningOnly"] is False
    assert protected[0]["editors"] == {"users": [sheets_service_account.email]}
    assert protected[0]["range"] == {"sheetId": spreadsheet.tab("sheet-1", "Summary").sheet_id}


def test_values_are_json_ready(spreadsheet, google_backend):
    from datetime import datetime
    from decimal import Decimal

    row = ("Ann", Decimal("14.5"), float("nan"), None, True, datetime(2026, 11, 3, 9, 0), "ahead")
    google_backend().write_tabs([TabWrite(summary([row], side=()))])

    values = spreadsheet.get_values("sheet-1", "Summary")
    assert values[1] == ["Ann", 14.5, "", "", True, 46329.375, "ahead"]


def test_an_output_tab_deleted_while_running_is_created_again(spreadsheet, google_backend):
    backend = google_backend()
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    spreadsheet.delete_tab("sheet-1", "Summary")

    report = backend.write_tabs([TabWrite(summary(ROWS))])

    assert report.tabs_created == ("Summary",)
    assert spreadsheet.get_values("sheet-1", "Summary")[1][0] == "Ann"
    assert spreadsheet.tab("sheet-1", "Summary").frozen_row_count == 1


def test_a_layout_for_a_tab_deleted_while_running_lists_the_tabs_again(spreadsheet, google_backend):
    backend = google_backend()
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    spreadsheet.delete_tab("sheet-1", "Summary")

    report = backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])

    assert report.tabs_created == ("Summary",)
    assert spreadsheet.get_values("sheet-1", "Summary")[1][0] == "Ann"


def test_a_failed_formatting_call_leaves_nothing_half_known(sheets_server, google_backend):
    from models.errors import SheetsUnavailable

    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]]})
    backend = google_backend()
    sheets_server.inject(503, times=None, kind="spreadsheets.batchUpdate")
    with pytest.raises(SheetsUnavailable):
        backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    sheets_server.clear_faults()

    report = backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])

    assert report.tabs_created == ("Summary",)
    assert sheets_server.get_values("sheet-1", "Summary")[1][0] == "Ann"


def test_a_first_write_adds_the_tabs_without_listing_the_spreadsheet(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]]})

    report = google_backend().write_tabs([TabWrite(summary(ROWS), apply_layout=True, first_write=True),
                                          TabWrite(errors(), apply_layout=True, first_write=True)])

    assert report.tabs_created == ("Summary", "Sync Errors")
    assert [r.kind for r in sheets_server.requests] == ["spreadsheets.batchUpdate", "values.batchUpdate"]
    assert sheets_server.tab("sheet-1", "Summary").frozen_row_count == 1


def test_a_first_write_to_a_tab_that_exists_after_all_lists_the_tabs_and_goes_on(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Reps": [["Email"]], "Summary": [["made by hand"]]})

    report = google_backend().write_tabs([TabWrite(summary(ROWS), apply_layout=True, first_write=True),
                                          TabWrite(errors(), apply_layout=True, first_write=True)])

    assert report.tabs_created == ("Sync Errors",)
    assert [r.kind for r in sheets_server.requests] == [
        "spreadsheets.batchUpdate", "spreadsheets.get", "spreadsheets.batchUpdate", "values.batchUpdate"]
    assert sheets_server.tab_titles("sheet-1") == ["Reps", "Summary", "Sync Errors"]
    assert sheets_server.get_values("sheet-1", "Summary")[1][0] == "Ann"


def test_a_small_tab_a_manager_made_is_resized_before_it_is_formatted(sheets_server, google_backend):
    # A hand-made tab of 5 rows x 3 columns: the layout's ranges reach column J and row 3.
    sheets_server.create_spreadsheet("sheet-1", {"Summary": [["old"]]}, rows=5, columns=3)

    google_backend().write_tabs([TabWrite(summary(ROWS), apply_layout=True)])

    assert all(r.status == 200 for r in sheets_server.requests), [(r.kind, r.status) for r in sheets_server.requests]
    tab = sheets_server.tab("sheet-1", "Summary")
    assert (tab.row_count, tab.column_count) == (5, 10)
    assert sheets_server.get_values("sheet-1", "Summary")[1][:7] == list(ROWS[0])
    assert sheets_server.count("spreadsheets.batchUpdate") == 1


def test_a_tab_grown_by_values_is_not_resized_again(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Summary": []}, rows=2, columns=3)
    backend = google_backend()
    backend.write_tabs([TabWrite(summary(ROWS), apply_layout=True)])
    many = [(f"Rep {i}", 1, 0.1, 1, 0, 46000.0, "ahead") for i in range(40)]
    backend.write_tabs([TabWrite(summary(many))])
    sheets_server.clear_requests()

    backend.write_tabs([TabWrite(summary(many), apply_layout=True)])

    formatting = [r.body for r in sheets_server.requests if r.kind == "spreadsheets.batchUpdate"]
    assert len(formatting) == 1
    assert not any("updateSheetProperties" in req and "rowCount" in str(req) for req in formatting[0]["requests"])
    assert all(r.status == 200 for r in sheets_server.requests)


def test_a_big_write_is_split_into_bodies_under_2_mb(spreadsheet, google_backend):
    # About 5 MB of values in one body, which the strict server (like Google's advice) refuses; in
    # long rows, as the cost of the test is per cell and the split is by size.
    many = [(f"rep{i:05d}@example.com with a long name {'x' * 3_300}", i, 0.5, 1234.5, 2, 46000.375, "ahead")
            for i in range(1_500)]
    patient = RetrySettings(timeout_seconds=30, max_attempts=1, max_total_seconds=60)

    report = google_backend(retry=patient).write_tabs([TabWrite(summary(many), apply_layout=True),
                                                       TabWrite(errors([("Actuals", "D7", "not a number")]))])

    writes = [r for r in spreadsheet.requests if r.kind == "values.batchUpdate"]
    assert len(writes) == report.value_calls >= 3
    assert all(r.status == 200 for r in spreadsheet.requests)
    sizes = [len(json.dumps(r.body)) for r in writes]
    assert max(sizes) < 2_000_000
    values = spreadsheet.get_values("sheet-1", "Summary")
    assert len(values) == 1_501
    assert values[1_234][1] == 1_233 and values[-1][0].startswith("rep01499@")
    assert spreadsheet.get_values("sheet-1", "Sync Errors")[1] == ["Actuals", "D7", "not a number"]
