"""Achievements against the database: long streaks, breaks, and the months that are evaluated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from jobs.achievements import detect_achievements
from jobs.channels import ApprisePoster
from jobs.runner import AFTER_CYCLE, run_due
from models.rules.periods import shift_month
from models.settings import Settings
from models.store import Store
from sheets.xlsx import XlsxBackend
from tests.jobs.helpers import Book, rows
from tests.jobs.mailbox import TEAM_ADDRESS, Mailbox

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _history(store: Store, settings: Settings, months: dict[str, list[tuple[int, int, bool]]]) -> None:
    """Reps (by email) with monthly rows ``(year, month, met)``: goal 10, signups 10 or 4."""
    with store.transaction(NOW) as tx:
        tx.write_settings(settings)
        for email, history in months.items():
            rep = tx.connection.execute(text(
                "INSERT INTO sales_reps (email, name, monthly_signup_goal) VALUES (:e, :e, 10) RETURNING id"),
                {"e": email}).scalar_one()
            tx.connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, signups_actual,
                                               deadline, goal_set_at, set_by_deadline)
                VALUES (:rep, :year, :month, 10, :signups, make_timestamptz(:year, :month, 7, 0, 0, 0, 'UTC'),
                        make_timestamptz(:year, :month, 2, 0, 0, 0, 'UTC'), true)
            """), [{"rep": rep, "year": y, "month": m, "signups": 10 if met else 4} for y, m, met in history])
        tx.refresh_derived(settings, now=NOW, year=2026, month=11)  # past months not met become missed


def _months(start: tuple[int, int], count: int, *, missed: tuple[tuple[int, int], ...] = ()) -> list[
        tuple[int, int, bool]]:
    return [(*shift_month(*start, i), shift_month(*start, i) not in missed) for i in range(count)]


def test_streak_milestones_are_dated_where_the_streak_reached_them(jobs_settings: Callable[..., Settings],
                                                                    store: Store) -> None:
    settings = jobs_settings()
    _history(store, settings, {
        "long@example.com": _months((2025, 9), 15),  # met every month since September 2025
        "broken@example.com": _months((2026, 1), 11, missed=((2026, 5),)),  # a new streak since June
        "new@example.com": _months((2026, 10), 2),  # two months: no milestone yet
    })
    assert detect_achievements(store, settings, None, NOW)["new"] > 0
    milestones = rows(store, """
        SELECT r.email, a.milestone, a.achievement_year, a.achievement_month
        FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
        WHERE a.achievement_type = 'streak_milestone' ORDER BY 1, 2""")
    assert milestones == [
        ("broken@example.com", 3, 2026, 8), ("broken@example.com", 6, 2026, 11),
        ("long@example.com", 3, 2025, 11), ("long@example.com", 6, 2026, 2), ("long@example.com", 12, 2026, 8),
    ]
    # Only the current and previous month are evaluated: October and November goals, not older ones.
    monthly = rows(store, """
        SELECT DISTINCT achievement_year, achievement_month FROM goal_achievements
        WHERE achievement_type = 'monthly_signup_goal' ORDER BY 1, 2""")
    assert monthly == [(2026, 10), (2026, 11)]
    assert detect_achievements(store, settings, None, NOW)["new"] == 0


def test_a_tier_below_the_bonus_tier_goal_is_announced_without_a_bonus(
        jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox, workbook_path: Path) -> None:
    # Both reach tier 2 (Silver, 11 signups, $250); Ana's Bonus Tier Goal is Gold (3), Bo's is Silver (2).
    settings = jobs_settings(timezone="UTC", team=True, sheets={"xlsx_path": str(workbook_path)})
    book = Book(workbook_path, {
        "Reps": [["ana@example.com", "Ana Lima", "East", True, 10, None],
                 ["bo@example.com", "Bo Berg", "East", True, 10, None]],
        "Monthly Goals": [["ana@example.com", 2026, 11, 10, None, 3], ["bo@example.com", 2026, 11, 10, None, 2]],
        "Actuals": [["ana@example.com", 2026, 11, 12, None], ["bo@example.com", 2026, 11, 12, None]],
    })
    book.cycle(settings, store, NOW)
    outcomes = run_due(store, settings, ApprisePoster(settings.notifications), NOW, jobs=AFTER_CYCLE)
    assert all(outcome.status == "success" for outcome in outcomes), outcomes

    summary = XlsxBackend(workbook_path).read_tabs(["Summary"])["Summary"]
    assert summary is not None
    header = list(summary[0])
    bonus = {row[header.index("Email")]: row[header.index("Bonus")] for row in summary[1:]
             if row[header.index("Email")]}  # the side block's rows below have no rep
    assert bonus == {"ana@example.com": 0, "bo@example.com": 250}
    bodies = {mail.to: mail.body for mail in smtp.take()}
    ana, bo = bodies[("ana@example.com",)], bodies[("bo@example.com",)]
    assert ("You unlocked bonus tier 2 (Silver) for November 2026: the bonus pays from tier 3, "
            "your Bonus Tier Goal.") in ana
    assert "You unlocked bonus tier 1 (Bronze) for November 2026: the bonus pays from tier 3" in ana
    assert "$" not in ana  # no amount is promised below the goal
    assert "You unlocked bonus tier 2 (Silver) for November 2026: $250.00 bonus." in bo
    team = bodies[(TEAM_ADDRESS,)]
    assert ("Ana Lima unlocked bonus tier 2 (Silver) for November 2026: the bonus pays from tier 3, "
            "their Bonus Tier Goal") in team
    assert "Bo Berg unlocked bonus tier 2 (Silver) for November 2026: $250.00 bonus" in team
