"""The demo workbook: a believable team, the same every time for the same date and seed."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from sync.demo_data import demo_workbook

TODAY = date(2026, 11, 17)
TABS = {
    "Reps": ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal",
             "Manager Email"],
    "Monthly Goals": ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    "Yearly Goals": ["Email", "Year", "Signup Goal", "Revenue Goal"],
    "Actuals": ["Email", "Year", "Month", "Signups", "Revenue"],
}
KEY_WIDTH = {"Reps": 1, "Monthly Goals": 3, "Yearly Goals": 2, "Actuals": 3}


@pytest.fixture(scope="module")
def workbook() -> dict[str, list[list[object]]]:
    return demo_workbook(TODAY)


def test_deterministic_for_a_date_and_seed(workbook: dict[str, list[list[object]]]) -> None:
    assert demo_workbook(TODAY) == workbook
    assert demo_workbook(TODAY, seed=8) != workbook


def test_default_tabs_and_headers(workbook: dict[str, list[list[object]]]) -> None:
    assert {tab: rows[0] for tab, rows in workbook.items()} == TABS


def test_twelve_reps_in_three_teams_one_inactive(workbook: dict[str, list[list[object]]]) -> None:
    reps = workbook["Reps"][1:]
    assert len(reps) == 12
    assert Counter(row[2] for row in reps) == {"Enterprise": 4, "Mid-Market": 4, "SMB": 4}
    assert [row[4] for row in reps].count(False) == 1
    assert all(str(row[0]).endswith("@example.com") and row[1] and row[3] for row in reps)
    assert all(isinstance(row[5], int) and 10 <= row[5] <= 30 for row in reps)


@pytest.mark.parametrize("tab", list(TABS))
def test_keys_unique_and_years_from_2024(workbook: dict[str, list[list[object]]], tab: str) -> None:
    keys = [tuple(str(v).strip().lower() for v in row[: KEY_WIDTH[tab]]) for row in workbook[tab][1:]]
    assert len(keys) == len(set(keys))
    if tab != "Reps":
        assert all(isinstance(row[1], int) and row[1] >= 2024 for row in workbook[tab][1:])


def test_two_years_of_history_up_to_this_month(workbook: dict[str, list[list[object]]]) -> None:
    months = sorted({(row[1], row[2]) for row in workbook["Actuals"][1:]})
    assert len(months) == 24
    assert months[0] == (2024, 12)
    assert months[-1] == (2026, 11)


def test_never_before_2024() -> None:
    early = demo_workbook(date(2024, 3, 5))
    months = sorted({(row[1], row[2]) for row in early["Actuals"][1:]})
    assert months == [(2024, 1), (2024, 2), (2024, 3)]
    with pytest.raises(ValueError, match="2024"):
        demo_workbook(date(2023, 12, 31))


def test_current_month_is_partly_done_with_one_goal_missing(workbook: dict[str, list[list[object]]]) -> None:
    goals = {row[0]: row[3] for row in workbook["Monthly Goals"][1:] if (row[1], row[2]) == (2026, 11)}
    actuals = {row[0]: row[3] for row in workbook["Actuals"][1:] if (row[1], row[2]) == (2026, 11)}
    active = {row[0] for row in workbook["Reps"][1:] if row[4]}
    assert set(actuals) == active
    assert len(active - set(goals)) == 1
    share = {email: actuals[email] / goals[email] / (17 / 30) for email in goals}  # type: ignore[operator]
    assert any(ratio >= 1.1 for ratio in share.values())
    assert any(ratio < 0.8 for ratio in share.values())


def test_half_credit_signups_and_revenue_with_cents(workbook: dict[str, list[list[object]]]) -> None:
    signups = [row[3] for row in workbook["Actuals"][1:]]
    revenue = [row[4] for row in workbook["Actuals"][1:]]
    assert any(float(v) % 1 == 0.5 for v in signups)  # type: ignore[arg-type]
    assert all(float(v) * 2 == int(float(v) * 2) for v in signups)  # type: ignore[arg-type]
    assert any(round(float(v) * 100) % 100 for v in revenue)  # type: ignore[arg-type]
    assert all(isinstance(row[3], int) and 10 <= row[3] <= 30 for row in workbook["Monthly Goals"][1:])
