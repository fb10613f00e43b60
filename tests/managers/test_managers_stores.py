"""The same fortnight of pace alerts and digests on the in-memory job store and on PostgreSQL:
the same emails, word for word, in the same order. The fake's reads (standings, yesterday's
pace, the week's alerts and achievements, who set next month's goals, Manager Emails) are
held to the SQL they stand in for.

Only the reps and their goal rows are seeded directly; snapshots, achievements (recorded and
revoked through the store's own writes), alerts and digests come from the jobs. A lower-case
name (``bo``) sorts after ``Cy`` and ``Eve`` in Python and in a ``C`` collation (the test
server's), before them in ``en_US`` (a production server's may be): the jobs order what they
send by rep id, date and email, never by the database's order of names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import text

from jobs.digest import send_digest
from jobs.pace_alerts import alert_pace
from jobs.snapshots import take_snapshots
from models.job_queries import AchievementRow
from models.ports import JobStore
from models.rules.achievements import Achievement, MonthState
from models.rules.deadlines import goal_deadline
from models.settings import Settings
from models.store import Store
from tests.fakes.job_store import FakeJobStore, JobData, Month, Rep
from tests.managers.test_managers_fast import MAX, MIA, Outbox

SETTINGS = Settings.model_validate({"timezone": "UTC", "notifications": {
    "email_url": "mailto://a:b@127.0.0.1:1", "pace_alerts": True, "team_managers": {"west": [MAX]},
    "digest": {"weekday": "Monday", "time": "08:00"}, "team_urls": {"East": ["json://127.0.0.1:1"]}}})
SET_AT = datetime(2026, 10, 30, tzinfo=UTC)
# name, email, team, Manager Email, November (goal, signups, Bonus Tier Goal), December goal set
REPS = [
    ("Ana", "ana@example.com", "East", MIA, (10, 6, 3), True),
    ("bo", "bo@example.com", "East", MIA, (20, 2, None), False),
    ("Cy", "cy@example.com", "West", None, (10, 1, None), False),
    ("Dee", "dee@example.com", None, None, (5, 1, None), False),
    ("Eve", "eve@example.com", "East", MIA, (10, 0, None), False),
]


def _fake() -> FakeJobStore:
    data = JobData()
    for rep_id, (name, email, team, manager, (goal, signups, tier_goal), december) in enumerate(REPS, start=1):
        data.reps[rep_id] = Rep(rep_id, name, email, team=team, manager_email=manager)
        data.months[(rep_id, 2026, 11)] = Month(rep_id, rep_id, MonthState(
            2026, 11, signup_goal=goal, signups_actual=Decimal(signups), goal_set_at=SET_AT, set_by_deadline=True),
            bonus_tier_goal=tier_goal)
        if december:
            data.months[(rep_id, 2026, 12)] = Month(100 + rep_id, rep_id, MonthState(
                2026, 12, signup_goal=goal, goal_set_at=SET_AT))
    return FakeJobStore(data)


def _sql(store: Store) -> Store:
    with store.transaction(SET_AT) as tx:
        tx.write_settings(SETTINGS)
        for number, (name, email, team, manager, (goal, signups, tier_goal), december) in enumerate(REPS, start=1):
            rep_id = tx.connection.execute(text("""
                INSERT INTO sales_reps (email, name, team, manager_email) VALUES (:email, :name, :team, :manager)
                RETURNING id"""), {"email": email, "name": name, "team": team, "manager": manager}).scalar_one()
            assert rep_id == number  # the fake's ids: the scenario names reps by id
            for month, actual in [(11, signups)] + ([(12, 0)] if december else []):
                tx.connection.execute(text("""
                    INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, signups_actual,
                                                   bonus_tier_goal, goal_set_at, deadline)
                    VALUES (:rep, 2026, :month, :goal, :actual, :tier_goal, :set_at, :deadline)"""),
                    {"rep": rep_id, "month": month, "goal": goal, "actual": actual,
                     "tier_goal": tier_goal if month == 11 else None, "set_at": SET_AT,
                     "deadline": goal_deadline(2026, month, SETTINGS.goals.deadline_day, SETTINGS.tz)})
    return store


def _fortnight(store: JobStore, deactivate: Callable[[str], None]) -> list[tuple[str, str, str]]:
    """Wednesday the 11th to Monday the 23rd: what every turn of the two jobs sent."""
    outbox = Outbox(has_team=True)
    alert_pace(store, SETTINGS, outbox, datetime(2026, 11, 11, 12, tzinfo=UTC))  # bo, Dee, Eve, Cy turn critical
    take_snapshots(store, SETTINGS, None, datetime(2026, 11, 12, 0, 5, tzinfo=UTC))
    alert_pace(store, SETTINGS, outbox, datetime(2026, 11, 12, 12, tzinfo=UTC))  # still critical: nothing
    day = date(2026, 11, 12)
    with store.job_transaction(datetime(2026, 11, 12, 12, tzinfo=UTC)) as tx:
        tx.insert_achievements([AchievementRow(Achievement(1, "bonus_tier_unlocked", 2026, 11, day, bonus_tier=tier,
                                                           bonus_amount=Decimal(100 * tier)), None, None)
                                for tier in (1, 3)]
                               + [AchievementRow(Achievement(3, "perfect_month", 2026, 11, day), None, None),
                                  AchievementRow(Achievement(5, "perfect_month", 2026, 11, day), None, None)])
        revoked = [r.id for r in tx.recorded_achievements(from_year=2026) if r.achievement.sales_rep_id == 3]
        tx.revoke_achievements({revoked[0]: "a correction"}, datetime(2026, 11, 13, tzinfo=UTC))
    deactivate("eve@example.com")  # Eve left: her achievement and alert drop out of the digest
    send_digest(store, SETTINGS, outbox, datetime(2026, 11, 16, 8, tzinfo=UTC))
    alert_pace(store, SETTINGS, outbox, datetime(2026, 11, 16, 12, tzinfo=UTC))  # a new week
    send_digest(store, SETTINGS, outbox, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    send_digest(store, SETTINGS, outbox, datetime(2026, 11, 23, 9, tzinfo=UTC))  # once per moment
    return outbox.sent


def _fake_fortnight() -> list[tuple[str, str, str]]:
    fake = _fake()

    def deactivate(email: str) -> None:
        next(rep for rep in fake.data.reps.values() if rep.email == email).active = False

    return _fortnight(fake, deactivate)


def test_the_fake_sends_what_it_should() -> None:
    sent = _fake_fortnight()
    assert [(to, subject) for to, subject, _ in sent] == [
        ("bo@example.com", "Your November goals: behind pace"),
        ("cy@example.com", "Your November goals: behind pace"),
        ("dee@example.com", "Your November goals: behind pace"),
        ("eve@example.com", "Your November goals: behind pace"),
        (MAX, "Weekly digest 16 November: West"),
        (MIA, "Weekly digest 16 November: East"),
        ("team:East", "Weekly digest 16 November: East"),
        ("bo@example.com", "Your November goals: behind pace"),
        ("cy@example.com", "Your November goals: behind pace"),
        ("dee@example.com", "Your November goals: behind pace"),
        (MAX, "Weekly digest 23 November: West"),
        (MIA, "Weekly digest 23 November: East"),
        ("team:East", "Weekly digest 23 November: East"),
    ]
    mia = sent[5][2]
    assert ("Achievements this week:\n"
            "  - Ana unlocked bonus tier 1 (Bronze) for November 2026: the bonus pays from tier 3, their Bonus Tier "
            "Goal\n  - Ana unlocked bonus tier 3 (Gold) for November 2026: $300.00 bonus\n"
            "Pace alerts this week:\n"
            "  - bo turned critical on Wednesday 11 November") in mia
    assert "Eve" not in mia and "Cy" not in sent[4][2].split("Achievements this week")[1].split("Pace alerts")[0]


def test_the_fake_and_postgresql_send_the_same_emails(store: Store) -> None:
    _sql(store)

    def deactivate(email: str) -> None:
        with store.transaction(datetime(2026, 11, 14, tzinfo=UTC)) as tx:
            tx.connection.execute(text("UPDATE sales_reps SET is_active = false WHERE email = :email"),
                                  {"email": email})

    assert _fortnight(store, deactivate) == _fake_fortnight()
    # What the two stores read back at the end agrees too, field by field.
    fake = _fake()
    _fortnight(fake, lambda email: setattr(fake.data.reps[5], "active", False))
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    with store.job_transaction(now) as sql_tx, fake.job_transaction(now) as fake_tx:
        sql_rows, fake_rows = (tx.standings(SETTINGS, year=2026, month=11) for tx in (sql_tx, fake_tx))
        assert [s.rep_id for s in sql_rows] == [s.rep_id for s in fake_rows]
        assert [{f.name: (getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
                 if getattr(a, f.name) != getattr(b, f.name)} for a, b in zip(sql_rows, fake_rows, strict=True)] \
            == [{}] * len(sql_rows)
        assert sql_tx.manager_emails() == fake_tx.manager_emails()
        assert sql_tx.goal_set_times(year=2026, month=12) == fake_tx.goal_set_times(year=2026, month=12)
        assert sql_tx.pace_indicators(date(2026, 11, 11)) == fake_tx.pace_indicators(date(2026, 11, 11))
        assert sql_tx.achievements_dated(date(2026, 11, 1), date(2026, 11, 30)) == \
            fake_tx.achievements_dated(date(2026, 11, 1), date(2026, 11, 30))
        assert sql_tx.pace_alerts_of_week(date(2026, 11, 16)) == fake_tx.pace_alerts_of_week(date(2026, 11, 16))
