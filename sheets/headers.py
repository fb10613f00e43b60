"""Finding an input tab's header row and which column holds which field. Pure, no I/O."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.values import Problem, printable
from sheets.cells import key_text
from sheets.inputs import FRAME_COLUMNS, InputKind, a1, column_letter
from sheets.outputs import Cell

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
    So is a column that probably was meant as a field the tab lacks: a header
    close to that field's ("Signup", "Revenue ($)"), or values under a blank
    header cell right of a header (a merged header cell); see :func:`near_misses`.
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
                value=printable(str(value)),
                problem=(f"'{label}' appears twice in the header row (columns {first} and "
                         f"{column_letter(col)}); only column {first} is read"),
            ))
            continue
        columns[field] = col
        labels[field] = label
    problems += near_misses(grid, row_index, kind, title, lookup=lookup, columns=columns)
    return HeaderMatch(row_index=row_index, columns=columns, labels=labels, problems=tuple(problems))


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_CLOSE = 0.8
"""difflib ratio from which a header counts as a misspelling ("Signup" vs "Signups" is 0.92)."""


def _squeezed(text: object) -> str:
    """Only the letters and digits of a header: ``Revenue ($)`` → ``revenue``."""
    return _NOT_ALNUM.sub("", normalize_header(text))


def suggest_field(header: object, texts: Mapping[str, str]) -> str | None:
    """The field that ``header`` (a header no field has) most likely means, among ``texts``
    (normalized header text → field): the same letters and digits (``Revenue ($)``), a close
    spelling (``Signup``), or a field's header inside it (``Signups this month``); else None."""
    typed = _squeezed(header)
    if not typed:
        return None
    best: tuple[float, str] | None = None
    for text, field in texts.items():
        known = _squeezed(text)
        if not known:
            continue
        score = difflib.SequenceMatcher(None, typed, known).ratio()
        if len(known) >= 4 and known in typed:
            score = max(score, 0.9)
        if score >= _CLOSE and (best is None or score > best[0]):
            best = (score, field)
    return best[1] if best else None


def near_misses(grid: Sequence[Sequence[Cell]], row_index: int, kind: InputKind, title: str, *,
                lookup: Mapping[str, str], columns: Mapping[str, int]) -> list[Problem]:
    """Columns that were probably meant as one of the tab's missing fields, one problem each.

    Without this a renamed optional header ("Signups" → "Signup") or a merged header cell
    makes that column silently stop syncing: the run succeeds and nothing says why.
    """
    missing = {text: field for text, field in lookup.items() if field not in columns}
    if not missing:
        return []
    header = grid[row_index]
    row = row_index + 1
    problems: list[Problem] = []
    for col, value in enumerate(header):
        if is_blank(value) or normalize_header(value) in lookup:
            continue
        field = suggest_field(value, missing)
        if field is not None:
            wanted, typed = DEFAULT_HEADERS[field], printable(" ".join(str(value).split()))
            problems.append(Problem(
                tab=title, cell=a1(title, row, col), email="", value=printable(str(value)),
                problem=(f"the header '{typed}' is not a column this tab reads, so column "
                         f"{column_letter(col)} is not synced; did you mean {wanted}? Rename the header to "
                         f"'{wanted}' (or add it to sheets.headers in the config)")))
    problems += _headerless_columns(grid, row_index, title, set(columns.values()),
                                    sorted(set(missing.values()), key=FRAME_COLUMNS[kind].index))
    return problems


def _headerless_columns(grid: Sequence[Sequence[Cell]], row_index: int, title: str, read: set[int],
                        missing: Sequence[str]) -> list[Problem]:
    """Values under blank header cells right of a field's header: what a merged header cell reads
    as (the API gives the text in the merge's first cell only). ``read``: the fields' columns."""
    header = grid[row_index]
    data = grid[row_index + 1:]
    width = max(map(len, data), default=0)
    names = " or ".join(f"'{DEFAULT_HEADERS[f]}'" for f in missing)
    problems: list[Problem] = []
    merged_from: int | None = None
    for col in range(width):
        if col < len(header) and not is_blank(header[col]):
            merged_from = col if col in read else None
            continue
        if merged_from is None or not any(col < len(r) and not is_blank(r[col]) for r in data):
            merged_from = None  # a gap with nothing below ends what a merge could cover
            continue
        problems.append(Problem(
            tab=title, cell=a1(title, row_index + 1, col), email="", value="",
            problem=(f"column {column_letter(col)} has values but a blank header (a merged header cell over "
                     f"columns {column_letter(merged_from)}–{column_letter(col)}?), so it is not synced; did you "
                     f"mean {names}? Unmerge the header and give column {column_letter(col)} its own header")))
    return problems
