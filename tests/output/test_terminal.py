"""The terminal tables printed by ``demo`` and ``status``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from models.rules.deadlines import goal_deadline
from models.settings import GoalsSettings
from models.values import RepStanding
from sync.output_tables import summary_table
from sync.terminal import render_table, summary_for_terminal

TZ = ZoneInfo("UTC")


def test_render_table_aligns_columns_and_formats_percent_fractions() -> None:
    text = render_table(
        ["Rep", "Signups", "Signup %", "Pace"],
        [["Ann Lee", 12.5, 0.8532, "ahead"], ["Bob", 3, None, None], ['=IMPORTXML("x")', 1234, 1.1, "behind"]],
        percent_columns={"Signup %"},
    )
    assert text.splitlines() == [
        "Rep              Signups  Signup %  Pace",
        "---------------  -------  --------  ------",
        "Ann Lee             12.5     85.3%  ahead",
        "Bob                    3",
        '=IMPORTXML("x")    1,234    110.0%  behind',
    ]


def test_percent_columns_by_index_and_short_rows_padded() -> None:
    text = render_table(["A", "B"], [[0.5], [1, 0.25]], percent_columns={1})
    assert text.splitlines()[2:] == ["0.5", "  1  25.0%"]


def test_max_width_cuts_the_widest_column() -> None:
    text = render_table(["Name", "N"], [["A very long name indeed", 1]], max_width=12)
    lines = text.splitlines()
    assert all(len(line) <= 12 for line in lines)
    assert lines[2] == "A very l…  1"


def _standing(index: int) -> RepStanding:
    return RepStanding(
        rep_id=index, name=f"Representative Number {index:02d}", email=f"rep{index}@example.com",
        team=["Enterprise", "Mid-Market", "SMB"][index % 3], year=2026, month=11, has_goal_row=True,
        signup_goal=20, signups=Decimal("12.5"), signup_pct=Decimal("62.50"),
        revenue_goal=Decimal("45000.00"), revenue=Decimal("31234.56"), revenue_pct=Decimal("69.41"),
        bonus_tier_goal=2, bonus_tier=2, bonus_amount=Decimal("250.00"), bonus_triggered=True,
        deadline=goal_deadline(2026, 11, 6, TZ), goal_set_at=None, set_by_deadline=False, status="active",
        ytd_signups=Decimal("200.5"), yearly_signup_goal=240, ytd_signup_pct=Decimal("83.54"),
        ytd_revenue=Decimal("456789.01"), yearly_revenue_goal=Decimal("540000.00"),
        ytd_revenue_pct=Decimal("84.59"), monthly_signup_target=Decimal("20.00"), streak=2,
        trend=tuple(Decimal(i * 5) for i in range(14)),
    )


def test_the_summary_in_the_terminal_shows_its_key_columns() -> None:
    table = summary_table([_standing(i) for i in range(12)], now=datetime(2026, 11, 17, tzinfo=TZ),
                          goals=GoalsSettings(), status=None, tab="Summary", tz=TZ)
    lines = summary_for_terminal(table).splitlines()
    assert len(lines) == 14
    assert lines[0].split() == ["Rep", "Team", "Signups", "Goal", "Signup", "%", "Revenue", "%", "Expected",
                                "Pace", "Tier", "Goals", "set", "Streak"]
    assert "62.5%" in lines[2] and "Silver" in lines[2] and "overdue" in lines[2]
