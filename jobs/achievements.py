"""The achievement job: keep the achievement record equal to the data, after every sync cycle.

The current and the previous month are evaluated (a goal met on a month's last
day is still caught on the 1st), with every earlier month as the streak
history. All seven types come from ``models.rules.achievements``; the database
keeps each one once (``uq_achievements_once``, ``ON CONFLICT DO NOTHING``), so
the job can run after every cycle, twice, or from two daemons at once.

Corrections: a month whose goals or actuals changed since the job last looked
(a row in ``achievement_stale_months``, added by a trigger) is evaluated again, with every later
month of that rep (a streak runs through them). A recorded achievement of an
evaluated month that the rules no longer give is revoked (``revoked_at`` and a
reason; the row is kept), and a revoked one they give again is reinstated. Only the
current and previous month earn *new* achievements: a correction to an older month
can take an achievement back or restore it, never add one (announcing a goal from
two years ago as news would only be noise).

Later runs of the same day with the same goal settings evaluate only the reps whose data
changed since the day's last run (a stale month, their rep row or yearly goals): the others'
answers cannot have changed, so a cycle that changed 1 % of the actuals costs 1 % of a run.

Cost (issue 17): each rep is read from the streak break before the first month the job can
evaluate for it (``read_starts``; after a first load, when every month is stale and nothing is
recorded yet, that is the break before the previous month, not the rep's first month), the
stale marks come with the scope, and each rep's month facts (completion, the streak ending at
each month) are computed once (``models.rules.achievements.streaks_at``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from models.job_queries import AchievementRow, RecordedAchievement, RepMonth, StaleMark
from models.rules.achievements import (
    Achievement,
    AchievementKey,
    MonthState,
    Reconciliation,
    YearState,
    month_achievements,
    reconcile,
    revocation_reason,
    streak_ending,
    streaks_at,
    yearly_achievements,
)
from models.rules.periods import previous_month
from models.settings import GoalsSettings, Settings

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.ports import JobStore

_YEARLY = ("yearly_signup_goal", "yearly_revenue_goal")


@dataclass
class Evaluation:
    """What the evaluated months hold: every achievement (linked to its goal row), the keys that
    may be recorded for the first time, and which months and years were evaluated, per rep."""

    held: dict[AchievementKey, AchievementRow] = field(default_factory=dict)
    earnable: set[AchievementKey] = field(default_factory=set)
    months: dict[tuple[int, int, int], RepMonth] = field(default_factory=dict)
    years: dict[tuple[int, int], RepMonth] = field(default_factory=dict)

    def in_scope(self, achievement: Achievement) -> bool:
        """Whether the achievement's month (or year) was evaluated."""
        if achievement.achievement_month is None:
            return (achievement.sales_rep_id, achievement.achievement_year) in self.years
        return (achievement.sales_rep_id, achievement.achievement_year, achievement.achievement_month) in self.months


Period = tuple[int, int, int | None]
"""(rep, year, month) of a monthly achievement or a streak milestone; (rep, year, None) of a yearly one."""


def _months_of(rep_rows: Sequence[RepMonth], recent: Sequence[tuple[int, int]],
               recorded: Set[Period] | None, first: int | None) -> list[int]:
    """The positions in ``rep_rows`` of the rep's months to evaluate: the recent ones, and from its
    oldest stale month on (``first``, year × 12 + month), those that hold recorded achievements
    (``recorded``; every one when None): an older month can only lose or regain what it holds, so a
    month without any needs no evaluation."""
    if first is None:
        return [at for at, row in enumerate(rep_rows) if (row.state.year, row.state.month) in recent]
    last_of_year = {row.state.year: row for row in rep_rows}  # rows are in month order

    def holds_recorded(row: RepMonth) -> bool:
        year, month = row.state.year, row.state.month
        return recorded is None or (row.rep_id, year, month) in recorded or (
            (row.rep_id, year, None) in recorded and last_of_year[year] is row)

    return [at for at, row in enumerate(rep_rows)
            if (row.state.year, row.state.month) in recent
            or (row.state.year * 12 + row.state.month >= first and holds_recorded(row))]


def _streaks(states: Sequence[MonthState], positions: Sequence[int]) -> tuple[dict[int, int], bool]:
    """The streak ending with each evaluated month, each month's facts computed once; and whether
    ``states`` hold one state per month in month order (as the store reads them)."""
    try:
        return streaks_at(states, positions), True
    except ValueError:  # the rule exactly as ``earned_achievements`` applies it
        return {at: streak_ending([m for m in states if (m.year, m.month) != (states[at].year, states[at].month)]
                                  + [states[at]], states[at].year, states[at].month)
                for at in positions}, False


def first_stale(marks: Iterable[StaleMark]) -> dict[int, int]:
    """Each rep's oldest stale month (year × 12 + month)."""
    first: dict[int, int] = {}
    for mark in marks:
        index = mark.year * 12 + mark.month
        if index < first.get(mark.rep_id, index + 1):
            first[mark.rep_id] = index
    return first


def read_starts(first: Mapping[int, int], recorded: Set[Period],
                months: Sequence[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """For each rep with a stale month, the earliest month ``evaluate`` can choose for it when it
    is not a recent one (when one is: none), so the read starts there (with the streak history
    before it) instead of at the oldest stale month of any rep: a month at or after the rep's
    oldest stale month holding a recorded achievement (for a year's achievement, that year's
    last month, no earlier than January nor the stale month). After a first load every month is
    stale and nothing is recorded yet: each rep is then read from the break before the recent
    months, not from its first month."""
    recent = min(year * 12 + month for year, month in months)
    earliest: dict[int, int] = {}
    for rep, year, month in recorded:
        since = first.get(rep)
        if since is None:
            continue
        if month is not None:
            index = year * 12 + month
        elif year * 12 + 12 >= since:  # the year's last month may still be at or after the stale one
            index = max(since, year * 12 + 1)
        else:
            continue
        if since <= index < earliest.get(rep, recent):
            earliest[rep] = index
    return {rep: ((index - 1) // 12, (index - 1) % 12 + 1) for rep, index in earliest.items()}


def evaluate(rows: Sequence[RepMonth], months: Sequence[tuple[int, int]], today: date,
             goals: GoalsSettings, recorded: Set[Period] | None = None, *,
             stale_from: Mapping[int, int] | None = None) -> Evaluation:
    """Every achievement held as of each evaluated month by the reps in ``rows`` (sorted by rep),
    each key once, linked to its monthly or yearly goal row (pure). ``months`` are the recent
    months (current and previous): they earn; a rep's stale months are evaluated too, to revoke
    (only those holding ``recorded`` achievements when it is given). ``stale_from``: each rep's
    oldest stale month (``first_stale``) when ``rows`` need not hold it (read from ``read_starts``);
    by default the oldest of its rows marked ``stale``.

    The same as ``earned_achievements`` for each evaluated month with the rep's months as history
    (``tests/agreement/test_fast_achievements.py``), with the per-month facts (completion, the
    streak ending there) and the year rows' achievements computed once per rep."""
    result = Evaluation()
    milestones, bonus = goals.streak_milestones, goals.bonus
    for rep_id, group in itertools.groupby(rows, key=lambda row: row.rep_id):
        rep_rows = list(group)
        first = (min((row.state.year * 12 + row.state.month for row in rep_rows if row.stale), default=None)
                 if stale_from is None else stale_from.get(rep_id))
        chosen = _months_of(rep_rows, months, recorded, first)
        if not chosen:
            continue
        streaks, in_order = _streaks([row.state for row in rep_rows], chosen)
        by_month: dict[tuple[int, int], RepMonth] | None = None
        yearly: dict[YearState | None, list[Achievement]] = {}
        for at in chosen:
            row = rep_rows[at]
            period = (row.state.year, row.state.month)
            result.months[(rep_id, *period)] = row
            if row.year_state is not None:
                result.years[(rep_id, row.state.year)] = row
            if row.year_state not in yearly:
                yearly[row.year_state] = yearly_achievements(rep_id, row.year_state, today)
            earnable = period in months
            for achievement in month_achievements(
                rep_id, row.state, streak=streaks[at], yearly=yearly[row.year_state], milestones=milestones,
                today=today, bonus=bonus,
            ):
                key = achievement.key
                if earnable:
                    result.earnable.add(key)
                if key in result.held:
                    continue
                if achievement.achievement_type in _YEARLY:
                    result.held[key] = AchievementRow(achievement, None, row.yearly_goal_id)
                    continue
                home = row
                if achievement.achievement_type == "streak_milestone" or not in_order:
                    # A streak milestone belongs to the month the streak reached it.
                    if by_month is None:
                        by_month = {(r.state.year, r.state.month): r for r in rep_rows}
                    home = by_month.get((achievement.achievement_year, achievement.achievement_month or 0), row)
                result.held[key] = AchievementRow(achievement, home.monthly_goal_id, None)
    return result


def plan(evaluation: Evaluation, recorded: Sequence[RecordedAchievement], goals: GoalsSettings) -> Reconciliation:
    """New, revoked and reinstated achievements for what ``evaluate`` found (pure)."""

    def reason(achievement: Achievement) -> str:
        rep, year, month = achievement.sales_rep_id, achievement.achievement_year, achievement.achievement_month
        month_row = evaluation.months.get((rep, year, month)) if month is not None else None
        year_row = evaluation.years.get((rep, year))
        return revocation_reason(achievement, month_row.state if month_row else None,
                                 year_row.year_state if year_row else None, goals.bonus)

    return reconcile({key: row.achievement for key, row in evaluation.held.items()}, evaluation.earnable,
                     {row.achievement.key: row.revoked for row in recorded}, evaluation.in_scope, reason)


def detect_achievements(store: JobStore, settings: Settings, notifier: Notifier | None, now: datetime,
                        changed_since: datetime | None = None) -> dict[str, int | str]:
    """Record every new achievement of the current and previous month, revoke those a correction
    removed and reinstate those it restored. ``changed_since``: the data version the same day's
    last run evaluated with the same goal settings; only reps whose data changed after it are
    evaluated then (for the others that run's answer stands), every active rep otherwise.
    Returns counts: reps ``evaluated``, achievements ``held``, ``new`` ones recorded, ``revoked``
    and ``reinstated``."""
    del notifier  # announcing is the notify job's work, so a failed send never loses a record
    today = now.astimezone(settings.tz).date()
    current = (today.year, today.month)
    months = [previous_month(*current), current]
    with store.job_transaction(now) as tx:
        scope = tx.achievement_scope(changed_since=changed_since)
        if scope.reps is not None and not scope.reps:
            return {"evaluated": 0, "held": 0, "new": 0, "revoked": 0, "reinstated": 0}
        stale = scope.earliest_stale
        start = min(months[0], stale) if stale is not None else months[0]
        # What is recorded is read first, so the months read for it are never fewer than it needs.
        existing = tx.recorded_achievements(from_year=start[0], reps=scope.reps)
        periods = {(row.achievement.sales_rep_id, row.achievement.achievement_year, row.achievement.achievement_month)
                   for row in existing}
        stale_from = first_stale(scope.marks)
        rows = tx.achievement_states(evaluate_from=months[0], reps=scope.reps,
                                     starts=read_starts(stale_from, periods, months))
        evaluation = evaluate(rows, months, today, settings.goals, periods, stale_from=stale_from)
        changes = plan(evaluation, existing, settings.goals)
        recorded = {row.achievement.key: row.id for row in existing}
        added = tx.insert_achievements([evaluation.held[key] for key in changes.new])
        revoked = tx.revoke_achievements({recorded[key]: why for key, why in changes.revoke.items()}, now)
        reinstated = tx.reinstate_achievements([recorded[key] for key in changes.reinstate], today)
        tx.clear_stale(scope.marks)
    reps = len({row.rep_id for row in rows})
    return {"evaluated": reps, "held": len(evaluation.held), "new": added, "revoked": revoked,
            "reinstated": reinstated}
