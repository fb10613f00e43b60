"""Raw input grids → typed DataFrames and per-cell problems (SPEC "Spreadsheet contract").

Pure: no I/O, no clock, never raises on any grid. ``parse_inputs`` is what the
sync cycle calls (with ``sync.reuse.ParseMemo``, a daemon reuses the previous call's
parse of a tab whose cells and other inputs are unchanged); ``parse_tab`` parses one
tab and is handy in tests.

Rows: the header row is the first non-blank row; a data row with nothing in
any recognised column is ignored (notes in extra columns do not make a row).
A bad key cell (Email, Year, Month) drops the row; a bad value cell becomes
NA ("no change") and the rest of the row goes on; every bad cell is reported
once, including the value cells of a dropped row. Rows left with a valid key
are then checked, in this order, and dropped with one problem each when they
fail: duplicate key within the tab (every row of that key; one problem per
key, at its first row, naming the count and the first rows), unknown rep
(goals and actuals tabs), new rep without a name (Reps tab; a new rep whose
Name cell holds a spreadsheet error is dropped too, its cell already reported).
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from models.values import Problem
from sheets import cells as c
from sheets.headers import DEFAULT_HEADERS, REQUIRED_FIELDS, match_headers
from sheets.inputs import FRAME_COLUMNS, INPUT_KINDS, KEY_COLUMNS, InputKind, ParsedInputs, ParsedTab, a1
from sheets.outputs import Cell, RawGrid

DEFAULT_TITLES: Mapping[InputKind, str] = {
    "reps": "Reps", "monthly_goals": "Monthly Goals", "yearly_goals": "Yearly Goals", "actuals": "Actuals",
}
_TEXT_FIELDS = ("name", "team", "title")
_ROWS_NAMED = 5
"""A duplicated key's problem names this many of its rows (and counts the rest)."""
_UNIT = {"reps": "rep", "monthly_goals": "rep and month", "yearly_goals": "rep and year",
         "actuals": "rep and month"}


@dataclass(frozen=True)
class TabResult:
    """One parsed tab (None when missing or unusable), its problems and its non-blank data rows."""

    tab: ParsedTab | None
    problems: tuple[Problem, ...]
    rows_read: int
    more_problems: int = 0
    """Problems found beyond ``problems`` (``max_problems``: they were counted, not written out)."""


def field_dtype(field: str) -> str:
    """The pandas dtype of a frame column."""
    if field in ("email", "manager_email", *_TEXT_FIELDS):
        return "string"
    if field == "is_active":
        return "boolean"
    return c.NUMBER_RULES[field].dtype


def _header_list(kind: InputKind) -> str:
    return ", ".join(DEFAULT_HEADERS[f] for f in FRAME_COLUMNS[kind])


def _columns_block(data: Sequence[Sequence[Cell]], columns: Sequence[int]) -> list[np.ndarray]:
    """One 1-D object array per wanted column; short rows are padded with None."""
    count = len(data)
    if count == 0:
        return [np.empty(0, dtype=object) for _ in columns]
    width = max(columns) + 1
    # Transposing with zip runs in C; zip_longest pads the rows Sheets trimmed at their last value.
    if min(map(len, data)) >= width:
        transposed = list(itertools.islice(zip(*data, strict=False), width))  # rows may be longer
    else:
        transposed = list(itertools.islice(itertools.zip_longest(*data), width))
        transposed += [(None,) * count] * (width - len(transposed))
    return [np.fromiter(transposed[col], dtype=object, count=count) for col in columns]


def _blank(cells: np.ndarray) -> np.ndarray:
    """Vectorised blank test: None, NaN, or text of nothing but spaces and invisible characters."""
    blank = np.asarray(pd.isna(cells), dtype=bool).copy()
    types = c.cell_types(cells)
    text_at = np.flatnonzero(c.of_type(types, str))
    if len(text_at) > 64:
        # Text repeats (an email on every row): strip each distinct text once.
        codes, uniques = pd.factorize(pd.Series(cells[text_at], dtype=object))
        unique_blank = np.fromiter((not c.key_text(text) for text in uniques), dtype=bool, count=len(uniques))
        blank[text_at] = unique_blank[codes]
    elif len(text_at):
        blank[text_at] = [not c.key_text(text) for text in cells[text_at].tolist()]
    return blank


def _parse_column(field: str, cells: np.ndarray, label: str, key: bool) -> c.ColumnResult:
    if field == "email":
        return c.parse_email_column(cells, label)
    if field == "manager_email":
        return c.parse_email_column(cells, label, required=False)
    if field in _TEXT_FIELDS:
        return c.parse_text_column(cells, label)
    if field == "is_active":
        return c.parse_active_column(cells, label)
    return c.parse_number_column(cells, c.NUMBER_RULES[field], label, required=key)


def _key_text(kind: InputKind, email: str, year: object, month: object) -> str:
    if kind == "reps":
        return email
    if kind == "yearly_goals":
        return f"{email} for {year}"
    return f"{email} for {calendar.month_name[int(month)]} {year}"  # type: ignore[call-overload]


def _rows_text(rows: Sequence[int], total: int) -> str:
    """``rows 2, 4 and 6``, or ``rows 2, 3, 4, 5, 6 and 49,995 more`` when ``total`` exceeds the rows named."""
    words = [f"{r:,}" for r in rows]
    if total > len(words):
        return "rows " + ", ".join(words) + f" and {total - len(words):,} more"
    return "rows " + ", ".join(words[:-1]) + " and " + words[-1]


def parse_tab(
    kind: InputKind,
    grid: RawGrid | None,
    title: str,
    *,
    known_emails: frozenset[str] | None = None,
    header_aliases: Mapping[str, str | list[str]] | None = None,
    reps_title: str = "Reps",
    max_problems: int | None = None,
) -> TabResult:
    """Parse one input tab.

    ``known_emails``: for the Reps tab, reps already stored (a rep not among
    them needs a Name); for the other tabs, every rep that exists (stored or
    accepted from the Reps tab) — a row of anyone else is rejected; ``None``
    skips that check. ``max_problems``: write out only the first problems (in
    sheet order) and count the rest in ``more_problems``; None: write out all.
    """
    if grid is None:
        if kind == "reps":
            return TabResult(None, (), 0)  # Reps is optional: the roster stays as stored
        return TabResult(None, (Problem(
            tab=title, cell=title, email="", value="",
            problem=f"tab {title} is missing; add a tab named '{title}' with the columns {_header_list(kind)}",
        ),), 0)
    match = match_headers(grid, kind, title, header_aliases or {})
    if match is None:
        if kind == "reps":
            return TabResult(None, (), 0)
        return TabResult(None, (Problem(
            tab=title, cell=title, email="", value="",
            problem=(f"tab {title} is empty; it needs a header row with {_header_list(kind)} "
                     "(this tab was skipped)"),
        ),), 0)
    header_row = match.row_index + 1
    missing = [f for f in REQUIRED_FIELDS[kind] if f not in match.columns]
    if missing:
        return TabResult(None, match.problems + tuple(Problem(
            tab=title, cell=f"{title}!{header_row}:{header_row}", email="", value="",
            problem=(f"tab {title} has no '{DEFAULT_HEADERS[f]}' column in its header row (row {header_row}); "
                     f"add a column headed '{DEFAULT_HEADERS[f]}' (this tab was skipped)"),
        ) for f in missing), 0)

    fields = [f for f in FRAME_COLUMNS[kind] if f in match.columns]
    data = grid[match.row_index + 1:]
    columns = _columns_block(data, [match.columns[f] for f in fields])
    blank_rows = np.ones(len(data), dtype=bool)
    for cells in columns:
        blank_rows &= _blank(cells)
    keep = np.flatnonzero(~blank_rows)
    sheet_rows = keep + header_row + 1
    raw = {f: col[keep] for f, col in zip(fields, columns, strict=True)}
    keys = KEY_COLUMNS[kind]
    results = {f: _parse_column(f, raw[f], match.labels[f], f in keys) for f in fields}

    emails = np.asarray(results["email"].values.to_numpy(dtype=object, na_value=""), dtype=object)
    found = _Found(sheet_rows)

    def problem_at(field: str, message: Callable[[int], str], value: str | None = None) -> Callable[[int], Problem]:
        def write(position: int) -> Problem:
            row, col = int(sheet_rows[position]), match.columns[field]
            return Problem(tab=title, cell=a1(title, row, col), email=str(emails[position]),
                           value=c.shown(raw[field][position]) if value is None else value,
                           problem=message(position))
        return write

    def report(positions: np.ndarray, field: str, message: Callable[[int], str], value: str | None = None) -> None:
        found.add(match.columns[field], positions, problem_at(field, message, value))

    for f, result in results.items():
        report(c.message_positions(result.messages), f, result.messages.__getitem__)

    accepted = np.ones(len(keep), dtype=bool)
    for f in keys:
        accepted &= ~results[f].bad

    # Duplicate keys among rows whose key is valid: every row of such a key is rejected, and
    # reported once, at its first row: a row filled down 50,000 times is one problem, not 50,000
    # problems each naming 49,999 rows.
    key_frame = pd.DataFrame({f: pd.Series(results[f].values) for f in keys})
    duplicated = key_frame.duplicated(keep=False).to_numpy(dtype=bool) & accepted
    if duplicated.any():
        dup_at = np.flatnonzero(duplicated)
        groups = key_frame.iloc[dup_at].groupby(list(keys), sort=False, dropna=False).indices
        members_at = {int(dup_at[np.min(members)]): dup_at[np.sort(members)] for members in groups.values()}

        def duplicate(position: int) -> str:
            positions = members_at[position]
            first = key_frame.iloc[position]
            text = _key_text(kind, str(emails[position]), first.get("year"), first.get("month"))
            return (f"Duplicate: {text} is on {len(positions):,} rows of {title} "
                    f"({_rows_text(sheet_rows[positions[:_ROWS_NAMED]].tolist(), len(positions))}); only one "
                    f"row per {_UNIT[kind]} is allowed, so none of these rows was synced (delete or merge the "
                    "duplicates)")

        report(np.fromiter(members_at, dtype=np.int64, count=len(members_at)), "email", duplicate)
        accepted &= ~duplicated

    if kind != "reps" and known_emails is not None:
        unknown = accepted & ~pd.Series(emails, dtype=object).isin(known_emails).to_numpy(dtype=bool)
        report(np.flatnonzero(unknown), "email", lambda position: (
            f"{emails[position]} is not a known rep: add them to the {reps_title} tab with their Name "
            "first; this row was not synced"))
        accepted &= ~unknown

    if kind == "reps":
        known = known_emails or frozenset()
        names = results["name"]
        new = accepted & ~pd.Series(emails, dtype=object).isin(known).to_numpy(dtype=bool)
        no_name = new & np.asarray(pd.isna(names.values), dtype=bool)
        report(np.flatnonzero(no_name & ~names.bad), "name", lambda position: (
            f"{match.labels['name']} is blank for new rep {emails[position]}; a new rep needs a name, "
            "so this row was not synced"), value="")
        accepted &= ~no_name

    chosen = np.flatnonzero(accepted)
    frame = pd.DataFrame({
        f: (results[f].values[chosen] if f in results
            # pandas-stubs has no overload for a dtype name known only at run time
            else pd.array([None] * len(chosen), dtype=field_dtype(f)))  # type: ignore[call-overload]
        for f in FRAME_COLUMNS[kind]
    })
    frame["row"] = sheet_rows[chosen].astype(np.int64)
    limit = None if max_problems is None else max(max_problems - len(match.problems), 0)
    listed, more = found.first(limit)
    return TabResult(
        tab=ParsedTab(kind=kind, title=title, frame=frame, columns=dict(match.columns)),
        problems=match.problems + listed,
        rows_read=len(keep),
        more_problems=more,
    )


class _Found:
    """A tab's problems as (position, column, writer) before any is written out: only the first ones
    in sheet order become ``Problem`` objects, so 100,000 junk rows cost the problems listed, not
    half a million messages (seconds and hundreds of MB). ``sheet_rows``: each position's row."""

    def __init__(self, sheet_rows: np.ndarray) -> None:
        self._sheet_rows = sheet_rows
        self._cols: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []
        self._sources: list[np.ndarray] = []
        self._writers: list[Callable[[int], Problem]] = []

    def add(self, col: int, positions: np.ndarray, write: Callable[[int], Problem]) -> None:
        """Problems at ``positions``, all in column ``col``, written by ``write``."""
        if not len(positions):
            return
        self._cols.append(np.full(len(positions), col, dtype=np.int64))
        self._positions.append(np.asarray(positions, dtype=np.int64))
        self._sources.append(np.full(len(positions), len(self._writers), dtype=np.int64))
        self._writers.append(write)

    def first(self, limit: int | None) -> tuple[tuple[Problem, ...], int]:
        """The first ``limit`` problems (all when None) by sheet row then column (the order they were
        added in when both are equal), and how many more there are."""
        if not self._positions:
            return (), 0
        positions, sources = np.concatenate(self._positions), np.concatenate(self._sources)
        # By row, then column; stable: equal keys keep the order they were added in.
        order = np.lexsort((np.concatenate(self._cols), self._sheet_rows[positions]))
        chosen = order if limit is None else order[:limit]
        listed = tuple(self._writers[int(sources[i])](int(positions[i])) for i in chosen)
        return listed, len(order) - len(chosen)


class TabParser(Protocol):
    """How ``parse_inputs`` parses each tab: ``safe_parse``, or a memo of the previous call's
    results that reuses those of unchanged tabs (``sync.reuse.ParseMemo``)."""

    def parse(self, kind: InputKind, grid: RawGrid | None, title: str, **kwargs: Any) -> TabResult:
        """``safe_parse(kind, grid, title, **kwargs)``, or an equal result."""
        ...

    def finish(self) -> None:
        """Called once every tab of a call is parsed."""
        ...


class _EachTime:
    """No reuse: every tab parsed."""

    def parse(self, kind: InputKind, grid: RawGrid | None, title: str, **kwargs: Any) -> TabResult:
        return safe_parse(kind, grid, title, **kwargs)

    def finish(self) -> None:
        pass


def safe_parse(kind: InputKind, grid: RawGrid | None, title: str, **kwargs: object) -> TabResult:
    """``parse_tab``, but a bug on some unforeseen input costs one tab, never the cycle."""
    try:
        return parse_tab(kind, grid, title, **kwargs)  # type: ignore[arg-type]
    except Exception as error:  # the contract is "never raises"
        return TabResult(None, (Problem(
            tab=title, cell=title, email="", value="",
            problem=f"tab {title} could not be read ({type(error).__name__}: {error}); it was skipped",
        ),), 0)


def parse_inputs(
    grids: Mapping[InputKind, RawGrid | None],
    titles: Mapping[InputKind, str],
    *,
    known_emails: frozenset[str],
    header_aliases: Mapping[str, str | list[str]] | None = None,
    memo: TabParser | None = None,
    max_problems: int | None = None,
) -> ParsedInputs:
    """Parse every input tab: typed frames, every problem (Reps first, then goals, then actuals).

    ``known_emails``: reps already stored. Reps accepted from the Reps tab are
    known too when the goals and actuals tabs are checked. ``memo``: the previous
    call's parses, reused for unchanged tabs (and updated with this call's).
    ``max_problems``: each tab writes out only its first problems and counts the rest
    (``ParsedInputs.more_problems``), enough for a caller listing that many in all.
    """
    memo = memo if memo is not None else _EachTime()
    aliases = header_aliases or {}
    names = {kind: titles.get(kind) or DEFAULT_TITLES[kind] for kind in INPUT_KINDS}
    stored = frozenset(e.strip().lower() for e in known_emails)
    results: dict[InputKind, TabResult] = {}
    results["reps"] = memo.parse("reps", grids.get("reps"), names["reps"], known_emails=stored,
                                 header_aliases=aliases, max_problems=max_problems)
    known = set(stored)
    reps_tab = results["reps"].tab
    if reps_tab is not None:
        known.update(reps_tab.frame["email"].dropna().tolist())
    for kind in INPUT_KINDS[1:]:
        results[kind] = memo.parse(kind, grids.get(kind), names[kind], known_emails=frozenset(known),
                                   header_aliases=aliases, reps_title=names["reps"], max_problems=max_problems)
    memo.finish()
    return ParsedInputs(
        tabs={kind: results[kind].tab for kind in INPUT_KINDS},
        problems=tuple(p for kind in INPUT_KINDS for p in results[kind].problems),
        rows_read=sum(r.rows_read for r in results.values()),
        more_problems=sum(r.more_problems for r in results.values()),
    )
