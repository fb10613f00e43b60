"""A daemon's next parse reuses an unchanged tab, and never a stale one."""

from __future__ import annotations

import pandas as pd

from sheets.inputs import ParsedInputs
from sheets.parse import parse_inputs
from sync.reuse import ParseMemo

TITLES = {"reps": "Reps", "monthly_goals": "Monthly Goals", "yearly_goals": "Yearly Goals",
          "actuals": "Actuals"}
ACTUALS_HEADER = ["Email", "Year", "Month", "Signups", "Revenue"]
REPS_HEADER = ["Email", "Name"]
KNOWN = frozenset({"ana@example.com"})
MEMO = ParseMemo()
"""Shared by every call in this module, as a daemon shares one between its cycles."""


def parse(actuals: list[list[object]], reps: list[list[object]] | None = None,
          known: frozenset[str] = KNOWN, aliases: dict[str, str | list[str]] | None = None) -> ParsedInputs:
    grids = {"reps": [REPS_HEADER, *reps] if reps is not None else None, "monthly_goals": None,
             "yearly_goals": None, "actuals": [ACTUALS_HEADER, *actuals]}
    return parse_inputs(grids, TITLES, known_emails=known, header_aliases=aliases, memo=MEMO)


def problems(parsed: ParsedInputs) -> list[str]:
    return [p.problem for p in parsed.problems if p.tab == "Actuals"]


def signups(parsed: ParsedInputs) -> list[object]:
    tab = parsed.tabs["actuals"]
    assert tab is not None
    frame = tab.frame
    return [None if pd.isna(v) else v for v in frame["signups"]]


def test_unchanged_tabs_parse_to_the_same_frames_and_problems() -> None:
    rows = [["ana@example.com", 2026, 11, 3, 100], ["ana@example.com", 2026, 12, "n/a", 5]]
    first, second = parse(rows), parse([list(r) for r in rows])
    assert second.problems == first.problems and len(problems(second)) == 1
    assert second.problems[0] is first.problems[0], "the unchanged tab was parsed again instead of reused"
    pd.testing.assert_frame_equal(second.tabs["actuals"].frame, first.tabs["actuals"].frame)


def test_a_checkbox_over_a_one_is_a_change() -> None:
    assert signups(parse([["ana@example.com", 2026, 11, 1, 100]])) == [1]
    checked = parse([["ana@example.com", 2026, 11, True, 100]])  # True == 1, but not to the parser
    assert signups(checked) == [None]
    assert "checkbox" in problems(checked)[0]


def test_a_new_rep_makes_their_rows_known() -> None:
    rows = [["bo@example.com", 2026, 11, 3, 100]]
    assert "not a known rep" in problems(parse(rows))[0]
    assert problems(parse(rows, reps=[["bo@example.com", "Bo Lind"]])) == []
    assert problems(parse(rows, known=KNOWN | {"bo@example.com"})) == []


def test_header_aliases_count() -> None:
    grid = [["ana@example.com", 2026, 11, 3, 100]]
    renamed = [["Email", "Year", "Month", "Deals", "Revenue"], *grid]
    grids = {"reps": None, "monthly_goals": None, "yearly_goals": None, "actuals": renamed}
    without = parse_inputs(grids, TITLES, known_emails=KNOWN, memo=MEMO)
    with_alias = parse_inputs(grids, TITLES, known_emails=KNOWN, header_aliases={"signups": "Deals"}, memo=MEMO)
    assert "signups" not in without.tabs["actuals"].columns
    assert with_alias.tabs["actuals"].columns["signups"] == 3


def test_a_caller_changing_a_frame_does_not_change_the_next_parse() -> None:
    rows = [["ana@example.com", 2026, 11, 3, 100]]
    first = parse(rows)
    first.tabs["actuals"].frame.loc[0, "signups"] = 99
    assert signups(parse(rows)) == [3]
