"""Plain aligned text tables for ``demo`` and ``status``: no dependency, no colour codes."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from decimal import ROUND_DOWN, Decimal

from sheets.outputs import OutputTable

_GAP = "  "
_MIN_WIDTH = 3

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters (ESC starts a terminal escape sequence) and the bidirectional
overrides that can make a terminal show text in another order than it is."""


def printable(text: str) -> str:
    """``text`` safe to print to a terminal: each control character shown as an escape (``\\x1b``),
    so a name typed as ``\\x1b]0;…`` or ``\\x1b[2J`` cannot retitle, clear or recolour the screen."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _format(value: object, *, percent: bool = False) -> str:
    """One cell as text; percent fractions (0.8532) become '85.3%'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if percent:
            # Cut, never rounded up: 0.9999 (99.99 %) reads 99.9%, never 100.0% (issue 11).
            tenths = (Decimal(repr(value)) * 100).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
            return f"{tenths}%"
        return _format_number(value)
    return printable(str(value))


def _is_numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _shrink(widths: list[int], max_width: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until the table fits (or can't shrink)."""
    widths = list(widths)
    total = sum(widths) + len(_GAP) * (len(widths) - 1)
    while total > max_width:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= _MIN_WIDTH:
            break
        widths[widest] -= 1
        total -= 1
    return widths


def _render(header: Sequence[str], cells: Sequence[Sequence[str]], right: Sequence[bool],
            max_width: int | None) -> str:
    widths = [len(title) for title in header]
    for row in cells:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], len(text))
    if max_width is not None and widths:
        widths = _shrink(widths, max_width)

    def line(texts: Sequence[str]) -> str:
        parts = [
            _fit(text, width).rjust(width) if align_right else _fit(text, width).ljust(width)
            for text, width, align_right in zip(texts, widths, right, strict=True)
        ]
        return _GAP.join(parts).rstrip()

    lines = [line(header), _GAP.join("-" * width for width in widths)]
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)


def _padded(row: Sequence[object], length: int) -> list[object]:
    return list(row[:length]) + [None] * (length - len(row))


def render_table(header: Sequence[str], rows: Sequence[Sequence[object]], *,
                 max_width: int | None = None,
                 percent_columns: Collection[str | int] = ()) -> str:
    """An aligned text table: header, a rule, one line per row; numbers right-aligned.

    ``percent_columns`` names columns (by header text or 0-based index) whose
    numbers are fractions to show as percents (0.8532 → '85.3%'). With
    ``max_width``, the widest columns are cut (ending in '…') until the table fits.
    """
    percent = {i for i, title in enumerate(header) if title in percent_columns or i in percent_columns}
    width = len(header)
    padded = [_padded(row, width) for row in rows]
    cells = [[_format(value, percent=i in percent) for i, value in enumerate(row)] for row in padded]
    right = [any(_is_numeric(row[i]) for row in padded) for i in range(width)]
    return _render(header, cells, right, max_width)


# Summary columns shown in the terminal, with shorter titles so names are not cut.
TERMINAL_COLUMNS = {"Rep": "Rep", "Team": "Team", "Signups": "Signups", "Signup Goal": "Goal",
                    "Signup %": "Signup %", "Revenue %": "Revenue %", "Expected %": "Expected",
                    "Pace": "Pace", "Bonus Tier": "Tier", "Goal Status": "Goals set", "Streak": "Streak"}


def summary_for_terminal(table: OutputTable) -> str:
    """The Summary's key columns as an aligned text table."""
    index = [table.header.index(name) for name in TERMINAL_COLUMNS]
    rows = [[row[i] for i in index] for row in table.rows]
    return render_table(list(TERMINAL_COLUMNS.values()), rows,
                        percent_columns={"Signup %", "Revenue %", "Expected"})
