"""The cell parser, rule by rule, with the exact problems a user would see on Sync Errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sheets.inputs import FRAME_COLUMNS
from sheets.parse import TabResult, parse_inputs, parse_tab
from tests.profiles import scaled

ACTUALS_HEADER = ["Email", "Year", "Month", "Signups", "Revenue"]
MONTHLY_HEADER = ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"]
REPS_HEADER = ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"]
KNOWN = frozenset({"ana@example.com", "bo@example.com"})


def actuals(*rows: list[object], known: frozenset[str] | None = KNOWN) -> TabResult:
    return parse_tab("actuals", [ACTUALS_HEADER, *rows], "Actuals", known_emails=known)


def monthly(*rows: list[object]) -> TabResult:
    return parse_tab("monthly_goals", [MONTHLY_HEADER, *rows], "Monthly Goals", known_emails=KNOWN)


def reps(*rows: list[object], known: frozenset[str] = KNOWN) -> TabResult:
    return parse_tab("reps", [REPS_HEADER, *rows], "Reps", known_emails=known)


def by_cell(result: TabResult) -> dict[str, str]:
    return {p.cell: p.problem for p in result.problems}


def one_value(result: TabResult, field: str) -> object:
    assert result.tab is not None
    assert len(result.tab.frame) == 1, result.problems
    value = result.tab.frame[field].iloc[0]
    return None if pd.isna(value) else value


# --- headers and tabs -------------------------------------------------------------------------------


def test_header_row_is_first_non_blank_row_and_rows_keep_their_sheet_numbers() -> None:
    grid = [[], [None, "  "], ACTUALS_HEADER, ["ana@example.com", 2026, 11, 3, 100], [],
            ["bo@example.com", 2026, 11, 4, 200]]
    result = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN)
    assert result.problems == ()
    assert result.tab is not None
    assert result.tab.frame["row"].tolist() == [4, 6]
    assert result.tab.cell(6, "revenue") == "Actuals!E6"
    assert result.rows_read == 2


@pytest.mark.parametrize("header", [
    ["email", "YEAR", "Month", "signups", "revenue"],
    [" Email ", "year", "month", "SIGNUPS", "Revenue"],
])
def test_headers_match_case_insensitively_and_trimmed(header: list[str]) -> None:
    result = parse_tab("actuals", [header, ["ana@example.com", 2026, 11, 3, 100]], "Actuals",
                       known_emails=KNOWN)
    assert result.problems == ()
    assert one_value(result, "signups") == 3


def test_underscores_dashes_and_repeated_spaces_count_as_one_space() -> None:
    grid = [["email", "year", "month", "signup_goal", "Revenue-Goal", "Bonus   Tier__Goal"],
            ["ana@example.com", 2026, 11, 12, 500, 3]]
    result = parse_tab("monthly_goals", grid, "Monthly Goals", known_emails=KNOWN)
    assert result.problems == ()
    assert (one_value(result, "signup_goal"), one_value(result, "revenue_goal"),
            one_value(result, "bonus_tier_goal")) == (12, 500.0, 3)


def test_extra_columns_are_ignored_and_a_row_with_only_notes_is_not_a_row() -> None:
    grid = [["Notes", "Email", "Year", "Month", "Signups", "Revenue", "Comment"],
            ["called twice", "ana@example.com", 2026, 11, 3, 100, "great month"],
            ["just a note", None, None, None, None, None, "another"]]
    result = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN)
    assert result.problems == ()
    assert result.tab is not None
    assert result.tab.columns["email"] == 1
    assert result.rows_read == 1
    assert result.tab.frame["row"].tolist() == [2]


def test_config_aliases_add_header_texts_by_field_name_or_default_header() -> None:
    grid = [["E-mail address", "Year", "Month", "Deals Closed", "Booked"], ["ana@example.com", 2026, 11, 3, 9]]
    aliases = {"email": ["E-mail address", "Mail"], "signups": "Deals Closed", "Revenue": "booked"}
    result = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN, header_aliases=aliases)
    assert result.problems == ()
    assert (one_value(result, "signups"), one_value(result, "revenue")) == (3.0, 9.0)


def test_an_alias_names_the_column_in_messages() -> None:
    grid = [["Email", "Year", "Month", "Deals Closed"], ["ana@example.com", 2026, 11, "lots"]]
    result = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN, header_aliases={"signups": "Deals Closed"})
    assert by_cell(result)["Actuals!D2"].startswith("Deals Closed must be a number like 14 or 14.5")


def test_a_header_given_twice_is_read_from_its_first_column_and_reported() -> None:
    grid = [["Email", "Year", "Month", "Signups", "Signups"], ["ana@example.com", 2026, 11, 3, 99]]
    result = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN)
    assert by_cell(result) == {
        "Actuals!E1": "'Signups' appears twice in the header row (columns D and E); only column D is read"}
    assert one_value(result, "signups") == 3


def test_missing_tab_is_one_problem_and_the_tab_is_skipped() -> None:
    result = parse_tab("actuals", None, "Actuals")
    assert result.tab is None
    [problem] = result.problems
    assert (problem.tab, problem.cell, problem.email, problem.value) == ("Actuals", "Actuals", "", "")
    assert problem.problem.startswith("tab Actuals is missing")
    assert "Email, Year, Month, Signups, Revenue" in problem.problem


def test_missing_reps_tab_is_not_a_problem() -> None:
    assert parse_tab("reps", None, "Reps") == TabResult(None, (), 0)
    assert parse_tab("reps", [[], []], "Reps") == TabResult(None, (), 0)


def test_empty_tab_is_reported() -> None:
    result = parse_tab("yearly_goals", [[], [None, ""]], "Yearly Goals")
    assert result.tab is None
    assert [p.problem for p in result.problems] == [
        "tab Yearly Goals is empty; it needs a header row with Email, Year, Signup Goal, Revenue Goal "
        "(this tab was skipped)"]


def test_missing_required_header_names_header_and_tab_and_skips_the_tab() -> None:
    grid = [[], ["Email", "Year", "Signups", "Revenue"], ["ana@example.com", 2026, 3, 100]]
    result = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN)
    assert result.tab is None
    [problem] = result.problems
    assert problem.cell == "Actuals!2:2"
    assert problem.problem == ("tab Actuals has no 'Month' column in its header row (row 2); "
                               "add a column headed 'Month' (this tab was skipped)")


def test_reps_tab_requires_a_name_column() -> None:
    result = parse_tab("reps", [["Email", "Team"], ["ana@example.com", "East"]], "Reps")
    assert result.tab is None
    assert "no 'Name' column" in result.problems[0].problem


def test_a_bad_tab_does_not_stop_the_others() -> None:
    parsed = parse_inputs(
        {"reps": None, "monthly_goals": [["Email", "Year"]], "yearly_goals": None,
         "actuals": [ACTUALS_HEADER, ["ana@example.com", 2026, 11, 3, 100]]},
        {"reps": "Reps", "monthly_goals": "Goals", "yearly_goals": "Yearly Goals", "actuals": "Actuals"},
        known_emails=frozenset({"Ana@Example.com "}),
    )
    assert parsed.tabs["monthly_goals"] is None
    assert parsed.tabs["yearly_goals"] is None
    assert parsed.tabs["reps"] is None
    actual_tab = parsed.tabs["actuals"]
    assert actual_tab is not None and len(actual_tab.frame) == 1
    assert [p.cell for p in parsed.problems] == ["Goals!1:1", "Yearly Goals"]
    assert parsed.rows_read == 1


# --- frames -----------------------------------------------------------------------------------------


def test_frames_have_exactly_the_contract_columns_and_dtypes() -> None:
    parsed = parse_inputs(
        {"reps": [REPS_HEADER, ["ana@example.com", "Ana", "East", "AE", True, 12, 144]],
         "monthly_goals": [MONTHLY_HEADER, ["ana@example.com", 2026, 11, 12, 5000, 2]],
         "yearly_goals": [["Email", "Year"], ["ana@example.com", 2026]],
         "actuals": [ACTUALS_HEADER, ["ana@example.com", 2026, 11, 14.5, 1234.5]]},
        {}, known_emails=frozenset(),
    )
    assert [p for p in parsed.problems if p.tab == "Actuals"] == []
    expected = {"email": "string", "name": "string", "team": "string", "title": "string", "manager_email": "string",
                "is_active": "boolean", "monthly_signup_goal": "Int64", "yearly_signup_goal": "Int64",
                "year": "Int64", "month": "Int64", "signup_goal": "Int64", "revenue_goal": "Float64",
                "bonus_tier_goal": "Int64", "signups": "Float64", "revenue": "Float64", "row": "int64"}
    for kind, tab in parsed.tabs.items():
        assert tab is not None
        assert tuple(tab.frame.columns) == (*FRAME_COLUMNS[kind], "row")
        for column in tab.frame.columns:
            assert str(tab.frame[column].dtype) == expected[column], (kind, column)
    yearly = parsed.tabs["yearly_goals"]
    assert yearly is not None
    assert yearly.frame["signup_goal"].isna().all()  # column absent: no change


# --- emails and keys --------------------------------------------------------------------------------


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert one_value(actuals([" Ana@Example.COM  ", 2026, 11, 1, 1]), "email") == "ana@example.com"


@pytest.mark.parametrize("raw", ["ana", "ana@", "@example.com", "ana@example", "ana smith@example.com",
                                 "ana@@example.com", 42, True, "ana@example..com"])
def test_bad_email_rejects_the_whole_row(raw: object) -> None:
    result = actuals([raw, 2026, 11, 1, 1], ["ana@example.com", 2026, 10, 2, 2])
    assert result.tab is not None
    assert result.tab.frame["month"].tolist() == [10]
    [problem] = result.problems
    assert problem.cell == "Actuals!A2"
    assert problem.email == ""
    assert problem.problem.startswith("Email must be an email address like ana@example.com; got ")


def test_blank_key_cells_reject_the_row_with_one_problem_each() -> None:
    result = actuals([None, 2026, 11, 3, 4], ["ana@example.com", "", 11, 3, 4], ["bo@example.com", 2026, None, 1])
    assert result.tab is not None and result.tab.frame.empty
    assert by_cell(result) == {
        "Actuals!A2": "Email is blank; every row needs the rep's email address",
        "Actuals!B3": "Year is blank; every row needs a four-digit year from 2024 to 2100, like 2026",
        "Actuals!C4": "Month is blank; every row needs a month number 1–12 or a name like Nov or November",
    }


@pytest.mark.parametrize(("raw", "month"), [
    (1, 1), ("01", 1), ("Nov", 11), ("november", 11), ("NOVEMBER", 11), (11.0, 11), (" 11 ", 11),
    ("sept", 9), ("Sep.", 9), ("12", 12), ("11.0", 11),
])
def test_month_forms(raw: object, month: int) -> None:
    assert one_value(actuals(["ana@example.com", 2026, raw, 1, 1]), "month") == month


@pytest.mark.parametrize("raw", [0, 13, "Novem", 11.5, True, "#N/A", -1, "1/11", 46327])
def test_bad_month_rejects_the_row(raw: object) -> None:
    result = actuals(["ana@example.com", 2026, raw, 1, 1])
    assert result.tab is not None and result.tab.frame.empty
    [problem] = result.problems
    assert problem.cell == "Actuals!C2"
    assert problem.problem.startswith("Month ")
    assert problem.email == "ana@example.com"


def test_a_date_serial_in_month_gets_a_hint() -> None:
    assert "looks like a date" in by_cell(actuals(["ana@example.com", 2026, 46327, 1, 1]))["Actuals!C2"]


@pytest.mark.parametrize(("raw", "year"), [(2026, 2026), (2026.0, 2026), ("2026", 2026), (" 2024 ", 2024),
                                           (2100, 2100)])
def test_year_forms(raw: object, year: int) -> None:
    assert one_value(actuals(["ana@example.com", raw, 11, 1, 1]), "year") == year


@pytest.mark.parametrize("raw", [2023, 26, 2026.5, "FY2026", 2101, "#REF!", False, "20 26"])
def test_bad_year_rejects_the_row(raw: object) -> None:
    result = actuals(["ana@example.com", raw, 11, 1, 1])
    assert result.tab is not None and result.tab.frame.empty
    [problem] = result.problems
    assert problem.cell == "Actuals!B2"
    assert problem.problem.startswith("Year ")


# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [
    (1234, 1234.0), ("1,234", 1234.0), ("$1,234.50", 1234.5), (" 12 ", 12.0), (1234.5, 1234.5),
    (1234.567, 1234.57), (1.005, 1.01), (0, 0.0), ("0", 0.0), ("12,345,678.9", 12345678.9),
    (1_000_000_000, 1e9), ("+5", 5.0), ("-0", 0.0), (".5", 0.5), ("€12", 12.0),
])
def test_revenue_forms(raw: object, value: float) -> None:
    assert one_value(actuals(["ana@example.com", 2026, 11, None, raw]), "revenue") == value


@pytest.mark.parametrize(("raw", "value"), [(14.5, 14.5), ("14.5", 14.5), (14, 14.0), (14.500000000001, 14.5),
                                            (0.1 + 0.2, 0.3), (100_000, 100_000.0)])
def test_signups_allow_one_decimal(raw: object, value: float) -> None:
    assert one_value(actuals(["ana@example.com", 2026, 11, raw, None]), "signups") == value


@pytest.mark.parametrize(("raw", "value"), [(12, 12), (12.0, 12), ("12", 12), ("1,200", 1200), (0, 0)])
def test_goals_are_whole_numbers(raw: object, value: int) -> None:
    assert one_value(monthly(["ana@example.com", 2026, 11, raw, None, None]), "signup_goal") == value


@pytest.mark.parametrize(("raw", "fragment"), [
    ("twelve", "Revenue must be a number like 1234.50 (0 to 1,000,000,000); got 'twelve'"),
    (-5, "Revenue cannot be negative; got '-5'"),
    ("-$5.00", "Revenue cannot be negative; got '-$5.00'"),
    ("(120)", "Revenue cannot be negative; got '(120)'"),
    ("#REF!", "Revenue shows the spreadsheet error #REF!; fix the formula"),
    ("#DIV/0!", "Revenue shows the spreadsheet error #DIV/0!"),
    ("#N/A", "Revenue shows the spreadsheet error #N/A"),
    ("#VALUE!", "Revenue shows the spreadsheet error #VALUE!"),
    ("#NAME?", "Revenue shows the spreadsheet error #NAME?"),
    ("#NUM!", "Revenue shows the spreadsheet error #NUM!"),
    ("#NULL!", "Revenue shows the spreadsheet error #NULL!"),
    ("#ERROR!", "Revenue shows the spreadsheet error #ERROR!"),
    (True, "Revenue must be a number like 1234.50 (0 to 1,000,000,000), not a checkbox or TRUE/FALSE; got 'TRUE'"),
    (1_000_000_000.01, "Revenue is too large (at most 1,000,000,000); got '1000000000.01'"),
    (1e300, "Revenue is too large"),
    (10**400, "Revenue is too large"),
    (math.inf, "Revenue is too large"),
    ("12,5", "Revenue must be a number like 1234.50"),
    ("12%", "Revenue must be a number like 1234.50"),
    ("1 234", "Revenue must be a number like 1234.50"),
])
def test_bad_revenue_is_blanked_and_the_rest_of_the_row_syncs(raw: object, fragment: str) -> None:
    result = actuals(["ana@example.com", 2026, 11, 3, raw])
    assert one_value(result, "revenue") is None
    assert one_value(result, "signups") == 3.0
    [problem] = result.problems
    assert (problem.tab, problem.cell, problem.email) == ("Actuals", "Actuals!E2", "ana@example.com")
    assert fragment in problem.problem


@pytest.mark.parametrize(("raw", "fragment"), [
    (14.25, "Signups allows at most one decimal (half credit like 14.5); got '14.25'"),
    (100_000.5, "Signups is too large (at most 100,000)"),
    ("lots", "Signups must be a number like 14 or 14.5"),
    (False, "not a checkbox or TRUE/FALSE; got 'FALSE'"),
    (-0.5, "Signups cannot be negative"),
])
def test_bad_signups(raw: object, fragment: str) -> None:
    result = actuals(["ana@example.com", 2026, 11, raw, 10])
    assert one_value(result, "signups") is None
    assert one_value(result, "revenue") == 10.0
    assert fragment in by_cell(result)["Actuals!D2"]


@pytest.mark.parametrize(("column", "raw", "fragment"), [
    ("D", 12.5, "Signup Goal must be a whole number, not a fraction; got '12.5'"),
    ("D", 100_001, "Signup Goal is too large (at most 100,000); got '100001'"),
    ("E", 1e10, "Revenue Goal is too large (at most 1,000,000,000)"),
    ("F", 7, "Bonus Tier Goal must be a whole number from 0 to 6; got '7'"),
    ("F", -1, "Bonus Tier Goal must be a whole number from 0 to 6; got '-1'"),
    ("F", 2.5, "Bonus Tier Goal must be a whole number from 0 to 6; got '2.5'"),
])
def test_bad_goal_cells(column: str, raw: object, fragment: str) -> None:
    row: list[object] = ["ana@example.com", 2026, 11, 10, 500, 2]
    row["DEF".index(column) + 3] = raw
    result = monthly(row)
    assert result.tab is not None and len(result.tab.frame) == 1
    assert fragment in by_cell(result)[f"Monthly Goals!{column}2"]


def test_blank_value_cells_are_na_meaning_no_change() -> None:
    result = monthly(["ana@example.com", 2026, 11, None, "  ", ""])
    assert result.problems == ()
    assert result.tab is not None
    assert result.tab.frame[["signup_goal", "revenue_goal", "bonus_tier_goal"]].isna().all().all()


def test_problem_value_is_the_cell_as_the_user_sees_it() -> None:
    result = actuals(["ana@example.com", 2026, 11, 12.25, "  twelve "], ["bo@example.com", 2026, 11, True, 1e20])
    assert {p.cell: p.value for p in result.problems} == {
        "Actuals!D2": "12.25", "Actuals!E2": "  twelve ", "Actuals!D3": "TRUE", "Actuals!E3": "1e+20"}


# --- duplicates and unknown reps -------------------------------------------------------------------


def test_duplicate_keys_reject_every_row_and_one_problem_names_them() -> None:
    result = actuals(["ana@example.com", 2026, 11, 1, 1], ["bo@example.com", 2026, 11, 2, 2],
                     ["ANA@example.com ", 2026, "Nov", 3, 3], ["ana@example.com", 2026, 10, 4, 4],
                     ["ana@example.com", 2026.0, "11", 5, 5])
    assert result.tab is not None
    assert result.tab.frame["row"].tolist() == [3, 5]
    assert by_cell(result) == {
        "Actuals!A2": ("Duplicate: ana@example.com for November 2026 is on 3 rows of Actuals (rows 2, 4 and 6); "
                       "only one row per rep and month is allowed, so none of these rows was synced "
                       "(delete or merge the duplicates)"),
    }


def test_a_row_filled_down_is_one_problem_with_the_count_and_the_first_rows() -> None:
    row = ["ana@example.com", 2026, 11, 1, 1]
    result = actuals(*[list(row) for _ in range(20_000)], ["bo@example.com", 2026, 11, 2, 2])
    assert result.tab is not None and result.tab.frame["email"].tolist() == ["bo@example.com"]
    [problem] = result.problems
    assert problem.cell == "Actuals!A2"
    assert problem.problem.startswith("Duplicate: ana@example.com for November 2026 is on 20,000 rows of Actuals "
                                      "(rows 2, 3, 4, 5, 6 and 19,995 more); ")


def test_duplicate_reps_rows() -> None:
    result = reps(["ana@example.com", "Ana"], ["ana@example.com", "Ana B"])
    assert result.tab is not None and result.tab.frame.empty
    assert by_cell(result)["Reps!A2"].startswith("Duplicate: ana@example.com is on 2 rows of Reps (rows 2 and 3); "
                                                 "only one row per rep is allowed")


def test_duplicate_yearly_rows_name_the_year() -> None:
    result = parse_tab("yearly_goals", [["Email", "Year"], ["ana@example.com", 2026], ["ana@example.com", 2026]],
                       "Yearly Goals", known_emails=KNOWN)
    assert by_cell(result)["Yearly Goals!A2"].startswith("Duplicate: ana@example.com for 2026 is on 2 rows")


def test_unknown_rep_rows_are_rejected() -> None:
    result = actuals(["zed@example.com", 2026, 11, 1, 1], ["ana@example.com", 2026, 11, 1, 1])
    assert result.tab is not None and result.tab.frame["email"].tolist() == ["ana@example.com"]
    [problem] = result.problems
    assert (problem.cell, problem.email, problem.value) == ("Actuals!A2", "zed@example.com", "zed@example.com")
    assert problem.problem == ("zed@example.com is not a known rep: add them to the Reps tab with their Name "
                               "first; this row was not synced")


def test_reps_tab_makes_reps_known_to_the_other_tabs_but_rejected_reps_do_not() -> None:
    parsed = parse_inputs(
        {"reps": [REPS_HEADER, ["new@example.com", "New Rep"], ["dup@example.com", "A"], ["dup@example.com", "B"],
                  ["noname@example.com", ""]],
         "monthly_goals": None, "yearly_goals": None,
         "actuals": [ACTUALS_HEADER, ["new@example.com", 2026, 11, 1, 1], ["dup@example.com", 2026, 11, 1, 1],
                     ["noname@example.com", 2026, 11, 1, 1], ["old@example.com", 2026, 11, 1, 1]]},
        {"reps": "Team Roster"}, known_emails=frozenset({"old@example.com"}),
    )
    tab = parsed.tabs["actuals"]
    assert tab is not None
    assert tab.frame["email"].tolist() == ["new@example.com", "old@example.com"]
    problems = {p.cell: p.problem for p in parsed.problems}
    assert problems["Team Roster!B5"] == ("Name is blank for new rep noname@example.com; a new rep needs a name, "
                                          "so this row was not synced")
    assert problems["Actuals!A3"].startswith("dup@example.com is not a known rep: add them to the Team Roster tab")
    assert problems["Actuals!A4"].startswith("noname@example.com is not a known rep")


# --- reps -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "flag"), [
    (True, True), (False, False), ("TRUE", True), ("false", False), ("Yes", True), ("no", False), ("y", True),
    ("N", False), (1, True), (0, False), ("1", True), ("0", False), (1.0, True), (None, None), ("", None),
])
def test_active_forms(raw: object, flag: bool | None) -> None:
    assert one_value(reps(["ana@example.com", "Ana", None, None, raw]), "is_active") == flag


@pytest.mark.parametrize("raw", ["maybe", 2, "#REF!", "active"])
def test_bad_active_is_no_change(raw: object) -> None:
    result = reps(["ana@example.com", "Ana", "East", None, raw, 12])
    assert one_value(result, "is_active") is None
    assert one_value(result, "team") == "East"
    assert one_value(result, "monthly_signup_goal") == 12
    assert "Reps!E2" in by_cell(result)


def test_known_rep_with_blank_name_keeps_the_stored_name() -> None:
    result = reps(["ana@example.com", "", "  East  ", 42])
    assert result.problems == ()
    assert (one_value(result, "name"), one_value(result, "team"), one_value(result, "title")) == (None, "East", "42")


def test_name_with_a_spreadsheet_error_is_reported() -> None:
    result = reps(["ana@example.com", "#N/A"], ["new@example.com", "#REF!"])
    assert result.tab is not None
    assert result.tab.frame["email"].tolist() == ["ana@example.com"]  # a new rep needs a real name
    assert set(by_cell(result)) == {"Reps!B2", "Reps!B3"}


def test_formula_like_text_is_kept_as_data() -> None:
    assert one_value(reps(["ana@example.com", "=IMPORTXML(\"x\")"]), "name") == "=IMPORTXML(\"x\")"


def test_problems_are_in_sheet_order() -> None:
    result = actuals(["ana@example.com", 2026, 11, "x", "y"], ["nope", 2026, 11, 1, 1], ["bo@example.com", 1, 1, 1, 1])
    assert [p.cell for p in result.problems] == ["Actuals!D2", "Actuals!E2", "Actuals!A3", "Actuals!B4"]


# --- scale (speed is measured by `python -m bench`, not asserted here) ---------------------


def test_parses_100k_actuals_rows_exactly() -> None:
    reps = scaled(4200)  # 100,800 rows under the ci profile, 10,080 by default (tests/profiles.py)
    emails = [f"rep{i}@example.com" for i in range(reps)]
    grid: list[list[object]] = [list(ACTUALS_HEADER)]
    grid += [[email, 2025 + m // 12, m % 12 + 1, (i * 7 + m) % 60 / 2, round((i * 31 + m) * 1.37, 2)]
             for i, email in enumerate(emails) for m in range(24)]
    parsed = parse_inputs({"actuals": grid}, {}, known_emails=frozenset(emails))
    tab = parsed.tabs["actuals"]
    assert tab is not None and len(tab.frame) == reps * 24
    assert [p for p in parsed.problems if p.tab == "Actuals"] == []
    last = tab.frame.iloc[-1]
    assert (last["email"], int(last["year"]), int(last["month"])) == (f"rep{reps - 1}@example.com", 2026, 12)
    assert float(last["signups"]) == ((reps - 1) * 7 + 23) % 60 / 2


# --- pasted control characters and invisible characters (issue 16) ------------------------------------


@pytest.mark.parametrize("typed", ["ana@example.com\u200b", "\ufeffana@example.com", "\u00a0ANA@example.com\u00a0",
                                   "ana@exam\u00adple.com", "\u200eana@example.com\u2060"])
def test_invisible_characters_in_an_email_are_removed_so_it_stays_the_same_rep(typed: str) -> None:
    result = actuals([typed, 2026, 11, 3, 100])
    assert result.problems == ()
    assert one_value(result, "email") == "ana@example.com"


def test_a_no_break_space_inside_an_email_is_still_refused() -> None:
    [problem] = actuals(["ana\u00a0x@example.com", 2026, 11, 3, 100]).problems
    assert problem.cell == "Actuals!A2" and "must be an email address" in problem.problem


@pytest.mark.parametrize(("typed", "value"), [("1,234\u200b", 1234), ("\ufeff12", 12), ("\u00a07\u00a0", 7)])
def test_invisible_characters_around_a_number_are_ignored(typed: str, value: float) -> None:
    assert one_value(actuals(["ana@example.com", 2026, 11, typed, None]), "signups") == value


def test_a_cell_of_only_invisible_characters_is_blank() -> None:
    result = actuals(["ana@example.com", 2026, 11, 3, "\u200b"], ["\u200b", "\ufeff", None, " \u00a0"])
    assert result.problems == ()
    assert result.rows_read == 1


def test_a_nul_in_a_number_cell_is_refused_and_shown_visibly() -> None:
    [problem] = actuals(["ana@example.com", 2026, 11, "7\x00", 100]).problems
    assert (problem.cell, problem.value) == ("Actuals!D2", "7\u2400")
    assert "\x00" not in problem.problem and "'7\u2400'" in problem.problem


@pytest.mark.parametrize(("typed", "what"), [
    ("Ann\x00", "an invisible control character (U+0000)"),
    ("Ann\x1b[31m", "an invisible control character (U+001B)"),
    ("Ann \ud83d", "a broken character (half of an emoji pair)"),
    ("A\x85nn", "an invisible control character (U+0085)"),
])
def test_a_name_with_an_unstorable_character_is_refused_and_the_stored_name_kept(typed: str, what: str) -> None:
    result = reps(["ana@example.com", typed, "East"])
    [problem] = result.problems
    assert problem.cell == "Reps!B2"
    assert problem.problem.startswith(f"Name contains {what}, which cannot be stored; retype the cell")
    assert "\x00" not in problem.value and "\ud83d" not in problem.value
    assert one_value(result, "name") is None  # no change: the stored name stays
    assert one_value(result, "team") == "East"  # the rest of the row syncs


def test_names_keep_tabs_newlines_and_zero_width_joiners() -> None:
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    result = reps(["ana@example.com", f"Ana\tB {family}", "East\nWest"])
    assert result.problems == ()
    assert one_value(result, "name") == f"Ana\tB {family}"


def test_an_email_with_a_nul_is_refused_not_stored() -> None:
    result = actuals(["ana@example.com\x00", 2026, 11, 3, 100], ["bo@example.com", 2026, 11, 4, 200])
    [problem] = result.problems
    assert problem.cell == "Actuals!A2"
    assert problem.problem.startswith("Email contains an invisible control character (U+0000)")
    assert result.tab is not None and result.tab.frame["email"].tolist() == ["bo@example.com"]


def test_a_header_with_a_byte_order_mark_is_recognised() -> None:
    result = parse_tab("actuals", [["\ufeffEmail", "Year", "Month", "Sign\u200bups"], ["ana@example.com", 2026, 11, 3]],
                       "Actuals", known_emails=KNOWN)
    assert result.problems == ()
    assert one_value(result, "signups") == 3


# --- a renamed or merged header (issue 16) --------------------------------------------------------------


@pytest.mark.parametrize(("typed", "meant"), [("Signup", "Signups"), ("Revenue ($)", "Revenue"),
                                              ("signups this month", "Signups"), ("Reveune", "Revenue")])
def test_a_header_close_to_a_missing_field_is_reported_with_did_you_mean(typed: str, meant: str) -> None:
    other = "Revenue" if meant == "Signups" else "Signups"
    header = ["Email", "Year", "Month", typed, other]
    result = parse_tab("actuals", [header, ["ana@example.com", 2026, 11, 3, 4]], "Actuals", known_emails=KNOWN)
    [problem] = result.problems
    assert (problem.cell, problem.value) == ("Actuals!D1", typed)
    assert f"did you mean {meant}?" in problem.problem and "column D is not synced" in problem.problem
    assert result.tab is not None and len(result.tab.frame) == 1  # the rest of the tab still syncs


def test_values_under_a_merged_header_cell_are_reported() -> None:
    grid = [["Email", "Year", "Month", "Signups"], ["ana@example.com", 2026, 11, 3, 4]]  # Signups merged over D:E
    [problem] = parse_tab("actuals", grid, "Actuals", known_emails=KNOWN).problems
    assert problem.cell == "Actuals!E1"
    assert problem.problem.startswith("column E has values but a blank header (a merged header cell over columns "
                                      "D–E?), so it is not synced; did you mean 'Revenue'?")


@pytest.mark.parametrize("header", [
    ["Email", "Year", "Month", "Signups", "Revenue", "Signup notes", "Revenue ($) last year"],  # nothing missing
    ["Email", "Year", "Month", "Signups", "Notes", "Comments"],  # unrelated extra columns
    ["Email", "Year", "Month", "Signups", "Notes", None, "Manager"],  # a blank header right of a note
])
def test_unrelated_extra_columns_are_not_reported(header: list[object]) -> None:
    row = ["ana@example.com", 2026, 11, 3, 4, "x", "y"]
    assert parse_tab("actuals", [header, row], "Actuals", known_emails=KNOWN).problems == ()


def test_a_reps_note_column_is_not_mistaken_for_a_goal() -> None:
    result = reps(["ana@example.com", "Ana"])
    grid = [["Email", "Name", "Goal", "Manager"], ["ana@example.com", "Ana", 3, "Bo"]]
    assert result.problems == ()
    assert parse_tab("reps", grid, "Reps", known_emails=KNOWN).problems == ()


# --- a date typed in a number cell (issue 16) ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["1/5/2026", "2026-01-05", "5-Jan-2026", "Jan 5, 2026", "13:30:00", "1:05:09 PM",
                                   "1/5/2026 18:00:00"])
def test_a_date_in_a_number_cell_is_refused_and_says_why(typed: str) -> None:
    result = actuals(["ana@example.com", 2026, 11, typed, 100])
    [problem] = result.problems
    assert problem.cell == "Actuals!D2"
    assert problem.problem.startswith(f"Signups must be a number like 14 or 14.5 (at most one decimal, 0 to "
                                      f"100,000); got '{typed}', which is a date or time: the cell is formatted "
                                      "as a date. Set Format → Number → Number")
    assert one_value(result, "signups") is None  # no change


@pytest.mark.parametrize("typed", ["12 deals", "twelve", "n/a", "12,5"])
def test_text_that_is_no_date_gets_no_date_hint(typed: str) -> None:
    [problem] = actuals(["ana@example.com", 2026, 11, typed, 100]).problems
    assert "date" not in problem.problem
