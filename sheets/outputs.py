"""Output tables and their layout: plain values handed from the cycle to a backend."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Cell = str | int | float | bool | None
"""A raw cell value: what Sheets returns with UNFORMATTED_VALUE (None = empty)."""

RawGrid = list[list[Cell]]
"""Rows of a tab from A1 down, trailing empty cells and rows trimmed as Google does."""

SERIAL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of a spreadsheet date serial (Google Sheets and Excel agree from March 1900 on)."""


def to_serial(value: date | datetime) -> float:
    """A date or (naive or aware, wall-clock) datetime as a spreadsheet serial: days since day 0."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=None) - SERIAL_EPOCH).total_seconds() / 86400
    return float((value - SERIAL_EPOCH.date()).days)


ColumnKind = Literal["text", "int", "number", "money", "percent", "datetime"]

PACE_COLOURS: dict[str, str] = {
    "ahead": "#b7e1cd",  # green
    "on_track": "#d9ead3",  # light green
    "behind": "#fce8b2",  # amber
    "critical": "#f4c7c3",  # red
}
"""Background colour of a Pace cell by its text."""


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: header text, how numbers are shown, width in pixels."""

    header: str
    kind: ColumnKind = "text"
    width: int = 100


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """One line of a chart: the table column it reads (0-based), its colour, solid or dashed."""

    column: int
    colour: str
    """``#rrggbb``."""
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Chart:
    """A native line chart over columns of the tab's own table (header row = series names).

    The domain and every series read rows 1..``rows`` under the header row;
    the chart is placed with its top-left corner at (``anchor_row``, ``anchor_column``), 0-based.
    """

    title: str
    domain_column: int
    series: tuple[ChartSeries, ...]
    rows: int
    anchor_row: int
    anchor_column: int
    x_title: str = ""
    y_title: str = ""
    width: int = 640
    """Pixels."""
    height: int = 360
    y_percent: bool = False
    """The values are fractions shown as percentages (the axis says 80 %, not 0.8)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Everything about a tab that a formatting call sets (not the values)."""

    columns: tuple[Column, ...]
    frozen_rows: int = 1
    colour_column: str | None = None
    """Header of the column whose cells are coloured by ``colours`` (text → #rrggbb)."""
    colours: tuple[tuple[str, str], ...] = ()
    side_block_column: int | None = None
    """0-based column where a free-form side block (label/value pairs) starts."""
    bold_rows: tuple[int, ...] = ()
    """0-based rows below the header shown bold (titles and headers of a section under the table)."""
    charts: tuple[Chart, ...] = ()

    def fingerprint(self) -> str:
        """A stable hash: a changed fingerprint means the formatting call is needed."""
        extra = [list(self.bold_rows), [dataclasses.asdict(chart) for chart in self.charts]] \
            if self.bold_rows or self.charts else []  # tabs without them keep their old fingerprint
        payload = json.dumps(
            [[c.header, c.kind, c.width] for c in self.columns]
            + [self.frozen_rows, self.colour_column, list(self.colours), self.side_block_column]
            + extra
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class OutputTable:
    """A whole output tab: header row, data rows, an optional side block.

    Values are data, never formulas: a backend writes text starting with
    ``=``, ``+``, ``-`` or ``@`` as text.
    """

    tab: str
    layout: Layout
    rows: tuple[tuple[Cell, ...], ...]
    side_block: tuple[tuple[Cell, ...], ...] = field(default=())
    """Rows written from ``layout.side_block_column`` at row 1 (e.g. last sync status)."""

    @property
    def header(self) -> tuple[str, ...]:
        """The header row."""
        return tuple(c.header for c in self.layout.columns)

    def fingerprint(self) -> str:
        """A stable hash of the values (layout excluded)."""
        payload = json.dumps([self.header, self.rows, self.side_block], default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class TabWrite:
    """What to write to one tab in this cycle.

    ``clear_rows``/``clear_columns``: the size the tab had after the previous
    write, so a shorter table blanks what is left over. ``apply_layout``: the
    formatting call is needed (first write, or the layout changed).
    """

    table: OutputTable
    clear_rows: int = 0
    clear_columns: int = 0
    apply_layout: bool = False
    first_write: bool = False
    """Nothing was ever written to this tab by the service: it most likely does not exist yet."""
    keep_side_rows: int = 0
    """Side-block rows just below the table's own to leave as they are on the tab (not blanked):
    the cell budget written by an earlier process, while this one does not know it."""


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What a backend did, for the sync log and the benchmark."""

    value_calls: int
    format_calls: int
    tabs_created: tuple[str, ...] = ()


Finish = Callable[[], Sequence[TabWrite]]
"""Called by ``write_tabs`` right before the values are sent: the writes to send instead (same tabs
and layouts; the Summary's side block may now name the cell budget)."""
