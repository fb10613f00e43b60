"""The interface the sync cycle uses to talk to a spreadsheet, whatever it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sheets.budget import CellBudget
from sheets.outputs import Finish, OutputTable, RawGrid, TabWrite, WriteReport


class SpreadsheetBackend(Protocol):
    """A spreadsheet with input tabs to read and output tabs to (re)write."""

    def read_tabs(self, tabs: Sequence[str]) -> dict[str, RawGrid | None]:
        """Read every named input tab in one request; ``None`` for a tab that does not exist.

        Cells are unformatted: numbers as numbers (what a formula computes),
        booleans as booleans, errors as their text (``#REF!``), but a cell
        formatted as a date, time or duration as its text (``11/5/2026``), so
        a date is never read as a number; rows start at A1, trailing blanks trimmed.
        """
        ...

    def write_tabs(self, writes: Sequence[TabWrite], *, finish: Finish | None = None) -> WriteReport:
        """Write every given output tab: one values request, plus one formatting
        request when a tab is missing or ``apply_layout`` is set. ``finish``, when given, is
        called once the tabs exist, right before the values are sent, and returns the writes to send."""
        ...

    def cell_budget(self, tables: Sequence[OutputTable] = ()) -> CellBudget | None:
        """How many cells the output spreadsheet will hold once ``tables`` are written, from what the
        backend already knows (never a request of its own); None when unknown or without a limit."""
        ...

    def describe(self) -> str:
        """Where this backend points, for logs and ``check`` (no secrets)."""
        ...

    @property
    def request_count(self) -> int:
        """HTTP requests (or file reads/writes) made so far, for the log and benchmark."""
        ...

    @property
    def retry_count(self) -> int:
        """Requests repeated after a transient failure (429, 5xx, timeouts), for the metrics."""
        ...
