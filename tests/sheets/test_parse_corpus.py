"""Messy real-world cells (tests/sheets/corpus/cells.csv): each is read as expected or rejected with a clear message.

Columns: ``field`` (frame column), ``type`` of the raw cell as Sheets returns it
unformatted (str, int, float, bool, none), ``raw`` (the cell), ``expected``
(the parsed value, empty for blank/no change, or ``reject: <message fragment>``),
``note`` (where such a cell comes from).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from sheets.inputs import InputKind
from sheets.parse import parse_tab

CORPUS = Path(__file__).parent / "corpus" / "cells.csv"
KNOWN = frozenset({"ana@example.com", "ana.maria+sales@sub.example.co.uk"})

# A good row per tab; the corpus cell replaces one of its cells.
TABS: dict[InputKind, tuple[str, dict[str, object]]] = {
    "actuals": ("Actuals", {"email": "ana@example.com", "year": 2026, "month": 11, "signups": 3, "revenue": 10}),
    "monthly_goals": ("Monthly Goals", {"email": "ana@example.com", "year": 2026, "month": 11, "signup_goal": 12,
                                        "revenue_goal": 500, "bonus_tier_goal": 2}),
    "reps": ("Reps", {"email": "ana@example.com", "name": "Ana", "team": "East", "title": "AE",
                      "is_active": True, "monthly_signup_goal": 12, "yearly_signup_goal": 144}),
}
HEADERS = {"email": "Email", "year": "Year", "month": "Month", "signups": "Signups", "revenue": "Revenue",
           "signup_goal": "Signup Goal", "revenue_goal": "Revenue Goal", "bonus_tier_goal": "Bonus Tier Goal",
           "name": "Name", "team": "Team", "title": "Title", "is_active": "Active",
           "monthly_signup_goal": "Monthly Signup Goal", "yearly_signup_goal": "Yearly Signup Goal"}
KEYS = {"email", "year", "month"}


def _cell(kind: str, raw: str) -> object:
    return {"str": lambda: raw, "int": lambda: int(raw), "float": lambda: float(raw),
            "bool": lambda: raw.upper() == "TRUE", "none": lambda: None}[kind]()


def _expected(field: str, text: str) -> object:
    if text == "":
        return None
    if field == "is_active":
        return text == "True"
    if field in ("signups", "revenue", "revenue_goal"):
        return float(text)
    if field in ("email", "name", "team", "title"):
        return text
    return int(text)


def _load() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = _load()


def test_corpus_is_big_enough_to_mean_something() -> None:
    assert len(ROWS) >= 60
    assert sum(row["expected"].startswith("reject:") for row in ROWS) >= 25


@pytest.mark.parametrize("case", ROWS, ids=[f"{r['field']}:{r['note']}" for r in ROWS])
def test_corpus_cell(case: dict[str, str]) -> None:
    field = case["field"]
    kind: InputKind = next(k for k, (_, good) in TABS.items() if field in good)
    title, good = TABS[kind]
    header = list(good)
    row = [good[f] for f in header]
    column = header.index(field)
    row[column] = _cell(case["type"], case["raw"])
    result = parse_tab(kind, [[HEADERS[f] for f in header], row], title, known_emails=KNOWN)
    assert result.tab is not None
    frame = result.tab.frame
    cell = f"{title}!{'ABCDEFG'[column]}2"

    if case["expected"].startswith("reject:"):
        fragment = case["expected"].removeprefix("reject:").strip()
        problems = {p.cell: p.problem for p in result.problems}
        assert list(problems) == [cell]
        assert fragment in problems[cell]
        if field in KEYS:
            assert frame.empty  # a bad key drops the row
        else:
            assert len(frame) == 1 and pd.isna(frame[field].iloc[0])  # no change, the rest syncs
        return
    assert result.problems == ()
    assert len(frame) == 1
    value = frame[field].iloc[0]
    expected = _expected(field, case["expected"])
    if expected is None:
        assert pd.isna(value)
    else:
        assert value == expected
