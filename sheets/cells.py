"""Turning one column of raw cells into typed values and per-cell complaints. Pure, no I/O.

Each ``parse_*_column`` takes a 1-D object array (one entry per data row, as
Sheets returns it unformatted: str, int, float, bool or None) and returns a
:class:`ColumnResult`: a pandas extension array with NA for blank or bad
cells, a mask of bad cells and a plain-language message for each bad one.

Numbers are converted with numpy in one go; only cells that are not plain
numbers (text such as ``'$1,234.50'``, month names, odd types) go through a
per-cell function, and messages are built only for bad cells.

Decisions beyond the SPEC:

- Revenue and revenue goals with more than two decimals (what a formula
  such as ``=A2*0.15`` gives) are accepted and rounded half-up to cents.
- Signups allow one decimal (half credit); ``14.25`` is rejected, but
  floating-point noise from a formula (``14.500000000001``) is not.
- A comma is only a thousands separator in proper groups (``1,234`` and
  ``12,345.6``); ``12,5`` is rejected rather than silently read as 125.
- Absurd magnitudes: signups and signup goals above 100,000, money above
  1,000,000,000 (monthly and yearly alike).
- Accounting negatives ``(12)`` and a leading ``-`` are reported as negative.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from models.values import UNSTORABLE, printable
from sheets.outputs import Cell

BLANK, TEXT, ERROR, BOOL, NEGATIVE, TOO_BIG, NOT_WHOLE, TOO_PRECISE, OUT_OF_RANGE, DATE = range(1, 11)
"""Why a cell was not read as a value (0 = read fine)."""

SPREADSHEET_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!",
                      "#GETTING_DATA", "#SPILL!", "#CALC!", "#BLOCKED!", "#FIELD!", "#CONNECT!",
                      "#BUSY!", "#UNKNOWN!", "#LOADING...")
_ERROR_TEXTS = frozenset(SPREADSHEET_ERRORS)

_NUMBER = re.compile(
    r"(?P<sign>[-+−]?)\s*[$€£]?\s*(?P<sign2>[-+−]?)\s*"
    r"(?P<num>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)"
)
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]")
"""Characters that show as nothing: zero-width space and joiners, the byte-order mark (U+FEFF, which a
CSV import leaves on the first cell), soft hyphen, direction marks, variation selectors, fillers."""
_MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_TIME = r"\d{1,4}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?"
_DATE_TEXT = re.compile(
    rf"\d{{1,4}}[/.\-]\d{{1,2}}(?:[/.\-]\d{{1,4}})?(?:[ T]{_TIME})?|{_TIME}"
    rf"|\d{{1,2}}[ \-]{_MONTH_WORD}(?:[ \-,]+\d{{2,4}})?|{_MONTH_WORD}[ \-]\d{{1,2}}(?:,? \d{{2,4}})?"
    rf"|{_MONTH_WORD}[ \-]\d{{4}}", re.IGNORECASE)
"""What a date or time cell reads as: Sheets gives a date-formatted cell as its text (``11/5/2026``,
``5-Nov-2026``, ``13:30:00``) and the xlsx backend does the same, so a date never reads as a number."""
_EMAIL = r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+"
_EMAIL_RE = re.compile(_EMAIL)
_MAX_EMAIL = 254

MONTH_NAMES: dict[str, int] = {}
for _number, _names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1):
    for _name in _names:
        MONTH_NAMES[_name] = _number

_TRUE_TEXTS = frozenset({"true", "yes", "y", "1"})
_FALSE_TEXTS = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True)
class NumberRule:
    """What a number field accepts.

    ``step``: ``whole`` numbers, ``tenth`` (one decimal), or ``cent`` (rounded
    half-up to two decimals). ``ranged`` fields (year, month, tier) report any
    value outside ``low``–``high`` with their ``accepted`` text; the others
    say "cannot be negative" or "is too large".
    """

    step: Literal["whole", "tenth", "cent"]
    low: float
    high: float
    accepted: str
    ranged: bool = False
    names: dict[str, int] = field(default_factory=dict)

    @property
    def dtype(self) -> str:
        """The pandas dtype of the parsed column."""
        return "Int64" if self.step == "whole" else "Float64"


_GOAL = NumberRule("whole", 0, 100_000, "a whole number from 0 to 100,000, like 12")
_MONEY = NumberRule("cent", 0, 1_000_000_000, "a number like 1234.50 (0 to 1,000,000,000)")
NUMBER_RULES: dict[str, NumberRule] = {
    "year": NumberRule("whole", 2024, 2100, "a four-digit year from 2024 to 2100, like 2026", ranged=True),
    "month": NumberRule("whole", 1, 12, "a month number 1–12 or a name like Nov or November",
                        ranged=True, names=MONTH_NAMES),
    "signup_goal": _GOAL,
    "monthly_signup_goal": _GOAL,
    "yearly_signup_goal": _GOAL,
    "bonus_tier_goal": NumberRule("whole", 0, 6, "a whole number from 0 to 6", ranged=True),
    "revenue_goal": _MONEY,
    "revenue": _MONEY,
    "signups": NumberRule("tenth", 0, 100_000,
                          "a number like 14 or 14.5 (at most one decimal, 0 to 100,000)"),
}


class LazyMessages(Mapping[int, str]):
    """Position → message for the bad cells at ``positions`` (ascending), each message written by
    ``write`` only when it is read: a column of 100,000 junk cells costs the messages that are
    listed (``sheets.max_error_rows``), not 100,000 sentences."""

    __slots__ = ("_positions", "_write")

    def __init__(self, positions: np.ndarray, write: Callable[[int], str]) -> None:
        self._positions = positions
        self._write = write

    @property
    def positions(self) -> np.ndarray:
        """The bad cells' positions, ascending."""
        return self._positions

    def __getitem__(self, position: int) -> str:
        found = int(np.searchsorted(self._positions, position))
        if found == len(self._positions) or self._positions[found] != position:
            raise KeyError(position)
        return self._write(position)

    def __iter__(self) -> Iterator[int]:
        return iter(self._positions.tolist())

    def __len__(self) -> int:
        return len(self._positions)


def message_positions(messages: Mapping[int, str]) -> np.ndarray:
    """The positions ``messages`` holds, ascending, as an int array (without writing a message)."""
    if isinstance(messages, LazyMessages):
        return messages.positions
    return np.fromiter(sorted(messages), dtype=np.int64, count=len(messages))


@dataclass(frozen=True)
class ColumnResult:
    """One parsed column: typed values (NA = blank or bad), which cells are bad and why."""

    values: pd.api.extensions.ExtensionArray
    bad: np.ndarray
    messages: Mapping[int, str]
    """0-based position in the column → message, for every bad cell (a ``LazyMessages`` writes
    each one when it is read)."""


def shown(value: Cell | object) -> str:
    """A cell as the user sees it, for Sync Errors: 12.0 → '12', True → 'TRUE', None → ''."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return printable(value)  # a pasted NUL shows as ␀ (and can be stored in the log)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return str(value)


def _quoted(value: Cell | object) -> str:
    text = shown(value)
    return f"'{text[:57]}…'" if len(text) > 60 else f"'{text}'"


def key_text(text: str) -> str:
    """A key, number or flag cell's text as the person meant it: invisible characters removed and
    surrounding whitespace (no-break spaces too) stripped, so ``ann@example.com\u200b`` is ann's email
    and never a second rep. Not for names, where a zero-width joiner belongs to an emoji or a script."""
    if _INVISIBLE.search(text) is not None:
        text = _INVISIBLE.sub("", text)
    return text.strip()


def unstorable_message(label: str, text: str) -> str | None:
    """The problem of a text cell holding a character no database column can keep, else None."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    what = "a broken character (half of an emoji pair)" if "\ud800" <= char <= "\udfff" else \
        f"an invisible control character (U+{ord(char):04X})"
    return (f"{label} contains {what}, which cannot be stored; retype the cell (the stored value was kept); "
            f"got {_quoted(text)}")


def is_error_text(text: str) -> bool:
    """True for a spreadsheet error such as ``#REF!`` (what Sheets returns for a broken formula)."""
    return text.strip().upper() in _ERROR_TEXTS


def number_from_text(text: str, names: dict[str, int] | None = None) -> tuple[float, int]:
    """(value, code) for a text cell in a number column; code 0 when it reads as a number."""
    stripped = key_text(text)
    if not stripped:
        return math.nan, BLANK
    if is_error_text(stripped):
        return math.nan, ERROR
    if names:
        month = names.get(stripped.lower().rstrip("."))
        if month is not None:
            return float(month), 0
    negative = False
    if stripped.startswith("(") and stripped.endswith(")"):
        negative, stripped = True, stripped[1:-1].strip()
    match = _NUMBER.fullmatch(stripped)
    if match is None:
        return math.nan, DATE if _DATE_TEXT.fullmatch(stripped) else TEXT
    value = float(match["num"].replace(",", ""))
    if "-" in match["sign"] + match["sign2"] or "−" in match["sign"] + match["sign2"]:
        negative = True
    if negative and value != 0:
        return -value, NEGATIVE
    return value, 0


def _number_from_other(value: object, names: dict[str, int] | None) -> tuple[float, int]:
    """(value, code) for any cell that is not a plain int/float: text, bools, odd types."""
    if value is None:
        return math.nan, BLANK
    if isinstance(value, bool | np.bool_):
        return math.nan, BOOL
    if isinstance(value, str):
        return number_from_text(value, names)
    if isinstance(value, numbers.Real | Decimal):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            return math.inf, TOO_BIG
        return number, (BLANK if math.isnan(number) else 0)
    return math.nan, TEXT


def _message(label: str, rule: NumberRule, code: int, raw: object) -> str:
    got = _quoted(raw)
    if code == BLANK:
        return f"{label} is blank; every row needs {rule.accepted}"
    if code == ERROR:
        return f"{label} shows the spreadsheet error {shown(raw).strip()}; fix the formula so it gives " \
               f"{rule.accepted}"
    if code == BOOL:
        return f"{label} must be {rule.accepted}, not a checkbox or TRUE/FALSE; got {got}"
    if code == DATE:
        return (f"{label} must be {rule.accepted}; got {got}, which is a date or time: the cell is formatted "
                "as a date. Set Format → Number → Number on it and type the value again")
    if rule.ranged or code in (TEXT, OUT_OF_RANGE):
        hint = ""
        if rule.names and code == OUT_OF_RANGE and isinstance(raw, int | float) and 36_500 < raw < 80_000:
            hint = " (it looks like a date: type the month number as plain text)"
        return f"{label} must be {rule.accepted}; got {got}{hint}"
    if code == NEGATIVE:
        return f"{label} cannot be negative; got {got}. Use {rule.accepted}"
    if code == TOO_BIG:
        return f"{label} is too large (at most {rule.high:,.0f}); got {got}"
    if code == NOT_WHOLE:
        return f"{label} must be a whole number, not a fraction; got {got}. Use {rule.accepted}"
    if code == TOO_PRECISE:
        return f"{label} allows at most one decimal (half credit like 14.5); got {got}"
    return f"{label} must be {rule.accepted}; got {got}"


def cell_types(cells: np.ndarray) -> np.ndarray:
    """The Python type of each cell, as an object array (compare with :func:`of_type`)."""
    return np.fromiter(map(type, cells), dtype=object, count=len(cells))


def of_type(types: np.ndarray, kind: type) -> np.ndarray:
    """Boolean mask of the cells whose type (from :func:`cell_types`) is exactly ``kind``."""
    # numpy's stubs take no type object as a ufunc operand; at run time it is a 0-d object array.
    return np.equal(types, kind)  # type: ignore[call-overload]


def parse_number_column(cells: np.ndarray, rule: NumberRule, label: str, *, required: bool) -> ColumnResult:
    """Parse a number column by ``rule``; blank cells are NA (bad only when ``required``)."""
    count = len(cells)
    types = cell_types(cells)
    values = np.full(count, np.nan)
    codes = np.zeros(count, dtype=np.int8)
    plain = of_type(types, int) | of_type(types, float)
    plain_at = np.flatnonzero(plain)
    try:
        values[plain_at] = np.asarray(cells[plain_at], dtype=float)
    except (OverflowError, ValueError, TypeError):  # an int beyond float range: rare, go cell by cell
        for position in plain_at:
            values[position], codes[position] = _number_from_other(cells[position], rule.names)
    codes[plain & np.isnan(values) & (codes == 0)] = BLANK
    codes[of_type(types, type(None))] = BLANK
    other = ~plain & ~of_type(types, type(None))
    is_text = of_type(types, str)
    text_at = np.flatnonzero(other & is_text)
    if len(text_at):
        # Text repeats ("n/a" or "#REF!" filled down, a month name): read each distinct text once.
        at, uniques = pd.factorize(pd.Series(cells[text_at], dtype=object))
        read = [number_from_text(text, rule.names) for text in uniques]
        values[text_at] = np.fromiter((value for value, _ in read), dtype=float, count=len(read))[at]
        codes[text_at] = np.fromiter((code for _, code in read), dtype=np.int8, count=len(read))[at]
    for position in np.flatnonzero(other & ~is_text):
        values[position], codes[position] = _number_from_other(cells[position], rule.names)

    checked = codes == 0
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(values)
        if rule.step == "whole":
            off_step = np.abs(values - np.rint(values)) > 1e-9
        elif rule.step == "tenth":
            off_step = np.abs(values * 10 - np.rint(values * 10)) > 1e-6
        else:
            off_step = np.zeros(count, dtype=bool)
        if rule.ranged:
            outside = ~finite | (values < rule.low) | (values > rule.high) | off_step
            codes[checked & outside] = OUT_OF_RANGE
        else:
            codes[checked & (~finite | (values > rule.high))] = TOO_BIG
            codes[checked & finite & (values < 0)] = NEGATIVE
            codes[(codes == 0) & off_step] = NOT_WHOLE if rule.step == "whole" else TOO_PRECISE

        ok = codes == 0
        clean = np.where(ok, values, 0.0)
        data: pd.arrays.IntegerArray | pd.arrays.FloatingArray
        if rule.step == "whole":
            data = pd.arrays.IntegerArray(np.rint(clean).astype(np.int64), ~ok)
        elif rule.step == "tenth":
            data = pd.arrays.FloatingArray(np.rint(clean * 10) / 10, ~ok)
        else:
            # round(…, 6) first so 1.005 (stored as 1.00499999…) rounds half-up to 1.01 as typed
            data = pd.arrays.FloatingArray(np.floor(np.round(clean * 100, 6) + 0.5) / 100, ~ok)

    bad = (codes != 0) & ((codes != BLANK) | required)
    messages = LazyMessages(np.flatnonzero(bad), lambda p: _message(label, rule, int(codes[p]), cells[p]))
    return ColumnResult(values=data, bad=bad, messages=messages)


def parse_email_column(cells: np.ndarray, label: str, *, required: bool = True) -> ColumnResult:
    """Trim and lower-case emails and check their shape. A bad email is bad; so is a blank one when
    ``required`` (the rep's email is the key; a blank Manager Email keeps the stored one)."""
    count = len(cells)
    types = cell_types(cells)
    is_text = of_type(types, str)
    emails = np.full(count, None, dtype=object)
    valid = np.zeros(count, dtype=bool)
    text_at = np.flatnonzero(is_text)
    if len(text_at):
        # A rep's email repeats on every row: check each distinct text once.
        codes, uniques = pd.factorize(pd.Series(cells[text_at], dtype=object))
        normalized = pd.Series([key_text(text).lower() for text in uniques], dtype=object)
        unique_ok = (normalized.str.fullmatch(_EMAIL_RE).fillna(False).to_numpy(dtype=bool)
                     & (normalized.str.len() <= _MAX_EMAIL).to_numpy(dtype=bool)
                     & ~normalized.str.contains(UNSTORABLE).to_numpy(dtype=bool))
        ok = unique_ok[codes]
        emails[text_at[ok]] = normalized.to_numpy(dtype=object)[codes[ok]]
        valid[text_at[ok]] = True
    bad = ~valid
    if not required:  # a blank optional email keeps the stored one: not a problem
        for position in np.flatnonzero(bad):
            if _blank_email(cells[position]):
                bad[position] = False
    return ColumnResult(values=pd.array(emails, dtype="string"), bad=bad,
                        messages=LazyMessages(np.flatnonzero(bad), lambda p: _email_message(label, cells[p])))


def _blank_email(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not key_text(raw)) or (isinstance(raw, float) and math.isnan(raw))


def _email_message(label: str, raw: object) -> str:
    if _blank_email(raw):
        return f"{label} is blank; every row needs the rep's email address"
    if isinstance(raw, str) and (unstorable := unstorable_message(label, raw)) is not None:
        return unstorable
    if isinstance(raw, str) and is_error_text(raw):
        return (f"{label} shows the spreadsheet error {raw.strip()}; fix the formula "
                "so it gives an email address like ana@example.com")
    return f"{label} must be an email address like ana@example.com; got {_quoted(raw)}"


def _text_cell(value: object) -> tuple[str | None, bool]:
    """(text or None for blank, is_error) for a free-text cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    text = (value if isinstance(value, str) else shown(value)).strip()
    if not key_text(text):  # nothing visible: blank
        return None, False
    return text, is_error_text(text)


def parse_text_column(cells: np.ndarray, label: str) -> ColumnResult:
    """Trimmed text (numbers shown as typed); blank is NA; a spreadsheet error or an unstorable
    character (NUL, a control character, a lone surrogate) is bad: the stored value is kept."""
    count = len(cells)
    texts = np.full(count, None, dtype=object)
    bad = np.zeros(count, dtype=bool)
    messages: dict[int, str] = {}
    for position, value in enumerate(cells):
        text, error = _text_cell(value)
        unstorable = unstorable_message(label, text) if text is not None else None
        if unstorable is not None:
            bad[position] = True
            messages[position] = unstorable
        elif error:
            bad[position] = True
            messages[position] = (f"{label} shows the spreadsheet error {text}; fix the formula or type "
                                  f"the {label.lower()} as text")
        else:
            texts[position] = text
    return ColumnResult(values=pd.array(texts, dtype="string"), bad=bad, messages=messages)


def active_value(value: object) -> tuple[bool | None, bool]:
    """(flag or None for blank, is_bad) for an Active cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    if isinstance(value, bool | np.bool_):
        return bool(value), False
    if isinstance(value, numbers.Real):
        if value == 1:
            return True, False
        if value == 0:
            return False, False
        return None, True
    if isinstance(value, str):
        text = key_text(value).lower()
        if not text:
            return None, False
        if text in _TRUE_TEXTS:
            return True, False
        if text in _FALSE_TEXTS:
            return False, False
    return None, True


def parse_active_column(cells: np.ndarray, label: str) -> ColumnResult:
    """TRUE/FALSE, yes/no, y/n, 1/0 or a checkbox; blank is NA (no change)."""
    count = len(cells)
    flags = np.full(count, None, dtype=object)
    bad = np.zeros(count, dtype=bool)
    messages: dict[int, str] = {}
    for position, value in enumerate(cells):
        flag, is_bad = active_value(value)
        if is_bad:
            bad[position] = True
            if isinstance(value, str) and is_error_text(value):
                messages[position] = (f"{label} shows the spreadsheet error {value.strip()}; fix the formula "
                                      "or use TRUE or FALSE")
            else:
                messages[position] = (f"{label} must be TRUE or FALSE (also yes/no, y/n, 1/0 or a "
                                      f"checkbox); got {_quoted(value)}")
        else:
            flags[position] = flag
    return ColumnResult(values=pd.array(flags, dtype="boolean"), bad=bad, messages=messages)
