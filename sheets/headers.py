"""Finding an input tab's header row and which column holds which field. Pure, no I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.values import Problem
from sheets.cells import key_text
from sheets.inputs import FRAME_COLUMNS, InputKind, a1, column_letter
from sheets.tables import Cell

DEFAULT_HEADERS: Mapping[str, str] = {
    "email": "Email",
    "name": "Name",
    "team": "Team",
    "title": "Title",
    "is_active": "Active",
    "monthly_signup_goal": "Monthly Signup Goal",
    "yearly_signup_goal": "Yearly Signup Goal",
    "manager_email": "Manager Email",
    "year": "Year",
    "month": "Month",
    "signup_goal": "Signup Goal",
    "revenue_goal": "Revenue Goal",
    "bonus_tier_goal": "Bonus Tier Goal",
    "signups": "Signups",
    "revenue": "Revenue",
}
"""The SPEC's header text of every field (config ``sheets.headers`` adds more)."""

REQUIRED_FIELDS: Mapping[InputKind, tuple[str, ...]] = {
    "reps": ("email", "name"),
    "monthly_goals": ("email", "year", "month"),
    "yearly_goals": ("email", "year"),
    "actuals": ("email", "year", "month"),
}

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_header(text: object) -> str:
    """Header text as compared: lower case, trimmed, ``_``/``-``/runs of spaces as one space,
    invisible characters (a CSV import's byte-order mark, a zero-width space) removed."""
    return _SEPARATORS.sub(" ", key_text(str(text))).strip().lower()


def is_blank(value: Cell) -> bool:
    """True for an empty cell: None, NaN, or text that is only spaces."""
    if value is None:
        return True
    if isinstance(value, str):
        return not key_text(value)
    return isinstance(value, float) and math.isnan(value)  # NaN never comes from Sheets, but be safe


def header_texts(kind: InputKind, aliases: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    """Normalized header text → field for one tab: defaults, field names, then config aliases.

    Aliases are keyed by field name (``signups``) or by the default header
    (``Active``); an alias wins over a default text of another field because
    it was configured on purpose.
    """
    fields = FRAME_COLUMNS[kind]
    by_default = {normalize_header(DEFAULT_HEADERS[f]): f for f in fields}
    lookup: dict[str, str] = {}
    for field in fields:
        lookup[normalize_header(DEFAULT_HEADERS[field])] = field
        lookup.setdefault(normalize_header(field), field)
    for key, texts in aliases.items():
        norm_key = normalize_header(key)
        target = by_default.get(norm_key) or next((f for f in fields if normalize_header(f) == norm_key), None)
        if target is None:
            continue  # an alias for a field of another tab
        for text in [texts] if isinstance(texts, str) else list(texts):
            if normalize_header(text):
                lookup[normalize_header(text)] = target
    return lookup


@dataclass(frozen=True)
class HeaderMatch:
    """Where a tab's header row is and which 0-based column holds each field found."""

    row_index: int
    """0-based index of the header row in the grid (sheet row = row_index + 1)."""
    columns: dict[str, int]
    labels: dict[str, str]
    """Field → header text as typed in the sheet (trimmed), used in messages."""
    problems: tuple[Problem, ...]


def find_header_row(grid: Sequence[Sequence[Cell]]) -> int | None:
    """0-based index of the first row with any non-blank cell, or None for an empty tab."""
    for index, row in enumerate(grid):
        if any(not is_blank(value) for value in row):
            return index
    return None


def match_headers(
    grid: Sequence[Sequence[Cell]],
    kind: InputKind,
    title: str,
    aliases: Mapping[str, str | Sequence[str]],
) -> HeaderMatch | None:
    """Locate the header row and the field columns; None when the tab has no non-blank row.

    A field whose header appears twice is read from its first column; the
    second is reported (it is probably a mistake the user wants to know about).
    """
    row_index = find_header_row(grid)
    if row_index is None:
        return None
    lookup = header_texts(kind, aliases)
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    for col, value in enumerate(grid[row_index]):
        if is_blank(value):
            continue
        field = lookup.get(normalize_header(value))
        if field is None:
            continue  # notes and other extra columns are ignored
        norm = normalize_header(value)
        # Messages name the SPEC's header unless the user configured their own text for it.
        is_default = norm in (normalize_header(DEFAULT_HEADERS[field]), normalize_header(field))
        label = DEFAULT_HEADERS[field] if is_default else " ".join(str(value).split())
        if field in columns:
            first = column_letter(columns[field])
            problems.append(Problem(
                tab=title,
                cell=a1(title, row_index + 1, col),
                email="",
                value=str(value),
                problem=(f"'{label}' appears twice in the header row (columns {first} and "
                         f"{column_letter(col)}); only column {first} is read"),
            ))
            continue
        columns[field] = col
        labels[field] = label
    return HeaderMatch(row_index=row_index, columns=columns, labels=labels, problems=tuple(problems))
