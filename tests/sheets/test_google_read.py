"""Reading input tabs with real gspread over HTTP from the fake Sheets API."""

from __future__ import annotations

import pytest

from models.errors import ConfigError, SheetsRequestError
from models.settings import SheetsSettings
from sheets.google import GoogleSheetsBackend

INPUT_TABS = ["Reps", "Monthly Goals", "Yearly Goals", "Actuals"]


@pytest.fixture
def spreadsheet(sheets_server):
    sheets_server.create_spreadsheet("sheet-1", {
        "Reps": [["Email", "Name", "Active"], ["ann@example.com", "Ann", True], ["bob@example.com", "Bob", False]],
        "Monthly Goals": [[], ["Email", "Year", "Month", "Signup Goal"], ["ann@example.com", 2026, "Nov", 12]],
        "Yearly Goals": [["Email", "Year", "Signup Goal"]],
        "Actuals": [["Email", "Year", "Month", "Signups", "Revenue"],
                    ["ann@example.com", 2026, 11, 14.5, 1234.5]],
    })
    return sheets_server


def test_reading_every_input_tab_is_one_request(spreadsheet, google_backend):
    backend = google_backend()

    grids = backend.read_tabs(INPUT_TABS)

    assert spreadsheet.count() == 1
    assert spreadsheet.count("values.batchGet") == 1
    assert backend.request_count == 1
    request = spreadsheet.requests[0]
    assert request.params["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert request.params["dateTimeRenderOption"] == ["FORMATTED_STRING"]  # a date is never read as a number
    assert grids["Reps"] == [["Email", "Name", "Active"], ["ann@example.com", "Ann", True],
                             ["bob@example.com", "Bob", False]]
    assert grids["Actuals"][1] == ["ann@example.com", 2026, 11, 14.5, 1234.5]
    assert grids["Yearly Goals"] == [["Email", "Year", "Signup Goal"]]


def test_leading_blank_rows_are_kept_so_row_numbers_match_the_sheet(spreadsheet, google_backend):
    grids = google_backend().read_tabs(["Monthly Goals"])

    assert grids["Monthly Goals"][0] == []
    assert grids["Monthly Goals"][2] == ["ann@example.com", 2026, "Nov", 12]


def test_cells_come_unformatted_formulas_as_their_results_gaps_as_none_dates_as_text(spreadsheet, google_backend):
    spreadsheet.set_cell("sheet-1", "Actuals", "D3", 7, formula="=3+4")
    spreadsheet.set_cell("sheet-1", "Actuals", "E3", "#REF!", formula="=Z0")
    spreadsheet.set_cell("sheet-1", "Actuals", "A3", "cy@example.com")
    spreadsheet.set_cell("sheet-1", "Actuals", "B3", 46000.5,
                         number_format={"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"})
    spreadsheet.set_cell("sheet-1", "Actuals", "C4", 0.8532, number_format={"type": "PERCENT", "pattern": "0.00%"})

    grid = google_backend().read_tabs(["Actuals"])["Actuals"]

    assert grid[2] == ["cy@example.com", "2025-12-09 12:00", None, 7, "#REF!"]  # a date is never a number
    assert grid[3] == [None, None, 0.8532]  # a percent format changes nothing


def test_a_missing_tab_is_none_and_the_others_are_still_read(spreadsheet, google_backend):
    spreadsheet.delete_tab("sheet-1", "Yearly Goals")
    backend = google_backend()

    grids = backend.read_tabs(INPUT_TABS)

    assert grids["Yearly Goals"] is None
    assert grids["Reps"][1][0] == "ann@example.com"
    assert grids["Actuals"][1][3] == 14.5
    kinds = [r.kind for r in spreadsheet.requests]
    assert kinds == ["values.batchGet", "spreadsheets.get", "values.batchGet"]

    # Metadata is fetched once per backend, not on every cycle.
    backend.read_tabs(INPUT_TABS)
    assert spreadsheet.count("spreadsheets.get") == 1


def test_every_tab_missing_reads_nothing_more(spreadsheet, google_backend):
    grids = google_backend().read_tabs(["Nope", "Neither"])

    assert grids == {"Nope": None, "Neither": None}
    assert [r.kind for r in spreadsheet.requests] == ["values.batchGet", "spreadsheets.get"]


def test_tab_names_with_quotes_and_spaces(sheets_server, google_backend):
    sheets_server.create_spreadsheet("sheet-1", {"Rep's Goals 2026": [["Email"], ["a@b.c"]]})

    grids = google_backend().read_tabs(["Rep's Goals 2026"])

    assert grids["Rep's Goals 2026"] == [["Email"], ["a@b.c"]]


def test_other_bad_requests_are_not_mistaken_for_a_missing_tab(spreadsheet, google_backend):
    spreadsheet.inject(400, message="Invalid value at 'ranges'")

    with pytest.raises(SheetsRequestError, match="Invalid value at 'ranges'"):
        google_backend().read_tabs(INPUT_TABS)
    assert spreadsheet.count("spreadsheets.get") == 0


def test_anonymous_access_needs_an_api_endpoint():
    settings = SheetsSettings(backend="google", spreadsheet_id="sheet-1")

    with pytest.raises(ConfigError, match="credentials_file"):
        GoogleSheetsBackend(settings, environ={})


def test_describe_names_spreadsheet_and_endpoint(google_sheets_settings, sheets_server, google_backend):
    backend = google_backend(summary_spreadsheet_id="summary-9")

    text = backend.describe()

    assert text == f"Google Sheets sheet-1 via {sheets_server.url} (output tabs to summary-9)"


def test_a_tab_deleted_while_running_is_reported_missing(spreadsheet, google_backend):
    backend = google_backend()
    spreadsheet.delete_tab("sheet-1", "Yearly Goals")
    backend.read_tabs(INPUT_TABS)  # metadata now cached
    spreadsheet.delete_tab("sheet-1", "Reps")

    grids = backend.read_tabs(INPUT_TABS)

    assert grids["Reps"] is None and grids["Yearly Goals"] is None
    assert grids["Actuals"][1][0] == "ann@example.com"


def test_a_missing_optional_tab_costs_no_failing_request_on_warm_reads(spreadsheet, google_backend, fake_time):
    spreadsheet.delete_tab("sheet-1", "Reps")
    backend = google_backend()
    backend.read_tabs(INPUT_TABS)  # cold: learns which tabs exist
    spreadsheet.clear_requests()

    for _ in range(3):
        grids = backend.read_tabs(INPUT_TABS)

    assert [(r.kind, r.status) for r in spreadsheet.requests] == [("values.batchGet", 200)] * 3
    assert grids["Reps"] is None and grids["Actuals"][1][0] == "ann@example.com"


def test_a_tab_added_later_is_found_at_the_next_recheck(spreadsheet, google_backend, fake_time):
    spreadsheet.delete_tab("sheet-1", "Reps")
    backend = google_backend()
    backend.read_tabs(INPUT_TABS)
    spreadsheet.add_tab("sheet-1", "Reps", [["Email", "Name"], ["cy@example.com", "Cy"]])
    spreadsheet.clear_requests()

    before = backend.read_tabs(INPUT_TABS)
    fake_time.sleep(600)
    after = backend.read_tabs(INPUT_TABS)

    assert before["Reps"] is None
    assert after["Reps"] == [["Email", "Name"], ["cy@example.com", "Cy"]]
    assert [r.kind for r in spreadsheet.requests] == ["values.batchGet", "spreadsheets.get", "values.batchGet"]
    assert all(r.status == 200 for r in spreadsheet.requests)
