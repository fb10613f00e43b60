"""The achievement job: record what reps have earned, once each, after every sync cycle.

The current and the previous month are evaluated (a goal met on a month's last
day is still caught on the 1st), with every earlier month as the streak
history. All seven types come from ``models.rules.achievements``; the database
keeps each one once (``uq_achievements_once``, ``ON CONFLICT DO NOTHING``), so
the job can run after every cycle, twice, or from two daemons at once. Older
months are deliberately not back-filled: announcing a two-year-old goal as news
would only be noise. One query loads the states, one statement inserts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from models import job_queries as q
from models.job_queries import AchievementRow, RepMonth
from models.rules.achievements import earned_achievements
from models.rules.periods import previous_month
from models.settings import GoalsSettings, Settings

if TYPE_CHECKING:
    from jobs.notifier import Notifier
    from models.store import Store

_YEARLY = ("yearly_signup_goal", "yearly_revenue_goal")


def evaluate(rows: Sequence[RepMonth], months: Sequence[tuple[int, int]], today: date,
             goals: GoalsSettings) -> list[AchievementRow]:
    """Every achievement held as of each of ``months`` by the reps in ``rows`` (sorted by rep),
    each key once, linked to its monthly or yearly goal row (pure)."""
    earned: dict[tuple[object, ...], AchievementRow] = {}
    for rep_id, group in itertools.groupby(rows, key=lambda row: row.rep_id):
        rep_rows = list(group)
        by_month = {(row.state.year, row.state.month): row for row in rep_rows}
        history = [row.state for row in rep_rows]
        for period in months:
            row = by_month.get(period)
            if row is None:
                continue
            for achievement in earned_achievements(
                rep_id, row.state, year_state=row.year_state, history=history,
                milestones=goals.streak_milestones, today=today, bonus=goals.bonus,
            ):
                if achievement.key in earned:
                    continue
                if achievement.achievement_type in _YEARLY:
                    earned[achievement.key] = AchievementRow(achievement, None, row.yearly_goal_id)
                else:
                    # A streak milestone belongs to the month the streak reached it.
                    home = by_month.get((achievement.achievement_year, achievement.achievement_month or 0), row)
                    earned[achievement.key] = AchievementRow(achievement, home.monthly_goal_id, None)
    return list(earned.values())


def detect_achievements(store: Store, settings: Settings, notifier: Notifier | None,
                        now: datetime) -> dict[str, int | str]:
    """Record every new achievement of the current and previous month. Returns counts: reps
    ``evaluated``, achievements ``held`` (already recorded or not) and ``new`` ones recorded."""
    del notifier  # announcing is the notify job's work, so a failed send never loses a record
    today = now.astimezone(settings.tz).date()
    current = (today.year, today.month)
    months = [previous_month(*current), current]
    with store.transaction(now) as tx:
        rows = q.achievement_states(tx, evaluate_from=months[0])
        earned = evaluate(rows, months, today, settings.goals)
        added = q.insert_achievements(tx, earned)
    reps = len({row.rep_id for row in rows})
    return {"evaluated": reps, "held": len(earned), "new": added}
