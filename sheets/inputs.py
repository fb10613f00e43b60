"""Typed input tabs: what ``sheets.parse`` hands to the sync cycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from models.values import Problem

if TYPE_CHECKING:  # only the parser builds frames: a cycle over an unchanged sheet never imports pandas
    import pandas as pd

InputKind = Literal["reps", "monthly_goals", "yearly_goals", "actuals"]
INPUT_KINDS: tuple[InputKind, ...] = ("reps", "monthly_goals", "yearly_goals", "actuals")

# Columns of each tab's DataFrame (besides ``row``, the 1-based sheet row).
# NA in a value column means "blank cell: keep the stored value".
FRAME_COLUMNS: Mapping[InputKind, tuple[str, ...]] = {
    "reps": ("email", "name", "team", "title", "is_active",
             "monthly_signup_goal", "yearly_signup_goal", "manager_email"),
    "monthly_goals": ("email", "year", "month", "signup_goal", "revenue_goal", "bonus_tier_goal"),
    "yearly_goals": ("email", "year", "signup_goal", "revenue_goal"),
    "actuals": ("email", "year", "month", "signups", "revenue"),
}
KEY_COLUMNS: Mapping[InputKind, tuple[str, ...]] = {
    "reps": ("email",),
    "monthly_goals": ("email", "year", "month"),
    "yearly_goals": ("email", "year"),
    "actuals": ("email", "year", "month"),
}


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def a1(tab: str, row: int, column_index: int) -> str:
    """An A1 reference with the tab name, e.g. ``Actuals!D7`` (row is 1-based)."""
    return f"{tab}!{column_letter(column_index)}{row}"


@dataclass(frozen=True)
class ParsedTab:
    """One input tab after validation.

    ``frame`` holds one row per accepted key (rows with a bad key or a
    duplicated key are dropped and reported); bad value cells are NA and
    reported. ``columns`` maps each field present to its 0-based column, so
    later checks can name the cell.
    """

    kind: InputKind
    title: str
    frame: pd.DataFrame
    columns: Mapping[str, int]

    def cell(self, row: int, field: str) -> str:
        """A1 reference of ``field`` on sheet row ``row``."""
        return a1(self.title, row, self.columns[field])


@dataclass(frozen=True)
class ParsedInputs:
    """Every input tab (``None`` when missing or unusable) and every problem found."""

    tabs: Mapping[InputKind, ParsedTab | None]
    problems: tuple[Problem, ...]
    rows_read: int
    more_problems: int = 0
    """Problems found beyond ``problems`` (counted, not written out: ``parse_inputs``' ``max_problems``)."""
