"""A1 notation as the Sheets API reads and writes it: ``'Monthly Goals'!A1:F20``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sheets.inputs import column_letter

_CELL = re.compile(r"^\$?([A-Za-z]*)\$?(\d*)$")
_SIMPLE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*)$")


class RangeSyntaxError(ValueError):
    """The text is not A1 notation."""


def column_index(letters: str) -> int:
    """``A`` → 0, ``AA`` → 26."""
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index - 1


column_letters = column_letter
"""0 → ``A``, 26 → ``AA`` (the product's own conversion: A1 notation is not something to fake)."""


def quote_title(title: str) -> str:
    """A tab name as Google writes it in a returned range (quoted unless plain)."""
    if _SIMPLE_TITLE.match(title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Bounds:
    """A rectangle of cells, 0-based; ``None`` means open (to the grid's edge)."""

    start_row: int | None = None
    start_column: int | None = None
    end_row: int | None = None
    """Exclusive."""
    end_column: int | None = None
    """Exclusive."""


@dataclass(frozen=True)
class ParsedRange:
    """``title`` is None when the range names no tab (the first tab is meant)."""

    title: str | None
    bounds: Bounds | None
    """None: the whole tab."""


def split_range(text: str) -> ParsedRange:
    """Split ``'Tab'!A1:B2`` into the tab name and the cell bounds."""
    if text.startswith("'"):
        title_chars: list[str] = []
        i = 1
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title_chars.append("'")
                    i += 2
                    continue
                break
            title_chars.append(text[i])
            i += 1
        else:
            raise RangeSyntaxError(text)
        rest = text[i + 1:]
        if not rest:
            return ParsedRange("".join(title_chars), None)
        if not rest.startswith("!"):
            raise RangeSyntaxError(text)
        return ParsedRange("".join(title_chars), parse_cells(rest[1:]))
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return ParsedRange(title, parse_cells(cells))
    # Without "!" the text is a tab name if such a tab exists, else cells of the
    # first tab: the caller decides, so both readings are offered.
    return ParsedRange(text, None)


def parse_cells(text: str) -> Bounds:
    """``A1:B2``, ``A:B``, ``2:5``, ``A5:Z``, ``C3`` → bounds."""
    first, sep, second = text.partition(":")
    start = _endpoint(first, text)
    if not sep:
        if start[0] is None or start[1] is None:
            # "A" alone or "5" alone is not a range Google accepts.
            raise RangeSyntaxError(text)
        return Bounds(start[0], start[1], start[0] + 1, start[1] + 1)
    end = _endpoint(second, text)
    start_row, start_column = start
    end_row, end_column = end
    if start_row is None and end_row is not None:
        start_row = 0
    if start_column is None and end_column is not None:
        start_column = 0
    return Bounds(
        start_row,
        start_column,
        None if end_row is None else end_row + 1,
        None if end_column is None else end_column + 1,
    )


def _endpoint(text: str, whole: str) -> tuple[int | None, int | None]:
    match = _CELL.match(text.strip())
    if not match or not (match.group(1) or match.group(2)):
        raise RangeSyntaxError(whole)
    letters, digits = match.groups()
    row = int(digits) - 1 if digits else None
    if row is not None and row < 0:
        raise RangeSyntaxError(whole)
    return row, column_index(letters) if letters else None


def format_range(title: str, start_row: int, start_column: int, end_row: int, end_column: int) -> str:
    """The A1 text Google returns for a resolved rectangle (ends exclusive)."""
    first = f"{column_letters(start_column)}{start_row + 1}"
    last = f"{column_letters(end_column - 1)}{end_row}"
    cells = first if (end_row - start_row, end_column - start_column) == (1, 1) else f"{first}:{last}"
    return f"{quote_title(title)}!{cells}"
