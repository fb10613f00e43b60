"""Property tests: the parser survives any grid and reports exactly the bad cells, where they are."""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheets.cells import SPREADSHEET_ERRORS, number_from_text
from sheets.inputs import FRAME_COLUMNS, INPUT_KINDS, a1
from sheets.parse import parse_inputs, parse_tab
from tests.profiles import scaled

HEADER_WORDS = ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal", "Year",
                "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal", "Signups", "Revenue", "Notes",
                "signup_goal", " EMAIL ", "month-", "Revenue--Goal"]

any_cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(SPREADSHEET_ERRORS),
    st.sampled_from(["=IMPORTXML(\"x\")", "+1", "-3", "@x", "", "   ", "1,234", "$1,234.50", "Nov", "TRUE", "yes",
                     "ana@example.com", " ANA@example.com ", "2026", "١٢", "ⅻ", "１２", "12,5", "(5)", "−5", "1e5",
                     "\u00a012\u00a0", "nan", "inf", "-inf", "NaN", "Infinity"]),
    st.sampled_from(HEADER_WORDS),
)
PLAUSIBLE = {
    "Email": st.sampled_from(["ana@example.com", "bo@example.com", " Ana@Example.com", "new@example.com"]),
    "Name": st.sampled_from(["Ana", "", "=HYPERLINK(\"x\")", "Zoë 李"]),
    "Year": st.one_of(st.integers(2024, 2030), st.sampled_from([2026.0, "2026"])),
    "Month": st.one_of(st.integers(1, 12), st.sampled_from(["Nov", "12", 3.0, "february"])),
    "Active": st.sampled_from([True, False, "yes", "n", 1]),
}
FIELD_HEADERS = {
    "reps": ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
    "monthly_goals": ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    "yearly_goals": ["Email", "Year", "Signup Goal", "Revenue Goal"],
    "actuals": ["Email", "Year", "Month", "Signups", "Revenue"],
}


@st.composite
def tab_grid(draw: st.DrawFn, kind: str) -> list[list[object]] | None:
    """A grid whose header usually has this tab's columns (shuffled, some dropped, extras added)."""
    if draw(st.integers(0, 9)) == 0:
        return None
    columns = [h for h in FIELD_HEADERS[kind] if draw(st.integers(0, 9)) > 0]
    columns += draw(st.lists(st.sampled_from(HEADER_WORDS), max_size=2))
    header: list[object] = list(draw(st.permutations(columns)))
    if draw(st.integers(0, 9)) == 0:
        header = draw(st.lists(any_cell, max_size=8))
    plausible = [PLAUSIBLE.get(str(h), any_cell) for h in header]
    body = []
    for _ in range(draw(st.integers(0, 12))):
        # one_of would flatten any_cell's many branches and drown the plausible values
        row = [draw(any_cell if draw(st.integers(0, 3)) == 0 else strategy) for strategy in plausible]
        body.append(row[:draw(st.integers(0, len(row)))] if draw(st.integers(0, 4)) == 0 else row)
    if body and draw(st.booleans()):
        body.append(list(draw(st.sampled_from(body))))  # a duplicate row
    return [[] for _ in range(draw(st.integers(0, 2)))] + [header] + body


EXPECTED_DTYPES = {"email": "string", "name": "string", "team": "string", "title": "string", "manager_email": "string",
                   "is_active": "boolean", "signups": "Float64", "revenue": "Float64", "revenue_goal": "Float64",
                   "row": "int64"}


@settings(max_examples=scaled(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids=st.fixed_dictionaries({kind: tab_grid(kind) for kind in INPUT_KINDS}),
       known=st.frozensets(st.sampled_from(["ana@example.com", "bo@example.com", "ANA@EXAMPLE.COM"])))
def test_parser_never_raises_and_always_returns_well_formed_frames(grids: dict, known: frozenset[str]) -> None:
    titles = {"reps": "Reps", "monthly_goals": "Monthly Goals", "yearly_goals": "Yearly Goals",
              "actuals": "Actuals"}
    parsed = parse_inputs(grids, titles, known_emails=known)
    for problem in parsed.problems:
        assert problem.tab in titles.values()
        assert "could not be read" not in problem.problem, problem  # the safety net never fired
        assert all(isinstance(part, str) for part in problem.as_row())
    for kind, tab in parsed.tabs.items():
        if tab is None:
            continue
        assert tuple(tab.frame.columns) == (*FRAME_COLUMNS[kind], "row")
        for column in tab.frame.columns:
            assert str(tab.frame[column].dtype) == EXPECTED_DTYPES.get(column, "Int64"), (kind, column)
        assert tab.frame["email"].notna().all()
        assert not tab.frame.duplicated(list(tab.frame.columns[:3] if kind != "reps" else ["email"])).any()
        assert (tab.frame["row"] > 0).all()


@settings(max_examples=scaled(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(INPUT_KINDS), data=st.data(), limit=st.integers(0, 8),
       known=st.frozensets(st.sampled_from(["ana@example.com", "bo@example.com"])))
def test_a_problem_limit_lists_the_first_problems_and_counts_the_rest(kind: str, data: st.DataObject, limit: int,
                                                                        known: frozenset[str]) -> None:
    grid = data.draw(tab_grid(kind))
    full = parse_tab(kind, grid, "Tab", known_emails=known)  # type: ignore[arg-type]
    limited = parse_tab(kind, grid, "Tab", known_emails=known, max_problems=limit)  # type: ignore[arg-type]
    assert full.more_problems == 0
    assert limited.problems == full.problems[:len(limited.problems)]  # the same first ones, in sheet order
    assert len(limited.problems) >= min(limit, len(full.problems))
    assert len(limited.problems) + limited.more_problems == len(full.problems)
    assert limited.rows_read == full.rows_read
    assert (limited.tab is None) == (full.tab is None)
    if full.tab is not None and limited.tab is not None:
        pd.testing.assert_frame_equal(limited.tab.frame, full.tab.frame)


# --- bad cells at known positions -------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    raw: object
    good: bool
    value: object = None
    """Expected parsed value for a good cell (None = blank, no change)."""


def _good(raw: object, value: object) -> Cell:
    return Cell(raw, True, value)


def _bad(raw: object) -> Cell:
    return Cell(raw, False)


def good_month(month: int) -> st.SearchStrategy[Cell]:
    name = calendar.month_name[month]
    return st.sampled_from([_good(month, month), _good(float(month), month), _good(f"{month:02d}", month),
                            _good(name, month), _good(name[:3].upper(), month), _good(f" {month} ", month)])


years = st.sampled_from([_good(2026, 2026), _good(2026.0, 2026), _good("2025", 2025), _good(" 2024 ", 2024)])
bad_years = st.sampled_from([_bad(1999), _bad("FY26"), _bad(2026.5), _bad("#N/A"), _bad(True), _bad(None),
                             _bad(" ")])
bad_months = st.sampled_from([_bad(0), _bad(13), _bad("Novem"), _bad(True), _bad("#REF!"), _bad(None), _bad(2.5)])
signups = st.one_of(
    st.integers(0, 200).map(lambda n: _good(n / 2, n / 2)),
    st.integers(0, 200).map(lambda n: _good(str(n / 2), n / 2)),
    st.just(_good(None, None)), st.just(_good("", None)),
)
bad_signups = st.sampled_from([_bad(14.25), _bad(-1), _bad("x"), _bad(True), _bad("#DIV/0!"), _bad(1e6),
                               _bad("1,2")])
revenues = st.one_of(
    st.integers(0, 10**9).map(lambda c: _good(c / 100, round(c / 100, 2))),
    st.integers(0, 10**8).map(lambda c: _good(f"${c / 100:,.2f}", round(c / 100, 2))),
    st.just(_good(None, None)),
)
bad_revenues = st.sampled_from([_bad(-5), _bad("abc"), _bad(False), _bad("#VALUE!"), _bad(2e9), _bad("(3)")])


@st.composite
def actual_row(draw: st.DrawFn, index: int) -> list[Cell]:
    """One Actuals row for rep ``index`` (so keys never repeat), each cell good or bad."""
    email = f"rep{index}@example.com"
    good_email = st.sampled_from([_good(email, email), _good(f"  {email.upper()} ", email)])
    bad_email = st.sampled_from([_bad(f"rep{index}"), _bad(None), _bad(42), _bad("#REF!"), _bad("a b@c.de")])
    month = draw(st.integers(1, 12))
    cells = [
        draw(st.one_of(good_email, good_email, bad_email)),
        draw(st.one_of(years, years, years, bad_years)),
        draw(st.one_of(good_month(month), good_month(month), bad_months)),
        draw(st.one_of(signups, signups, bad_signups)),
        draw(st.one_of(revenues, revenues, bad_revenues)),
    ]
    if all(cell.raw is None or (isinstance(cell.raw, str) and not cell.raw.strip()) for cell in cells):
        cells[1] = _bad(1999)  # an all-blank row is no row at all: make it a row with a bad year
    return cells


@st.composite
def actuals_sheet(draw: st.DrawFn) -> tuple[int, list[list[Cell] | None]]:
    count = draw(st.integers(0, 25))
    leading = draw(st.integers(0, 3))
    body: list[list[Cell] | None] = []
    for index in range(count):
        if draw(st.integers(0, 6)) == 0:
            body.append(None)  # a blank row in the middle
        body.append(draw(actual_row(index)))
    return leading, body


@settings(max_examples=scaled(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet=actuals_sheet(), trim=st.booleans())
def test_every_bad_cell_is_reported_at_its_a1_reference_and_every_good_row_lands(
    sheet: tuple[int, list[list[Cell] | None]], trim: bool,
) -> None:
    leading, body = sheet
    grid: list[list[object]] = [[] for _ in range(leading)]
    grid.append(["Email", "Year", "Month", "Signups", "Revenue", "Notes"])
    expected_bad: set[str] = set()
    expected_rows: dict[int, list[Cell]] = {}
    for offset, cells in enumerate(body):
        sheet_row = leading + 2 + offset
        if cells is None:
            grid.append([])
            continue
        raw = [cell.raw for cell in cells] + ["a note"]
        if trim:  # Google trims trailing empty cells; the parser must not care
            raw = raw[:-1]
            while raw and raw[-1] is None:
                raw.pop()
        grid.append(raw)
        expected_bad |= {a1("Actuals", sheet_row, col) for col, cell in enumerate(cells) if not cell.good}
        if all(cell.good for cell in cells[:3]):
            expected_rows[sheet_row] = cells
    known = frozenset(f"rep{i}@example.com" for i in range(len(body)))

    result = parse_tab("actuals", grid, "Actuals", known_emails=known)

    assert {p.cell for p in result.problems} == expected_bad
    assert len(result.problems) == len(expected_bad)  # one problem per bad cell
    assert result.tab is not None
    frame = result.tab.frame.set_index("row")
    assert sorted(frame.index) == sorted(expected_rows)
    for sheet_row, cells in expected_rows.items():
        got = frame.loc[sheet_row]
        for field, cell in zip(("email", "year", "month", "signups", "revenue"), cells, strict=True):
            value = got[field]
            if cell.good and cell.value is not None:
                assert value == cell.value, (sheet_row, field, cell)
            else:
                assert pd.isna(value), (sheet_row, field, cell)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_money_typed_with_currency_and_thousands_separators_reads_back(amount: object) -> None:
    value, code = number_from_text(f" ${amount:,.2f} ")
    assert code == 0
    assert round(value, 2) == float(amount)  # type: ignore[arg-type]
