"""Issue 11 from a sales manager's chair: a small workbook in, ``python -m sync run --once`` (as cron
runs it), and what the manager sees out: the Summary, the achievements, the emails.

Each test is one complaint of the audit (SPEC.md "Goal logic" settles each); see
docs/goal-rules.md for the rules and the decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from sheets.xlsx import XlsxBackend, create_workbook
from tests.cycle.conftest import run_cli
from tests.jobs.mailbox import Mailbox

HEADERS = {
    "Reps": ["Email", "Name", "Team", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
    "Monthly Goals": ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    "Yearly Goals": ["Email", "Year", "Signup Goal", "Revenue Goal"],
    "Actuals": ["Email", "Year", "Month", "Signups", "Revenue"],
}


class Manager:
    """One workbook, one database, one config: edit tabs, run cron's command, read what is shown."""

    def __init__(self, path: Path, config: Path, url: str) -> None:
        self.path, self.config, self.url = path, config, url
        self.tabs: dict[str, list[list[Any]]] = {name: [] for name in HEADERS}

    def put(self, tab: str, *rows: list[Any]) -> None:
        """Replace the rows whose key (email, year[, month]) matches, append the others; save."""
        width = 3 if tab in ("Monthly Goals", "Actuals") else 2 if tab == "Yearly Goals" else 1
        for row in rows:
            existing = [i for i, old in enumerate(self.tabs[tab]) if old[:width] == row[:width]]
            if existing:
                self.tabs[tab][existing[0]] = list(row)
            else:
                self.tabs[tab].append(list(row))
        create_workbook(self.path, {name: [HEADERS[name], *rows] for name, rows in self.tabs.items()})

    def run(self, now: str, *, config: Path | None = None) -> str:
        """``python -m sync run --once --now NOW``; returns its log. Fails the test on exit 1/2."""
        result = run_cli("run", "--once", "--now", now, config=config or self.config)
        assert result.returncode in (0, 3), result.stdout + result.stderr
        return result.stdout + result.stderr

    def summary(self) -> dict[str, dict[str, Any]]:
        """The Summary tab by email: header → value."""
        grid = XlsxBackend(self.path).read_tabs(["Summary"])["Summary"]
        assert grid is not None
        header = [h for h in grid[0] if h][: grid[0].index("Trend") + 1]
        return {row[1]: dict(zip(header, list(row) + [None] * len(header), strict=False))
                for row in grid[1:] if len(row) > 1 and row[1]}

    def errors(self) -> list[list[Any]]:
        """The Sync Errors rows (header left out)."""
        grid = XlsxBackend(self.path).read_tabs(["Sync Errors"])["Sync Errors"]
        assert grid is not None
        return [list(row) for row in grid[1:]]

    def query(self, sql: str, now: str | None = None, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql``; with ``now`` the views read that clock (as the cycle's do)."""
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as connection:
                if now is not None:
                    connection.execute(text("SELECT set_config('goals.now', :now, false)"), {"now": now})
                return [tuple(row) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def achievements(self, *, live: bool = True) -> list[tuple[Any, ...]]:
        """(type, year, month, tier, milestone) of the rep's achievements (not revoked when ``live``)."""
        where = "WHERE a.revoked_at IS NULL" if live else ""
        return self.query(f"""
            SELECT a.achievement_type, a.achievement_year, a.achievement_month, a.bonus_tier, a.milestone
            FROM goal_achievements a {where} ORDER BY 1, 2, 3, 4, 5""")


@pytest.fixture
def manager(tmp_path: Path, fresh_db_url: str, write_config: Callable[..., Path]) -> Callable[..., Manager]:
    """``manager(**config sections)`` → a Manager on a fresh database and workbook."""

    def build(**sections: Any) -> Manager:
        config = write_config(fresh_db_url, **sections)
        return Manager(tmp_path / "goals.xlsx", config, fresh_db_url)

    return build


ANA = "ana@example.com"


# ------------------------------------------------------------------------------------------ item 4


def test_bonus_shows_the_amount_only_when_the_bonus_triggers(manager: Callable[..., Manager]) -> None:
    book = manager()
    book.put("Reps", [ANA, "Ana Lima", "East", True, 20, None], ["bo@example.com", "Bo Berg", "East", True, 20, None])
    book.put("Monthly Goals", [ANA, 2026, 11, 20, None, 2], ["bo@example.com", 2026, 11, 20, None, 1])
    book.put("Actuals", [ANA, 2026, 11, 10.5, None], ["bo@example.com", 2026, 11, 10.5, None])
    book.run("2026-11-20T12:00")
    summary = book.summary()
    header = list(summary[ANA])
    assert header[header.index("Bonus Tier"):header.index("Bonus") + 1] == ["Bonus Tier", "Bonus Tier Goal", "Bonus"]
    ana, bo = summary[ANA], summary["bo@example.com"]
    # Bronze reached, Silver was the goal: nothing is paid, and the Summary says why.
    assert (ana["Bonus Tier"], ana["Bonus Tier Goal"], ana["Bonus"]) == ("Bronze", "Silver", 0)
    assert (bo["Bonus Tier"], bo["Bonus Tier Goal"], bo["Bonus"]) == ("Bronze", "Bronze", 100)
    assert book.query("SELECT bool_or(bonus_triggered) FILTER (WHERE bonus_tier_goal = 2) FROM rep_monthly_goals") \
        == [(False,)]


# ------------------------------------------------------------------------------------------ item 7


def test_pace_reads_as_a_managers_words(manager: Callable[..., Manager]) -> None:
    book = manager()
    reps = {"a@example.com": 14, "b@example.com": 10, "c@example.com": 8.5, "d@example.com": 2}
    book.put("Reps", *[[email, email[0].upper(), "East", True, 20, 240] for email in reps])
    book.put("Actuals", *[[email, 2026, 11, signups, None] for email, signups in reps.items()])
    book.run("2026-11-15T12:00")  # half the month: 10 of 20 is on track
    summary = book.summary()
    assert {email: summary[email]["Pace"] for email in reps} == {
        "a@example.com": "Ahead", "b@example.com": "On track", "c@example.com": "Behind",
        "d@example.com": "Critical"}
    # The yearly column keeps its own words, which never read like the monthly ones.
    assert {summary[email]["Yearly Pace"] for email in reps} <= {"On Pace", "Behind Pace"}
    # The database keeps its codes.
    assert sorted(book.query("SELECT health_status FROM v_current_month_goals",
                                 now="2026-11-15T12:00+00:00")) == [
        ("ahead",), ("behind",), ("critical",), ("on_track",)]
    book.run("2026-12-02T12:00")
    assert {row["Pace"] for row in book.summary().values()} == {"Too early"}


# ------------------------------------------------------------------------------------------ item 5


def test_turning_notifications_on_never_floods(manager: Callable[..., Manager], smtp: Mailbox,
                                               write_config: Callable[..., Path]) -> None:
    book = manager()
    book.put("Reps", [ANA, "Ana Lima", "East", True, 10, None])
    # October to March without any notification channel: achievements are recorded, not sent.
    for year, month in [(2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2), (2027, 3)]:
        book.put("Actuals", [ANA, year, month, 12, None])
        book.run(f"{year}-{month:02d}-20T12:00")
    assert len(book.query("SELECT 1 FROM goal_achievements")) >= 12
    # April: email is configured, and Ana meets April's goal.
    config = write_config(book.url, notifications={"email_url": smtp.url(), "max_age_days": 7})
    book.put("Actuals", [ANA, 2027, 4, 11, None])
    book.run("2027-04-10T12:00", config=config)
    mails = [mail for mail in smtp.take() if mail.subject.startswith("Congratulations")]  # not reminders
    assert len(mails) == 1, [mail.subject for mail in mails]
    assert "April 2027" in mails[0].body
    for old in ("October", "November", "December", "January", "February", "March"):
        assert old not in mails[0].body
    # The old ones stay recorded and unannounced; they are never sent later either.
    book.run("2027-04-10T13:00", config=config)
    assert [mail for mail in smtp.take() if mail.subject.startswith("Congratulations")] == []
    assert book.query("""SELECT count(*) FROM goal_achievements
                         WHERE NOT recognized AND achievement_date < DATE '2027-04-03'""")[0][0] >= 12


# ------------------------------------------------------------------------------------------ item 1


def test_a_goal_is_never_met_by_rounding(manager: Callable[..., Manager]) -> None:
    book = manager()
    bo = "bo@example.com"
    book.put("Reps", [ANA, "Ana Lima", "East", True, None, None], [bo, "Bo Berg", "East", True, None, None])
    book.put("Monthly Goals", [ANA, 2026, 11, None, 1_000_000, None], [bo, 2026, 11, None, 1000, None])
    book.put("Yearly Goals", [bo, 2026, None, 3000])
    book.put("Actuals", [ANA, 2026, 11, None, 999_950], [bo, 2026, 10, None, 1999.99], [bo, 2026, 11, None, 999.99])
    book.run("2026-11-03T12:00")
    summary = book.summary()
    assert summary[ANA]["Revenue %"] == 0.9999  # 99.995 %: shown as 99.99 %, never 100.00 %
    assert (summary[bo]["Revenue %"], summary[bo]["YTD Revenue %"]) == (0.9999, 0.9999)  # 999.99/1,000; 2,999.99/3,000
    assert book.query("SELECT DISTINCT status FROM rep_monthly_goals WHERE goal_month = 11") == [("active",)]
    assert book.query("SELECT status FROM rep_yearly_goals WHERE yearly_revenue_goal = 3000") == [("active",)]
    assert book.achievements() == []  # no monthly_revenue_goal, no perfect_month, no yearly goal

    book.put("Actuals", [ANA, 2026, 11, None, 1_000_000], [bo, 2026, 11, None, 1000.01])  # 3,000.00 this year
    book.run("2026-11-03T13:00")
    summary = book.summary()
    assert (summary[ANA]["Revenue %"], summary[bo]["YTD Revenue %"]) == (1.0, 1.0)
    kinds = [kind for kind, *_ in book.achievements()]
    assert kinds.count("monthly_revenue_goal") == 2 and kinds.count("perfect_month") == 2
    assert "yearly_revenue_goal" in kinds


# ------------------------------------------------------------------------------------------ item 2


def _history(book: Manager, email: str) -> None:
    """September and October met (goal 10, 10 signups): November can make a three-month streak."""
    book.put("Monthly Goals", [email, 2026, 9, 10, None, None], [email, 2026, 10, 10, None, None])
    book.put("Actuals", [email, 2026, 9, 10, None], [email, 2026, 10, 10, None])


def test_lowering_a_goal_after_the_deadline_counts_as_set_late(manager: Callable[..., Manager]) -> None:
    book = manager()
    book.put("Reps", [ANA, "Ana Lima", "East", True, None, None])
    _history(book, ANA)
    book.put("Monthly Goals", [ANA, 2026, 11, 20, None, None])  # set on the 3rd: on time
    book.put("Actuals", [ANA, 2026, 11, 6, None])
    book.run("2026-11-03T09:00")
    assert book.summary()[ANA]["Goal Status"] == "complete"
    book.put("Monthly Goals", [ANA, 2026, 11, 5, None, None])  # lowered on the 29th
    book.run("2026-11-29T09:00")
    ana = book.summary()[ANA]
    assert (ana["Signup Goal"], ana["Goal Status"]) == (5, "overdue")  # accepted, but the month counts as late
    assert ana["Streak"] == 2  # September and October; a sandbagged November earns no streak credit
    assert book.query("SELECT set_by_deadline, lowered_after_deadline, status FROM rep_monthly_goals "
                      "WHERE goal_month = 11") == [(False, True, "completed")]
    kinds = [kind for kind, *_ in book.achievements()]
    assert "monthly_signup_goal" in kinds  # 6 of 5 is met...
    assert "perfect_month" not in kinds and "streak_milestone" not in kinds  # ...but nothing more

    book.put("Monthly Goals", [ANA, 2026, 11, 20, None, None])  # raised back to the deadline's goal
    book.run("2026-11-29T10:00")
    assert book.summary()[ANA]["Goal Status"] == "complete"
    assert [kind for kind, *_ in book.achievements()].count("monthly_signup_goal") == 1  # revoked: 6 of 20


def test_raising_a_goal_after_the_deadline_is_fine(manager: Callable[..., Manager]) -> None:
    book = manager()
    book.put("Reps", [ANA, "Ana Lima", "East", True, None, None])
    book.put("Monthly Goals", [ANA, 2026, 11, 20, None, 1])
    book.put("Actuals", [ANA, 2026, 11, 25, None])
    book.run("2026-11-03T09:00")
    book.put("Monthly Goals", [ANA, 2026, 11, 22, None, 2])
    book.run("2026-11-20T09:00")
    assert book.summary()[ANA]["Goal Status"] == "complete"
    assert "perfect_month" in [kind for kind, *_ in book.achievements()]


def test_the_lock_freezes_a_roster_default_and_names_the_cell(manager: Callable[..., Manager]) -> None:
    book = manager(goals={"lock_after_deadline": True})
    bo = "bo@example.com"
    book.put("Reps", [ANA, "Ana Lima", "East", True, 20, None], [bo, "Bo Berg", "East", True, None, None])
    book.put("Actuals", [ANA, 2026, 11, 6, None])
    book.run("2026-11-03T09:00")  # Ana has the roster default of 20 in force at the deadline
    book.put("Monthly Goals", [ANA, 2026, 11, 5, None, 1], [bo, 2026, 11, 8, None, None])
    book.run("2026-11-29T09:00")
    ana, bob = book.summary()[ANA], book.summary()[bo]
    assert (ana["Signup Goal"], ana["Bonus Tier Goal"], ana["Goal Status"]) == (20, "Bronze", "overdue")
    assert (bob["Signup Goal"], bob["Goal Status"]) == (8, "overdue")  # no goal at all before: set late
    errors = {row[1]: row for row in book.errors()}
    assert set(errors) == {"Monthly Goals!D2"}  # the signup goal; the tier goal had no value to freeze
    assert errors["Monthly Goals!D2"][2:4] == [ANA, "5"]
    assert "locked after the deadline" in errors["Monthly Goals!D2"][4] and "20" in errors["Monthly Goals!D2"][4]
    assert book.query("SELECT signup_goal, goal_set_at IS NULL, status FROM rep_monthly_goals r "
                      "JOIN sales_reps s ON s.id = r.sales_rep_id WHERE s.email = :e", e=ANA) == [(20, True, "active")]
    assert "monthly_signup_goal" not in [kind for kind, *_ in book.achievements()]


# ------------------------------------------------------------------------------------------ item 3


def test_a_correction_revokes_what_it_removed_and_says_so_once(manager: Callable[..., Manager], smtp: Mailbox) -> None:
    book = manager(notifications={"email_url": smtp.url()})
    book.put("Reps", [ANA, "Ana Lima", "East", True, None, None])
    _history(book, ANA)
    book.put("Monthly Goals", [ANA, 2026, 11, 20, None, None])
    book.put("Actuals", [ANA, 2026, 11, 100, None])  # a typo: 100 signups
    book.run("2026-11-03T09:00")
    announced = [mail for mail in smtp.take() if mail.subject.startswith("Congratulations")]
    assert len(announced) == 1 and "$1,500.00" in announced[0].body
    assert book.summary()[ANA]["Streak"] == 3

    book.put("Actuals", [ANA, 2026, 11, 10, None])  # corrected an hour later
    book.run("2026-11-03T10:00")
    live = book.achievements()
    assert [(kind, tier) for kind, _y, month, tier, _m in live if month == 11] == [("bonus_tier_unlocked", 1)]
    revoked = book.query("""SELECT achievement_type, bonus_tier, revoked_reason FROM goal_achievements
                            WHERE revoked_at IS NOT NULL ORDER BY 1, 2""")
    assert [(kind, tier) for kind, tier, _ in revoked] == [
        ("bonus_tier_unlocked", 2), ("bonus_tier_unlocked", 3), ("bonus_tier_unlocked", 4),
        ("bonus_tier_unlocked", 5), ("bonus_tier_unlocked", 6), ("monthly_signup_goal", None),
        ("perfect_month", None), ("streak_milestone", None)]
    assert all(reason for *_, reason in revoked)
    assert "signups are now 10 of 20" in [reason for *_, reason in revoked]
    assert book.summary()[ANA]["Streak"] == 2  # recounted
    [correction] = smtp.take()
    assert correction.subject.startswith("Correction") and "withdrawn" in correction.body
    assert correction.body.count("- We said") == 8
    book.run("2026-11-03T11:00")
    assert smtp.take() == []  # announced once

    book.put("Actuals", [ANA, 2026, 11, 21, None])  # the real number is reached later: earned again
    book.run("2026-11-25T12:00")
    assert book.query("SELECT count(*) FROM goal_achievements WHERE revoked_at IS NOT NULL") == [(2,)]  # tiers 5-6
    [again] = [mail for mail in smtp.take() if mail.subject.startswith("Congratulations")]
    assert "signup goal" in again.body and "tier 4" in again.body and "tier 5" not in again.body


# ------------------------------------------------------------------------------------- decisions


def test_the_bonus_tier_goal_does_not_count_toward_every_goal_met(manager: Callable[..., Manager]) -> None:
    book = manager()
    book.put("Reps", [ANA, "Ana Lima", "East", True, None, None])
    _history(book, ANA)
    book.put("Monthly Goals", [ANA, 2026, 11, 10, None, 6])  # Elite as the tier goal
    book.put("Actuals", [ANA, 2026, 11, 12, None])  # Silver reached, the signup goal met
    book.run("2026-11-03T09:00")
    ana = book.summary()[ANA]
    assert (ana["Bonus Tier"], ana["Bonus Tier Goal"], ana["Bonus"], ana["Streak"]) == ("Silver", "Elite", 0, 3)
    assert book.query("SELECT status FROM rep_monthly_goals WHERE goal_month = 11") == [("completed",)]
    kinds = [kind for kind, *_ in book.achievements()]
    assert {"monthly_signup_goal", "perfect_month", "streak_milestone"} <= set(kinds)


def test_old_months_corrected_late_can_lose_but_never_earn(manager: Callable[..., Manager]) -> None:
    book = manager()
    bo = "bo@example.com"
    book.put("Reps", [ANA, "Ana Lima", "East", True, 10, None], [bo, "Bo Berg", "East", True, 10, None])
    book.put("Actuals", [ANA, 2026, 9, 12, None], [bo, 2026, 9, 4, None])
    book.run("2026-09-20T12:00")  # Ana met September; Bo did not
    assert [(kind, month) for kind, _y, month, *_ in book.achievements() if kind == "monthly_signup_goal"] == [
        ("monthly_signup_goal", 9)]
    book.put("Actuals", [ANA, 2026, 9, 8, None], [bo, 2026, 9, 11, None])  # both corrected in December
    book.run("2026-12-10T12:00")
    # Ana's September goal and Silver are taken back (8 signups is still Bronze); Bo's September
    # is not earned after the fact.
    assert book.achievements() == [("bonus_tier_unlocked", 2026, 9, 1, None)]
    [(reason,)] = book.query("SELECT revoked_reason FROM goal_achievements WHERE achievement_type = "
                             "'monthly_signup_goal'")
    assert reason == "signups are now 8 of 10"
    book.put("Actuals", [ANA, 2026, 9, 12, None])  # the correction was the mistake: reinstated
    book.run("2026-12-10T13:00")
    assert ("monthly_signup_goal", 2026, 9, None, None) in book.achievements()
    assert book.query("SELECT count(*) FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id "
                      "WHERE r.email = :e", e=bo) == [(0,)]
