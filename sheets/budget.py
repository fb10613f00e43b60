"""Google's cell limit per spreadsheet and how close one is to it: the one figure and the one
wording that ``check`` and the Summary side block both show."""

from __future__ import annotations

from dataclasses import dataclass

CELL_LIMIT = 10_000_000
"""Cells a Google spreadsheet may hold (every tab's rows × columns, empty cells included)."""
CELL_WARNING_FRACTION = 0.8
"""Above this share of ``CELL_LIMIT`` a warning says what to do."""
CELL_WARNING_ADVICE = ("delete unused tabs, rows and columns (empty cells count), or move the output tabs "
                       "to their own spreadsheet (sheets.summary_spreadsheet_id)")


@dataclass(frozen=True, slots=True)
class CellBudget:
    """How many of a spreadsheet's ``limit`` cells its tabs' grids take."""

    used: int
    limit: int = CELL_LIMIT

    def rounded(self, step: int = 1000) -> CellBudget:
        """The figure to the nearest ``step`` cells (half up), so that small changes read the same."""
        return CellBudget((self.used + step // 2) // step * step, self.limit)

    @property
    def percent(self) -> int:
        """Whole percent used, rounded down (never shows 80 % for 80.4 % while warning "above 80 %")."""
        return self.used * 100 // self.limit

    def figure(self) -> str:
        """``1,234,000 of 10,000,000 (12 %)``."""
        return f"{self.used:,} of {self.limit:,} ({self.percent} %)"

    def warning(self) -> str | None:
        """What to do when above ``CELL_WARNING_FRACTION`` of the limit, else None."""
        if self.used <= self.limit * CELL_WARNING_FRACTION:
            return None
        return (f"above {round(CELL_WARNING_FRACTION * 100)} % of Google's limit of {self.limit:,} cells: "
                f"{CELL_WARNING_ADVICE}")
