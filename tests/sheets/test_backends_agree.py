"""The same spreadsheet read through Google (gspread and the fake Sheets API) and through an
xlsx file gives identical grids, identical DataFrames and identical problems."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from sheets.inputs import INPUT_KINDS
from sheets.outputs import to_serial
from sheets.parse import parse_inputs
from sheets.xlsx import Formula, XlsxBackend, create_workbook

TITLES = {"reps": "Reps", "monthly_goals": "Monthly Goals", "yearly_goals": "Yearly Goals", "actuals": "Actuals"}

# What people really put in a sheet: blank rows first, a title-less note column, checkboxes,
# typed numbers with separators, a formula result, spreadsheet errors, a date in Month,
# a blank cell in the middle of a row, trailing blanks, duplicates and an unknown rep.
REPS: list[list[Any]] = [
    [],
    ["email ", "NAME", "team", "Title", "Active", "monthly_signup_goal", "Yearly Signup Goal", "Notes"],
    ["ann@example.com", "Ann Archer", "East", None, True, 15, 180, "top rep"],
    ["BOB@example.com", "Bob Brown", "West", "AE", False, "12", None],
    ["cy@example.com", "Cy", "", "SDR", "yes", "#REF!", 120, None, None],
    ["not an email", "Nobody", "East"],
]
MONTHLY: list[list[Any]] = [
    ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    ["ann@example.com", 2026, "Nov", 15, "$30,000.00", 3],
    ["bob@example.com", 2026.0, 11, 12.5, 20000, 7],
    ["cy@example.com", 2026, "november", None, 5000],
    ["cy@example.com", 2026, 11, 10, 5000],
    ["zed@example.com", 2026, 11, 10],
]
YEARLY: list[list[Any]] = [
    ["Email", "Year", "Signup Goal", "Revenue Goal"],
    ["ann@example.com", 2026, 180, 360000],
    ["bob@example.com", 1999, 150, 1],
]
ACTUALS_HEADER = ["Email", "Year", "Month", "Signups", "Revenue"]


def actuals_rows(formula: Any) -> list[list[Any]]:
    return [
        ACTUALS_HEADER,
        ["ann@example.com", 2026, 11, formula, "1,234.5"],
        ["bob@example.com", 2026, dt.datetime(2026, 11, 1), 14.5, -3],
        ["cy@example.com", 2026, 11, "#DIV/0!", 99.999],
        [None, None, None, None, None],
        ["ann@example.com", 2026, 10, " 7 ", 100],
    ]


def test_google_and_xlsx_read_and_parse_the_same(tmp_path: Path, sheets_server, google_backend) -> None:
    book = tmp_path / "same.xlsx"
    create_workbook(book, {"Reps": REPS, "Monthly Goals": MONTHLY, "Yearly Goals": YEARLY,
                           "Actuals": actuals_rows(Formula("=6*2", cached=12))})

    date_serial = int(to_serial(dt.date(2026, 11, 1)))
    google_actuals = actuals_rows(None)
    sheets_server.create_spreadsheet("sheet-1", {"Reps": REPS, "Monthly Goals": MONTHLY, "Yearly Goals": YEARLY,
                                                 "Actuals": google_actuals})
    sheets_server.set_cell("sheet-1", "Actuals", "D2", 12, formula="=6*2")
    # A date typed in Month: Sheets stores the serial with a date format; both backends read its text.
    sheets_server.set_cell("sheet-1", "Actuals", "C3", date_serial, number_format={"type": "DATE"})

    names = list(TITLES.values())
    from_google = google_backend().read_tabs(names)
    from_xlsx = XlsxBackend(book).read_tabs(names)
    assert from_google == from_xlsx

    parsed = [parse_inputs({k: grids[t] for k, t in TITLES.items()}, TITLES, known_emails=frozenset())
              for grids in (from_google, from_xlsx)]
    assert parsed[0].problems == parsed[1].problems
    assert parsed[0].rows_read == parsed[1].rows_read
    for kind in INPUT_KINDS:
        google_tab, xlsx_tab = parsed[0].tabs[kind], parsed[1].tabs[kind]
        assert google_tab is not None and xlsx_tab is not None
        pd.testing.assert_frame_equal(google_tab.frame, xlsx_tab.frame)
        assert google_tab.columns == xlsx_tab.columns

    # The content is messy on purpose: make sure the comparison covered real problems and rows.
    cells = {p.cell for p in parsed[0].problems}
    assert {"Reps!F5", "Reps!A6", "Monthly Goals!A4", "Monthly Goals!A6",
            "Actuals!C3", "Actuals!E3", "Actuals!D4"} <= cells
    actuals = parsed[0].tabs["actuals"].frame.set_index(["email", "month"])
    assert actuals.loc[("ann@example.com", 11), "signups"] == 12  # the formula's result
    assert actuals.loc[("ann@example.com", 10), "signups"] == 7
    assert actuals.loc[("ann@example.com", 11), "revenue"] == 1234.5
