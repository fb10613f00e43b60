"""The Summary, Leaderboard and Sync Errors tables, cell by cell, from hand-made standings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models.rules.deadlines import goal_deadline
from models.rules.sparkline import sparkline
from models.settings import GoalsSettings
from models.values import CycleStatus, Problem, RepStanding
from sheets.outputs import PACE_COLOURS, OutputTable
from sync.output_tables import content_fingerprint, errors_table, leaderboard_table, summary_table

BERLIN = ZoneInfo("Europe/Berlin")
GOALS = GoalsSettings()
NOV_17 = datetime(2026, 11, 17, 10, 0, tzinfo=BERLIN)
"""Day 17 of a 30-day month: expected 56.67 %, 13 days left."""
NOV_2 = datetime(2026, 11, 2, 10, 0, tzinfo=BERLIN)
"""Day 2: 6.67 % elapsed, below the 10 % minimum, so pace is not judged."""
DEADLINE = goal_deadline(2026, 11, 6, BERLIN)
SET_ON_TIME = datetime(2026, 11, 3, 9, 0, tzinfo=BERLIN)

SUMMARY_HEADER = (
    "Rep", "Email", "Team", "Signups", "Signup Goal", "Signup %", "Revenue", "Revenue Goal",
    "Revenue %", "Expected %", "Pace", "Bonus Tier", "Bonus Tier Goal", "Bonus", "Goal Status", "Days Left",
    "Needed/Day", "YTD Signups", "Yearly Signup Goal", "YTD Signup %", "YTD Revenue",
    "Yearly Revenue Goal", "YTD Revenue %", "Yearly Pace", "Streak", "Trend",
)


def standing(name: str = "Ann Lee", **overrides: Any) -> RepStanding:
    """A rep with a goal row set on time: 20 signups / $10,000 goals, nothing done yet."""
    values: dict[str, Any] = {
        "rep_id": 1,
        "name": name,
        "email": name.lower().replace(" ", ".") + "@example.com",
        "team": "Enterprise",
        "year": 2026,
        "month": 11,
        "has_goal_row": True,
        "signup_goal": 20,
        "signups": Decimal(0),
        "signup_pct": Decimal("0.00"),
        "revenue_goal": Decimal("10000.00"),
        "revenue": Decimal("0.00"),
        "revenue_pct": Decimal("0.00"),
        "bonus_tier_goal": 2,
        "bonus_tier": 0,
        "bonus_amount": Decimal("0.00"),
        "bonus_triggered": False,
        "deadline": DEADLINE,
        "goal_set_at": SET_ON_TIME,
        "set_by_deadline": True,
        "status": "active",
        "ytd_signups": Decimal(0),
        "yearly_signup_goal": 240,
        "ytd_signup_pct": Decimal("0.00"),
        "ytd_revenue": Decimal("0.00"),
        "yearly_revenue_goal": Decimal("120000.00"),
        "ytd_revenue_pct": Decimal("0.00"),
        "monthly_signup_target": Decimal("20.00"),
        "streak": 0,
        "trend": (),
    }
    values.update(overrides)
    return RepStanding(**values)


def summary(standings: list[RepStanding], now: datetime = NOV_17, status: CycleStatus | None = None,
            goals: GoalsSettings = GOALS) -> OutputTable:
    return summary_table(standings, now=now, goals=goals, status=status, tab="Summary", tz=BERLIN)


def as_dict(table: OutputTable, row: int = 0) -> dict[str, Any]:
    return dict(zip(table.header, table.rows[row], strict=True))


AHEAD = standing(
    "Ann Lee", signups=Decimal(14), signup_pct=Decimal("70.00"), revenue=Decimal("7250.50"),
    revenue_pct=Decimal("72.51"), bonus_tier=2, bonus_amount=Decimal("250.00"), bonus_triggered=True,
    ytd_signups=Decimal("220.0"), ytd_signup_pct=Decimal("91.67"), ytd_revenue=Decimal("101234.56"),
    ytd_revenue_pct=Decimal("84.36"), streak=3,
    trend=(Decimal(10), Decimal(20), None, Decimal(30)),
)
CRITICAL = standing(
    "Bob Stone", signups=Decimal("4.5"), signup_pct=Decimal("22.50"), revenue=Decimal("6000.00"),
    revenue_pct=Decimal("60.00"), ytd_signups=Decimal("219.5"),
)


def test_header_is_the_spec_columns_in_order() -> None:
    assert summary([]).header == SUMMARY_HEADER


def test_rep_ahead_row_exact_cells() -> None:
    row = as_dict(summary([AHEAD]))
    assert row == {
        "Rep": "Ann Lee",
        "Email": "ann.lee@example.com",
        "Team": "Enterprise",
        "Signups": 14,
        "Signup Goal": 20,
        "Signup %": 0.7,
        "Revenue": 7250.5,
        "Revenue Goal": 10000,
        "Revenue %": 0.7251,
        "Expected %": 0.5667,
        "Pace": "Ahead",
        "Bonus Tier": "Silver",
        "Bonus Tier Goal": "Silver",
        "Bonus": 250,
        "Goal Status": "complete",
        "Days Left": 13,
        "Needed/Day": 0.46,
        "YTD Signups": 220,
        "Yearly Signup Goal": 240,
        "YTD Signup %": 0.9167,
        "YTD Revenue": 101234.56,
        "Yearly Revenue Goal": 120000,
        "YTD Revenue %": 0.8436,
        "Yearly Pace": "On Pace",
        "Streak": 3,
        "Trend": sparkline(AHEAD.trend),
    }
    # The scale itself is the sparkline rule's business; here: lowest, gap, highest.
    assert row["Trend"][0] == "▁" and row["Trend"][2:] == " █"


def test_critical_rep_uses_the_weaker_metric_and_needs_more_per_day() -> None:
    row = as_dict(summary([CRITICAL]))
    assert row["Pace"] == "Critical"
    assert row["Signups"] == 4.5
    assert row["Signup %"] == 0.225
    assert row["Needed/Day"] == 1.19  # (20 - 4.5) / 13 = 1.1923
    assert row["Yearly Pace"] == "Behind Pace"  # 219.5 < 20 × 11
    assert row["Bonus Tier"] == "Rookie"
    assert row["Trend"] is None


@pytest.mark.parametrize(("signup_pct", "pace_text"), [
    ("62.34", "Ahead"),  # ratio 1.1001 (expected 17/30)
    ("56.67", "On track"),
    ("50.00", "Behind"),  # 0.8824
    ("45.00", "Critical"),  # 0.7941
])
def test_pace_text_per_indicator(signup_pct: str, pace_text: str) -> None:
    row = as_dict(summary([standing(signup_pct=Decimal(signup_pct), revenue_goal=None, revenue_pct=None)]))
    assert row["Pace"] == pace_text


def test_percent_fractions_are_exact_floats() -> None:
    row = as_dict(summary([standing(signup_pct=Decimal("85.32"), revenue_pct=Decimal("100.01"),
                                    ytd_signup_pct=Decimal("0.05"), ytd_revenue_pct=None)]))
    assert row["Signup %"] == 0.8532
    assert row["Revenue %"] == 1.0001
    assert row["YTD Signup %"] == 0.0005
    assert row["YTD Revenue %"] is None
    assert all(type(row[h]) is float for h in ("Signup %", "Revenue %", "YTD Signup %", "Expected %"))


def test_bonus_is_paid_only_when_triggered_and_the_tier_goal_is_shown() -> None:
    """Issue 11, item 4: Bronze reached with Silver as the goal pays nothing (the stored amount is
    the tier's, the trigger says whether it is paid)."""
    below_goal = standing("Below Goal", signups=Decimal("10.5"), bonus_tier=1, bonus_amount=Decimal("100.00"),
                          bonus_tier_goal=2, bonus_triggered=False)
    no_goal = standing("No Tier Goal", signups=Decimal(11), bonus_tier=2, bonus_amount=Decimal("250.00"),
                       bonus_tier_goal=None, bonus_triggered=True)
    table = summary([below_goal, no_goal])
    rows = {row["Rep"]: row for row in (as_dict(table, i) for i in range(2))}
    assert (rows["Below Goal"]["Bonus Tier"], rows["Below Goal"]["Bonus Tier Goal"], rows["Below Goal"]["Bonus"]) \
        == ("Bronze", "Silver", 0)
    assert (rows["No Tier Goal"]["Bonus Tier Goal"], rows["No Tier Goal"]["Bonus"]) == (None, 250)


def test_needed_per_day_is_blank_once_met_and_without_goal() -> None:
    met = standing("Met Goal", signups=Decimal(20), signup_pct=Decimal("100.00"))
    no_goal = standing("No Goal", signup_goal=None, signup_pct=None)
    table = summary([met, no_goal])
    assert as_dict(table, 0)["Needed/Day"] is None
    assert as_dict(table, 1)["Needed/Day"] is None


def test_needed_per_day_on_the_last_day_divides_by_one() -> None:
    row = as_dict(summary([standing(signups=Decimal("17.5"), signup_pct=Decimal("87.50"))],
                          now=datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)))
    assert row["Days Left"] == 0
    assert row["Needed/Day"] == 2.5


def test_too_early_on_the_second_and_goal_statuses_before_the_deadline() -> None:
    unset_row = standing("Default Row", goal_set_at=None, set_by_deadline=False)
    no_row = standing("No Row", has_goal_row=False, signup_goal=None, signup_pct=None,
                      revenue_goal=None, revenue_pct=None, goal_set_at=None, set_by_deadline=False)
    table = summary([standing("Early Bird"), unset_row, no_row], now=NOV_2)
    rows = {row["Rep"]: row for row in (as_dict(table, i) for i in range(3))}
    assert rows["Early Bird"]["Pace"] == "Too early"
    assert rows["Early Bird"]["Expected %"] == 0.0667
    assert rows["Early Bird"]["Days Left"] == 28
    assert rows["Early Bird"]["Goal Status"] == "complete"
    assert rows["Default Row"]["Goal Status"] == "pending"
    assert rows["No Row"]["Goal Status"] == "not_set"
    assert rows["No Row"]["Pace"] is None


def test_goal_status_overdue_after_the_deadline_whether_set_late_or_not_at_all() -> None:
    late = standing("Late Setter", goal_set_at=datetime(2026, 11, 8, 9, 0, tzinfo=BERLIN),
                    set_by_deadline=False)
    never = standing("Never Set", has_goal_row=False, signup_goal=None, signup_pct=None, revenue_goal=None,
                     revenue_pct=None, goal_set_at=None, set_by_deadline=False)
    table = summary([late, never])
    assert [as_dict(table, i)["Goal Status"] for i in range(2)] == ["overdue", "overdue"]
    assert as_dict(table, 1)["Pace"] is None


def test_sorted_by_team_then_name_case_insensitive_no_team_last() -> None:
    table = summary([
        standing("zoe Adams", team="SMB"),
        standing("Nobody Team", team=None),
        standing("Blank Team", team="  "),
        standing("Carl Diaz", team="enterprise"),
        standing("alice Brown", team="Enterprise"),
        standing("Mia Cole", team="Mid-Market"),
    ])
    assert [(row[2], row[0]) for row in table.rows] == [
        ("Enterprise", "alice Brown"),
        ("enterprise", "Carl Diaz"),
        ("Mid-Market", "Mia Cole"),
        ("SMB", "zoe Adams"),
        (None, "Blank Team"),
        (None, "Nobody Team"),
    ]


def test_formula_like_name_stays_that_text() -> None:
    row = as_dict(summary([standing('=IMPORTXML("x")', email="x@example.com", team="+team")]))
    assert row["Rep"] == '=IMPORTXML("x")'
    assert row["Team"] == "+team"


def test_cells_are_json_ready_and_empty_cells_are_none() -> None:
    blank = standing("Blank Rep", has_goal_row=False, signup_goal=None, signup_pct=None, revenue_goal=None,
                     revenue_pct=None, goal_set_at=None, set_by_deadline=False, yearly_signup_goal=None,
                     ytd_signup_pct=None, yearly_revenue_goal=None, ytd_revenue_pct=None,
                     monthly_signup_target=None, team=None)
    table = summary([AHEAD, CRITICAL, blank], status=CycleStatus(NOV_17, 10, 0, "success"))
    json.dumps([table.rows, table.side_block])
    row = as_dict(table, 2)
    for header in ("Team", "Signup Goal", "Signup %", "Revenue Goal", "Revenue %", "Pace", "Needed/Day",
                   "Yearly Signup Goal", "YTD Signup %", "Yearly Revenue Goal", "YTD Revenue %",
                   "Yearly Pace", "Trend"):
        assert row[header] is None, header


def test_layout_colours_pace_and_places_the_side_block_two_columns_right() -> None:
    layout = summary([]).layout
    assert layout.colour_column == "Pace"
    assert dict(layout.colours) == {"Ahead": PACE_COLOURS["ahead"], "On track": PACE_COLOURS["on_track"],
                                    "Behind": PACE_COLOURS["behind"], "Critical": PACE_COLOURS["critical"]}
    assert layout.side_block_column == 27  # column AB: one blank column after Trend (Z)
    assert layout.frozen_rows == 1
    kinds = {column.header: column.kind for column in layout.columns}
    assert {h for h, kind in kinds.items() if kind == "percent"} == {
        "Signup %", "Revenue %", "Expected %", "YTD Signup %", "YTD Revenue %"}
    assert kinds["Revenue"] == kinds["Bonus"] == kinds["YTD Revenue"] == "money"
    assert all(column.width >= 50 for column in layout.columns)


def test_side_block_shows_last_sync_in_company_time() -> None:
    status = CycleStatus(datetime(2026, 11, 17, 9, 0, tzinfo=UTC), rows_read=120, problems=3,
                         status="partial")
    assert summary([AHEAD], status=status).side_block == (
        ("Last change synced", "2026-11-17 10:00 CET"),
        ("Rows read", 120),
        ("Problems", "3 (see Sync Errors)"),
        ("Status", "partial"),
    )
    clean = CycleStatus(datetime(2026, 7, 1, 6, 5, tzinfo=UTC), rows_read=0, problems=0, status="success")
    assert summary([], status=clean).side_block[:3] == (
        ("Last change synced", "2026-07-01 08:05 CEST"), ("Rows read", 0), ("Problems", 0))
    assert summary([], status=None).side_block == ()


def test_content_fingerprint_ignores_only_the_sync_time() -> None:
    first = summary([AHEAD, CRITICAL], status=CycleStatus(NOV_17, 120, 0, "success"))
    later = summary([AHEAD, CRITICAL], status=CycleStatus(datetime(2026, 11, 17, 10, 1, tzinfo=BERLIN),
                                                          120, 0, "success"))
    assert first.side_block != later.side_block
    assert content_fingerprint(first) == content_fingerprint(later)

    changed_value = summary([AHEAD, standing("Bob Stone", signups=Decimal(5), signup_pct=Decimal("25.00"))],
                            status=CycleStatus(NOV_17, 120, 0, "success"))
    assert content_fingerprint(changed_value) != content_fingerprint(first)
    more_problems = summary([AHEAD, CRITICAL], status=CycleStatus(NOV_17, 120, 2, "partial"))
    assert content_fingerprint(more_problems) != content_fingerprint(first)


def test_business_calendar_changes_expected_share() -> None:
    # Tue 17 Nov 2026: 12 weekdays elapsed of 21 in November → 57.14 %.
    goals = GoalsSettings.model_validate({"pace": {"calendar": "business"}})
    assert as_dict(summary([AHEAD], goals=goals))["Expected %"] == 0.5714


def ranked(standings: list[RepStanding]) -> list[tuple[Any, ...]]:
    return [row[:2] for row in leaderboard_table(standings, goals=GOALS, tab="Leaderboard").rows]


def test_leaderboard_ties_share_a_rank_and_the_next_rank_skips() -> None:
    table = leaderboard_table([
        standing("Dana Fox", signup_pct=Decimal("50.00"), revenue_pct=Decimal("90.00")),
        standing("Carl Diaz", signup_pct=Decimal("80.00"), revenue_pct=Decimal("70.00")),
        standing("Ann Lee", signup_pct=Decimal("90.00"), revenue_pct=Decimal("10.00"), bonus_tier=3,
                 signups=Decimal("18.5"), revenue=Decimal("1000.00"), streak=4),
        standing("Bea Moss", signup_pct=Decimal("80.0"), revenue_pct=Decimal("70")),
    ], goals=GOALS, tab="Leaderboard")
    assert table.header == ("Rank", "Rep", "Team", "Signups", "Signup %", "Revenue", "Revenue %",
                            "Bonus Tier", "Streak")
    assert [row[:2] for row in table.rows] == [
        (1, "Ann Lee"), (2, "Bea Moss"), (2, "Carl Diaz"), (4, "Dana Fox")]
    assert table.rows[0] == (1, "Ann Lee", "Enterprise", 18.5, 0.9, 1000, 0.1, "Gold", 4)


def test_leaderboard_revenue_breaks_signup_ties_and_missing_percentages_rank_last() -> None:
    assert ranked([
        standing("No Goal", signup_pct=None, revenue_pct=None),
        standing("Low Revenue", signup_pct=Decimal("80.00"), revenue_pct=Decimal("10.00")),
        standing("High Revenue", signup_pct=Decimal("80.00"), revenue_pct=Decimal("95.00")),
        standing("Signups Only", signup_pct=Decimal("80.00"), revenue_pct=None),
    ]) == [(1, "High Revenue"), (2, "Low Revenue"), (3, "Signups Only"), (4, "No Goal")]


def test_errors_table_rows_and_header_only_when_clean() -> None:
    clean = errors_table([], tab="Sync Errors")
    assert clean.header == ("Tab", "Cell", "Email", "Value", "Problem")
    assert clean.rows == ()
    problem = Problem("Actuals", "Actuals!D7", "ann@example.com", "=1+1", "Signups must be a number")
    assert errors_table([problem], tab="Sync Errors").rows == (
        ("Actuals", "Actuals!D7", "ann@example.com", "=1+1", "Signups must be a number"),
    )


def test_errors_table_beyond_the_limit_starts_with_a_total_line() -> None:
    problem = Problem("Actuals", "Actuals!D7", "ann@example.com", "x", "Signups must be a number")
    table = errors_table([problem] * 3, tab="Sync Errors", more=470_546)
    assert len(table.rows) == 4
    assert table.rows[0][0] == "(all tabs)"
    assert table.rows[0][4].startswith("470,549 problems in all; only the first 3 are listed below")
    assert table.rows[1:] == (tuple(problem.as_row()),) * 3


@pytest.mark.parametrize("builder", ["summary", "leaderboard", "errors"])
def test_tab_name_is_the_configured_one(builder: str) -> None:
    table = {
        "summary": lambda: summary_table([], now=NOV_17, goals=GOALS, status=None, tab="Übersicht",
                                         tz=BERLIN),
        "leaderboard": lambda: leaderboard_table([], goals=GOALS, tab="Übersicht"),
        "errors": lambda: errors_table([], tab="Übersicht"),
    }[builder]()
    assert table.tab == "Übersicht"


def test_a_problem_made_printable_shows_control_characters_and_broken_pairs() -> None:
    problem = Problem("Reps", "Reps!B2", "ann@example.com", "Ann\x00\x1b[2J \ud83d", "got 'Ann\x00'")
    clean = problem.made_printable()
    assert clean.value == "Ann\u2400\u241b[2J \ufffd" and clean.problem == "got 'Ann\u2400'"
    assert clean.value.encode("utf-8")  # storable: no lone surrogate left
    fine = Problem("Reps", "Reps!B2", "ann@example.com", "Ann\tB\nC", "ok")
    assert fine.made_printable() is fine


CHART_TEAMS = """
from datetime import date
from models.history import ManagerHistory, closed_months
from models.settings import GoalsSettings
from sync.chart_tables import charts_table
from tests.output.test_output_tables import standing
reps = [standing("A", rep_id=1, team="smb"), standing("B", rep_id=2, team="SMB"),
        standing("C", rep_id=3, team="Enterprise")]
history = ManagerHistory(months=closed_months(2026, 11), rep_months=(), final_ranks=(), daily=())
table = charts_table(reps, history, goals=GoalsSettings(), tab="Charts", today=date(2026, 11, 17))
print(list(table.header))
"""


@pytest.mark.process
def test_teams_whose_names_differ_only_in_case_keep_one_column_order_in_every_process() -> None:
    # A set of team names iterates in another order under another hash seed (seed 5 puts "smb"
    # before "SMB"): the Charts tab must not reorder its columns from one cron run to the next.
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    here = {**os.environ, "PYTHONHASHSEED": "5", "PYTHONPATH": str(root)}
    other = subprocess.run([sys.executable, "-c", CHART_TEAMS], cwd=root, env=here, capture_output=True, text=True,
                           check=True).stdout
    namespace: dict[str, Any] = {}
    exec(CHART_TEAMS.replace("print(", "result = ("), namespace)  # the same code in this process
    assert other.strip() == str(namespace["result"])
    headers = namespace["result"]
    assert headers.index("Enterprise") < headers.index("SMB") < headers.index("smb")
