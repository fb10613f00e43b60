"""The fake Sheets API answers the way Google documents (so tests against it mean something)."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def api(sheets_server):
    sheets_server.create_spreadsheet("s1", {
        "Monthly Goals": [["Email", "Goal", None, None], [], ["a@x.com", 12, None]],
        "Empty": [],
    })
    base = f"{sheets_server.url}/v4/spreadsheets/s1"

    def call(method: str, path: str, **kwargs):
        return requests.request(method, base + path, timeout=5, **kwargs)

    return call


def test_batch_get_quotes_tab_names_and_trims_trailing_blanks(api):
    answer = api("GET", "/values:batchGet", params={"ranges": ["'Monthly Goals'", "Empty"],
                                                    "valueRenderOption": "UNFORMATTED_VALUE"}).json()

    goals, empty = answer["valueRanges"]
    assert goals == {"range": "'Monthly Goals'!A1:Z1000", "majorDimension": "ROWS",
                     "values": [["Email", "Goal"], [], ["a@x.com", 12]]}
    assert empty == {"range": "Empty!A1:Z1000", "majorDimension": "ROWS"}  # no "values" key


def test_unknown_tab_is_googles_400(api):
    answer = api("GET", "/values:batchGet", params={"ranges": ["Nope!A1:B2"]})

    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": 400, "message": "Unable to parse range: Nope!A1:B2",
                                       "status": "INVALID_ARGUMENT"}}


def test_raw_keeps_text_user_entered_makes_formulas(api, sheets_server):
    for option, cell in (("RAW", "A1"), ("USER_ENTERED", "B1")):
        answer = api("POST", "/values:batchUpdate", json={
            "valueInputOption": option, "data": [{"range": f"Empty!{cell}", "values": [["=1+1"]]}]})
        assert answer.status_code == 200

    assert sheets_server.get_cell("s1", "Empty", "A1").formula is None
    assert sheets_server.get_cell("s1", "Empty", "B1").formula == "=1+1"
    formulas = api("GET", "/values/Empty!A1:B1", params={"valueRenderOption": "FORMULA"}).json()
    assert formulas["values"] == [["=1+1", "=1+1"]]


def test_formatted_and_unformatted_numbers(api, sheets_server):
    sheets_server.set_cell("s1", "Empty", "A1", 0.5, number_format={"type": "PERCENT", "pattern": "0.00%"})
    sheets_server.set_cell("s1", "Empty", "B1", 1234.5)
    sheets_server.set_cell("s1", "Empty", "C1", True)

    raw = api("GET", "/values/Empty", params={"valueRenderOption": "UNFORMATTED_VALUE"}).json()
    shown = api("GET", "/values/Empty", params={"valueRenderOption": "FORMATTED_VALUE"}).json()

    assert raw["values"] == [[0.5, 1234.5, True]]
    assert shown["values"] == [["50.00%", "1234.5", "TRUE"]]


def test_columns_major_dimension(api):
    answer = api("GET", "/values/'Monthly Goals'!A1:B3",
                 params={"valueRenderOption": "UNFORMATTED_VALUE", "majorDimension": "COLUMNS"}).json()

    assert answer["values"] == [["Email", "", "a@x.com"], ["Goal", "", 12]]


def test_batch_update_is_all_or_nothing(api, sheets_server):
    answer = api("POST", ":batchUpdate", json={"requests": [
        {"addSheet": {"properties": {"title": "New", "sheetId": 42}}},
        {"deleteSheet": {"sheetId": 999}},
    ]})

    assert answer.status_code == 400
    assert "No grid with id: 999" in answer.json()["error"]["message"]
    assert sheets_server.tab_titles("s1") == ["Monthly Goals", "Empty"]


def test_writing_past_a_bounded_range_is_refused(api):
    answer = api("POST", "/values:batchUpdate", json={
        "valueInputOption": "RAW", "data": [{"range": "Empty!A1:A1", "values": [["x", "y"]]}]})

    assert answer.status_code == 400
    assert "tried writing to column [B]" in answer.json()["error"]["message"]


def test_a_range_starting_outside_the_grid_is_refused(api):
    answer = api("GET", "/values/Empty!AA1")

    assert answer.status_code == 400
    assert "exceeds grid limits. Max rows: 1000, max columns: 26" in answer.json()["error"]["message"]


def test_faults_are_counted_by_kind(api, sheets_server):
    sheets_server.inject(429, retry_after=7, kind="values.get")

    first = api("GET", "/values/Empty")
    second = api("GET", "/values/Empty")

    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert first.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert second.status_code == 200
    assert sheets_server.count("values.get") == 2
    assert [r.fault for r in sheets_server.requests] == ["429", None]


# --- strict: whatever Google's discovery document (sheets.v4.json) or its limits refuse ---------

_REPEAT_BOLD = {"cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold"}
STRICT_RULES = [
    # (rule, method, path, params, json body, expected status, words in Google's message)
    ("unknown route", "GET", "/values:frobnicate", {}, None, 404, "Not Found"),
    ("wrong HTTP method for a route", "PUT", ":batchUpdate", {}, {"requests": []}, 404, "Not Found"),
    ("unknown query parameter", "GET", "/values:batchGet", {"ranges": "Empty", "renderOption": "RAW"}, None,
     400, 'Unknown name "renderOption"'),
    ("query enum", "GET", "/values:batchGet", {"ranges": "Empty", "valueRenderOption": "RAW"}, None,
     400, "Invalid value at 'value_render_option'"),
    ("query boolean", "GET", "", {"includeGridData": "yes"}, None, 400, "include_grid_data"),
    ("repeated non-repeated parameter", "GET", "/values/Empty", {"majorDimension": ["ROWS", "COLUMNS"]},
     None, 400, "Duplicate value"),
    ("unknown body field", "POST", "/values:batchUpdate", {},
     {"valueInputOption": "RAW", "date": []}, 400, 'Unknown name "date"'),
    ("unknown nested body field", "POST", ":batchUpdate", {},
     {"requests": [{"repeatCell": {"range": {"sheetId": 0, "startRow": 1}, **_REPEAT_BOLD}}]},
     400, "Unknown name \"startRow\" at 'requests[0].repeat_cell.range'"),
    ("body enum", "POST", "/values:batchUpdate", {}, {"valueInputOption": "RAW_TEXT", "data": []},
     400, "Invalid value at 'value_input_option'"),
    ("body type", "POST", ":batchUpdate", {},
     {"requests": [{"repeatCell": {"range": {"sheetId": "first"}, **_REPEAT_BOLD}}]}, 400, "TYPE_INT32"),
    ("nested enum", "POST", ":batchUpdate", {},
     {"requests": [{"updateDimensionProperties": {
         "range": {"sheetId": 0, "dimension": "COLUMN", "startIndex": 0, "endIndex": 1},
         "properties": {"pixelSize": 80}, "fields": "pixelSize"}}]}, 400, "dimension"),
    ("field mask names no field", "POST", ":batchUpdate", {},
     {"requests": [{"repeatCell": {"range": {"sheetId": 0}, "cell": {},
                                   "fields": "userEnteredFormat.textFormat.heavy"}}]}, 400, "field mask"),
    ("empty field mask", "POST", ":batchUpdate", {},
     {"requests": [{"updateSheetProperties": {"properties": {"sheetId": 0}, "fields": ""}}]},
     400, "At least one field must be updated"),
    ("response fields selector", "GET", "", {"fields": "sheets(propertys)"}, None, 400,
     "Invalid field selection propertys"),
    ("GridRange beyond the columns", "POST", ":batchUpdate", {},
     {"requests": [{"repeatCell": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1,
                                             "startColumnIndex": 0, "endColumnIndex": 30}, **_REPEAT_BOLD}}]},
     400, "exceeds grid limits. Max rows: 1000, max columns: 26"),
    ("GridRange beyond the rows", "POST", ":batchUpdate", {},
     {"requests": [{"addConditionalFormatRule": {"index": 0, "rule": {
         "ranges": [{"sheetId": 0, "startRowIndex": 999, "endRowIndex": 1001}],
         "booleanRule": {"condition": {"type": "NOT_BLANK"}, "format": {}}}}}]}, 400, "exceeds grid limits"),
    ("DimensionRange beyond the columns", "POST", ":batchUpdate", {},
     {"requests": [{"updateDimensionProperties": {
         "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 20, "endIndex": 27},
         "properties": {"pixelSize": 80}, "fields": "pixelSize"}}]}, 400, "exceeds grid limits"),
    ("10,000,000 cells per spreadsheet", "POST", ":batchUpdate", {},
     {"requests": [{"addSheet": {"properties": {"title": "Huge", "gridProperties": {
         "rowCount": 400_000, "columnCount": 26}}}}]}, 400, "above the limit of 10000000 cells"),
    ("50,000 characters per cell", "PUT", "/values/Empty!A1", {"valueInputOption": "RAW"},
     {"values": [["x" * 50_001]]}, 400, "more than the maximum of 50000 characters"),
    ("request body over 2 MB", "POST", "/values:batchUpdate", {},
     {"valueInputOption": "RAW", "data": [{"range": "Empty!A1", "values": [["y" * 40_000]] * 60}]},
     413, "payload size exceeds the limit"),
    ("method Google has but the server does not model", "POST", "/values:batchGetByDataFilter", {},
     {"dataFilters": []}, 501, "not modelled"),
]


@pytest.mark.parametrize(("rule", "method", "path", "params", "body", "status", "words"), STRICT_RULES,
                         ids=[row[0] for row in STRICT_RULES])
def test_the_strict_server_refuses_what_google_refuses(api, sheets_server, rule, method, path, params, body,
                                                       status, words):
    before = sheets_server.metadata("s1")

    answer = api(method, path, params=params, json=body)

    assert answer.status_code == status, answer.text[:300]
    error = answer.json()["error"]
    assert words in error["message"]
    assert set(error) == {"code", "message", "status"} and error["code"] == status
    assert sheets_server.metadata("s1") == before  # nothing changed


def test_a_values_write_that_would_pass_10_million_cells_is_refused(api, sheets_server):
    sheets_server.add_tab("s1", "Big", [])
    big = api("POST", ":batchUpdate", json={"requests": [{"updateSheetProperties": {
        "properties": {"sheetId": 1_000_002, "gridProperties": {"rowCount": 380_000, "columnCount": 26}},
        "fields": "gridProperties.rowCount"}}]})
    assert big.status_code == 200, big.text

    answer = api("PUT", "/values/Empty!A1", params={"valueInputOption": "RAW"},
                 json={"values": [[None] * 25 + ["far right"]] + [[]] * 2000})
    wide = api("PUT", "/values/Empty!Z1", params={"valueInputOption": "RAW"}, json={"values": [[1] * 200]})

    assert answer.status_code == 200
    assert wide.status_code == 400 and "10000000 cells" in wide.json()["error"]["message"]


def test_a_viewer_may_read_but_not_write(api, sheets_server):
    sheets_server.share("s1", role="reader")

    read = api("GET", "/values/Empty")
    write = api("PUT", "/values/Empty!A1", params={"valueInputOption": "RAW"}, json={"values": [["x"]]})
    fmt = api("POST", ":batchUpdate", json={"requests": [{"repeatCell": {"range": {"sheetId": 0}, **_REPEAT_BOLD}}]})

    assert read.status_code == 200
    assert (write.status_code, fmt.status_code) == (403, 403)
    assert write.json()["error"]["status"] == "PERMISSION_DENIED"


def test_fields_selects_what_the_answer_holds(api):
    answer = api("GET", "", params={"fields": "sheets.properties(title,gridProperties/columnCount)"}).json()

    assert answer == {"sheets": [{"properties": {"title": "Monthly Goals", "gridProperties": {"columnCount": 26}}},
                                 {"properties": {"title": "Empty", "gridProperties": {"columnCount": 26}}}]}


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "password", "assertion": "x"}, "unsupported_grant_type"),
    ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "not-a-jwt"}, "invalid_grant"),
])
def test_the_token_endpoint_answers_oauth_errors(sheets_server, form, error):
    answer = requests.post(sheets_server.token_uri, data=form, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["error"] == error and answer.json()["error_description"]
