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
