"""Plain values that cross package boundaries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One rejected cell, row or tab, as shown on the Sync Errors tab.

    ``cell`` is an A1 reference with the tab, e.g. ``Actuals!D7``; for a whole
    tab (missing tab, missing header) it is the tab name alone or the header
    row reference.
    """

    tab: str
    cell: str
    email: str
    value: str
    problem: str

    def as_row(self) -> list[str]:
        """The row written to the Sync Errors tab."""
        return [self.tab, self.cell, self.email, self.value, self.problem]
