"""Streaks and the seven achievement types, over plain snapshots of a rep's goal rows.

Each achievement carries exactly the values of its ``goal_achievements`` row. The
row's unique key (rep, type, year, month, bonus tier, milestone) is stable for
the same fact, so returning an achievement that is already recorded is harmless:
the insert dedupes on ``uq_achievements_once``. In particular a streak
milestone is dated by the month in which the streak *reached* it, so a 7-month
streak keeps returning the same "3" and "6" rows, while a new streak after a
break earns them again in its own months.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal, get_args

from models.rules._exact import Number
from models.rules.periods import month_index, shift_month
from models.rules.progress import goal_is_set, goal_met, is_complete, progress_percent
from models.rules.tiers import bonus_basis_value, tiers_unlocked
from models.settings import BonusSettings

AchievementType = Literal[
    "monthly_signup_goal",
    "monthly_revenue_goal",
    "yearly_signup_goal",
    "yearly_revenue_goal",
    "bonus_tier_unlocked",
    "streak_milestone",
    "perfect_month",
]
ACHIEVEMENT_TYPES: tuple[AchievementType, ...] = get_args(AchievementType)


def _percent(given: Number | None, actual: Number | None, goal: Number | None) -> Decimal | None:
    # The stored percent (from the trigger) wins; recompute only when the caller has none.
    if not goal_is_set(goal):
        return None
    if given is not None:
        return _decimal(given)
    return progress_percent(actual, goal)


def _decimal(value: Number | None) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Fraction):
        # Decimal() refuses a Fraction (1/3 has no exact decimal); the snapshots never hold one.
        raise TypeError("conversion from Fraction to Decimal is not supported")
    return Decimal(value)


class _Progress:
    """Signup and revenue progress of a goal row (monthly or yearly): the stored percent, or
    actual / goal when none is stored; None without that goal."""

    __slots__ = ()
    signup_goal: int | None
    signups_actual: Decimal
    revenue_goal: Decimal | None
    revenue_actual: Decimal
    signup_pct: Decimal | None
    revenue_pct: Decimal | None

    @property
    def signup_percent(self) -> Decimal | None:
        """Signup progress %, None without a signup goal."""
        return _percent(self.signup_pct, self.signups_actual, self.signup_goal)

    @property
    def revenue_percent(self) -> Decimal | None:
        """Revenue progress %, None without a revenue goal."""
        return _percent(self.revenue_pct, self.revenue_actual, self.revenue_goal)


@dataclass(frozen=True, slots=True)
class MonthState(_Progress):
    """One rep's monthly goal row, as far as the rules need it. Percents are 0-100+;
    when None they are computed from actual and goal like the trigger does."""

    year: int
    month: int
    signup_goal: int | None = None
    signups_actual: Decimal = Decimal(0)
    revenue_goal: Decimal | None = None
    revenue_actual: Decimal = Decimal(0)
    signup_pct: Decimal | None = None
    revenue_pct: Decimal | None = None
    bonus_tier: int = 0
    set_by_deadline: bool = False
    goal_set_at: datetime | None = None
    lowered_after_deadline: bool = False
    """A goal was lowered below the value in force at the deadline (then ``set_by_deadline`` is
    false too): the month earns no ``perfect_month`` and no streak credit."""

    @property
    def complete(self) -> bool:
        """At least one goal set and every set goal met: actual ≥ goal, exactly."""
        return is_complete(self.signups_actual, self.signup_goal, self.revenue_actual, self.revenue_goal)

    @property
    def counts_for_streak(self) -> bool:
        """Complete, with no goal lowered after the deadline (a sandbagged month breaks a streak)."""
        return self.complete and not self.lowered_after_deadline


@dataclass(frozen=True, slots=True)
class YearState(_Progress):
    """One rep's yearly goal row (actuals are the sums of the year's months)."""

    year: int
    signup_goal: int | None = None
    signups_actual: Decimal = Decimal(0)
    revenue_goal: Decimal | None = None
    revenue_actual: Decimal = Decimal(0)
    signup_pct: Decimal | None = None
    revenue_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Achievement:
    """One ``goal_achievements`` row's values (the store adds the goal ids and ``recognized``)."""

    sales_rep_id: int
    achievement_type: AchievementType
    achievement_year: int
    achievement_month: int | None
    achievement_date: date
    bonus_tier: int | None = None
    milestone: int | None = None
    goal_value: Decimal | None = None
    actual_value: Decimal | None = None
    percent_achieved: Decimal | None = None
    bonus_amount: Decimal | None = None

    @property
    def key(self) -> tuple[int, str, int, int | None, int | None, int | None]:
        """The row's unique key (``uq_achievements_once``)."""
        return (
            self.sales_rep_id,
            self.achievement_type,
            self.achievement_year,
            self.achievement_month,
            self.bonus_tier,
            self.milestone,
        )

    def as_row(self) -> dict[str, object]:
        """Column name → value for an insert into ``goal_achievements``."""
        return {
            "sales_rep_id": self.sales_rep_id,
            "achievement_type": self.achievement_type,
            "achievement_year": self.achievement_year,
            "achievement_month": self.achievement_month,
            "achievement_date": self.achievement_date,
            "bonus_tier": self.bonus_tier,
            "milestone": self.milestone,
            "goal_value": self.goal_value,
            "actual_value": self.actual_value,
            "percent_achieved": self.percent_achieved,
            "bonus_amount": self.bonus_amount,
        }


def streak_length(history_met: Sequence[bool]) -> int:
    """How many months at the end of ``history_met`` (oldest first) are met in a row."""
    count = 0
    for met in reversed(history_met):
        if not met:
            break
        count += 1
    return count


def _by_month(months: Iterable[MonthState]) -> dict[int, MonthState]:
    return {month_index(m.year, m.month): m for m in months}


def streak_ending(months: Iterable[MonthState], year: int, month: int) -> int:
    """Consecutive calendar months ending with ``(year, month)`` in which every set goal was met
    (and at least one was set), none lowered after its deadline. A month missing from ``months``
    breaks the streak."""
    indexed = _by_month(months)
    position = month_index(year, month)
    met: list[bool] = []
    while position in indexed and indexed[position].counts_for_streak:
        met.append(True)
        position -= 1
    return streak_length(met)


def summary_streak(months: Iterable[MonthState], year: int, month: int) -> int:
    """The streak the Summary shows for ``(year, month)``: ending this month when it already
    counts, else ending last month (a month in progress does not break the streak yet). Both by
    ``streak_ending``, the rule the milestones use."""
    indexed = list(months)
    current = streak_ending(indexed, year, month)
    if current:
        return current
    return streak_ending(indexed, *shift_month(year, month, -1))


def _goal_achievements(rep_id: int, state: _Progress, kinds: tuple[AchievementType, AchievementType], *,
                       year: int, month: int | None, today: date) -> list[Achievement]:
    """The signup-goal and revenue-goal achievements of one goal row (monthly or yearly)."""
    signup_kind, revenue_kind = kinds
    goals: tuple[tuple[AchievementType, Number | None, Decimal, Decimal | None], ...] = (
        (signup_kind, state.signup_goal, state.signups_actual, state.signup_percent),
        (revenue_kind, state.revenue_goal, state.revenue_actual, state.revenue_percent),
    )
    return [
        Achievement(rep_id, kind, year, month, today,
                    goal_value=_decimal(goal), actual_value=_decimal(actual), percent_achieved=pct)
        for kind, goal, actual, pct in goals
        if goal_met(actual, goal)
    ]


def _monthly_goal_achievements(rep_id: int, state: MonthState, today: date) -> list[Achievement]:
    return _goal_achievements(rep_id, state, ("monthly_signup_goal", "monthly_revenue_goal"),
                              year=state.year, month=state.month, today=today)


def _yearly_goal_achievements(rep_id: int, state: YearState | None, today: date) -> list[Achievement]:
    if state is None:
        return []
    return _goal_achievements(rep_id, state, ("yearly_signup_goal", "yearly_revenue_goal"),
                              year=state.year, month=None, today=today)


def _tier_achievements(
    rep_id: int, state: MonthState, bonus: BonusSettings, today: date
) -> list[Achievement]:
    top = min(state.bonus_tier, len(bonus.tiers) - 1)
    basis = _decimal(bonus_basis_value(state.signups_actual, state.signup_percent, bonus.basis))
    return [
        Achievement(
            rep_id, "bonus_tier_unlocked", state.year, state.month, today,
            bonus_tier=tier, goal_value=bonus.tiers[tier].threshold, actual_value=basis,
            percent_achieved=state.signup_percent, bonus_amount=bonus.tiers[tier].amount,
        )
        for tier in tiers_unlocked(top)
    ]


def streaks_at(months: Sequence[MonthState], positions: Iterable[int]) -> dict[int, int]:
    """The streak ending with each of ``months[p]`` for ``p`` in ``positions``: what
    ``streak_ending(months, m.year, m.month)`` gives for each, in one pass. ``months``: one
    rep's months, oldest first, one state per month (ValueError otherwise). Each month is
    looked at once at most, however many positions share its history."""
    indexes = [m.year * 12 + m.month for m in months]  # month_index's order and steps, inlined
    if any(later <= earlier for earlier, later in itertools.pairwise(indexes)):
        raise ValueError("months must be in month order, one state per month")
    known: dict[int, int] = {}
    for position in sorted(set(positions)):
        length, at = 0, position
        while True:
            if at in known:
                length += known[at]
                break
            if not months[at].counts_for_streak:
                break
            length += 1
            if at == 0 or indexes[at - 1] != indexes[at] - 1:  # a missing month breaks the streak
                break
            at -= 1
        known[position] = length
    return known


def _streak_achievements(
    rep_id: int, current: MonthState, length: int, milestones: Sequence[int], today: date
) -> list[Achievement]:
    start = shift_month(current.year, current.month, -(length - 1))
    earned = []
    for milestone in sorted({m for m in milestones if 0 < m <= length}):
        year, month = shift_month(*start, milestone - 1)  # the month the streak reached it
        earned.append(Achievement(rep_id, "streak_milestone", year, month, today, milestone=milestone))
    return earned


def _perfect_month(rep_id: int, state: MonthState, today: date) -> list[Achievement]:
    if not (state.set_by_deadline and state.counts_for_streak):
        return []
    goal: int | Decimal | None
    if goal_is_set(state.signup_goal):
        goal, actual, pct = state.signup_goal, state.signups_actual, state.signup_percent
    else:
        goal, actual, pct = state.revenue_goal, state.revenue_actual, state.revenue_percent
    return [Achievement(
        rep_id, "perfect_month", state.year, state.month, today,
        goal_value=_decimal(goal), actual_value=_decimal(actual), percent_achieved=pct,
    )]


def earned_achievements(
    rep_id: int,
    current: MonthState,
    *,
    year_state: YearState | None,
    history: Sequence[MonthState],
    milestones: Sequence[int],
    today: date,
    bonus: BonusSettings | None = None,
) -> list[Achievement]:
    """Every achievement the rep holds as of ``current`` (their month being evaluated).

    - ``monthly_signup_goal`` / ``monthly_revenue_goal``: that goal set (> 0) and actual ≥ goal;
    - ``yearly_signup_goal`` / ``yearly_revenue_goal``: likewise on ``year_state``;
    - ``bonus_tier_unlocked``: one per tier 1..``current.bonus_tier``, with that tier's amount;
    - ``streak_milestone``: each milestone ≤ the streak ending with ``current``, dated by the
      month the streak reached it (``history`` = the rep's other months, any order);
    - ``perfect_month``: set by the deadline (and not lowered since) and every set goal met.

    ``bonus`` gives tier thresholds, amounts and basis (default tiers when None).
    ``achievement_date`` is ``today``. Call it for the previous month as well
    early in a month, so a goal met on a month's last day is not missed.
    """
    months = [m for m in history if (m.year, m.month) != (current.year, current.month)] + [current]
    return month_achievements(
        rep_id, current, streak=streak_ending(months, current.year, current.month),
        yearly=_yearly_goal_achievements(rep_id, year_state, today), milestones=milestones, today=today,
        bonus=bonus,
    )


def yearly_achievements(rep_id: int, year_state: YearState | None, today: date) -> list[Achievement]:
    """The ``yearly_signup_goal`` / ``yearly_revenue_goal`` achievements ``year_state`` holds
    (none without it): the same for every month of that year."""
    return _yearly_goal_achievements(rep_id, year_state, today)


def month_achievements(
    rep_id: int,
    current: MonthState,
    *,
    streak: int,
    yearly: Sequence[Achievement],
    milestones: Sequence[int],
    today: date,
    bonus: BonusSettings | None = None,
) -> list[Achievement]:
    """``earned_achievements`` from facts computed once per rep: ``streak``, the streak ending
    with ``current`` (``streaks_at``), and ``yearly``, the achievements of ``current``'s year row
    (``yearly_achievements``). The same list, in the same order, for the same facts."""
    bonus = bonus if bonus is not None else BonusSettings()
    return [
        *_monthly_goal_achievements(rep_id, current, today),
        *yearly,
        *_tier_achievements(rep_id, current, bonus, today),
        *_streak_achievements(rep_id, current, streak, milestones, today),
        *_perfect_month(rep_id, current, today),
    ]


AchievementKey = tuple[int, str, int, int | None, int | None, int | None]


def announced_since(today: date, max_age_days: int) -> date:
    """The oldest ``achievement_date`` still announced on ``today`` (``notifications.max_age_days``):
    older achievements stay recorded and are never announced, so turning notifications on never
    floods anyone with old news."""
    return today - timedelta(days=max_age_days)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What the achievement record needs so that it matches the data: achievements to record,
    recorded ones to revoke (by key, with a reason) and revoked ones to reinstate."""

    new: tuple[AchievementKey, ...]
    revoke: dict[AchievementKey, str]
    reinstate: tuple[AchievementKey, ...]


def reconcile(
    held: Mapping[AchievementKey, Achievement],
    earnable: Set[AchievementKey],
    recorded: Mapping[AchievementKey, bool],
    in_scope: Callable[[Achievement], bool],
    reason: Callable[[Achievement], str],
) -> Reconciliation:
    """Compare what the rules say is held with what is recorded.

    ``held``: every achievement the evaluated months hold; ``earnable``: the keys among them that
    may be recorded for the first time (those of the current and previous month: a correction to
    an older month never earns anything new); ``recorded``: key → revoked?, for the recorded
    achievements; ``in_scope``: whether a recorded achievement's month (or year) was evaluated,
    so its absence from ``held`` means its basis is gone. A revoked achievement that is held
    again is reinstated, whatever its age (the correction is what was wrong).
    """
    new = tuple(key for key in held if key in earnable and key not in recorded)
    reinstate = tuple(key for key, revoked in recorded.items() if revoked and key in held)
    revoke = {}
    for key, revoked in recorded.items():
        if revoked or key in held:
            continue
        achievement = _from_key(key)
        if in_scope(achievement):
            revoke[key] = reason(achievement)
    return Reconciliation(new, revoke, reinstate)


def _from_key(key: AchievementKey) -> Achievement:
    rep, kind, year, month, tier, milestone = key
    return Achievement(rep, kind, year, month, date(year, month or 1, 1),  # type: ignore[arg-type]
                       bonus_tier=tier, milestone=milestone)


def revocation_reason(achievement: Achievement, month: MonthState | None, year: YearState | None,
                      bonus: BonusSettings) -> str:
    """Why a recorded achievement no longer holds, in a rep's words, from its period's state now."""
    kind = achievement.achievement_type
    if kind in ("monthly_signup_goal", "monthly_revenue_goal", "yearly_signup_goal", "yearly_revenue_goal"):
        state: _Progress | None = year if kind.startswith("yearly") else month
        if state is None:
            return "the goal row is gone"
        signups = kind.endswith("signup_goal")
        goal = state.signup_goal if signups else state.revenue_goal
        actual = state.signups_actual if signups else state.revenue_actual
        what = "signups" if signups else "revenue"
        if not goal_is_set(goal):
            return f"the {what} goal is no longer set"
        return f"{what} {'are' if signups else 'is'} now {_plain(actual)} of {_plain(goal)}"
    if month is None:
        return "the month's goal row is gone"
    if kind == "bonus_tier_unlocked":
        tier = achievement.bonus_tier or 0
        basis = "signup %" if bonus.basis == "percent" else "signups"
        value = bonus_basis_value(month.signups_actual, month.signup_percent, bonus.basis)
        return (f"{basis} are now {_plain(value)}, below tier {tier}'s threshold "
                f"{_plain(bonus.tiers[min(tier, len(bonus.tiers) - 1)].threshold)}")
    if kind == "perfect_month" and month.complete and not month.set_by_deadline:
        return "the goals count as set late (set after the deadline, or lowered after it)"
    if kind == "perfect_month":
        return "not every goal is met any more"
    return f"a month of the {achievement.milestone}-month streak no longer counts"


def _plain(value: Number | None) -> str:
    if value is None:
        return "-"
    number = _decimal(value)
    assert number is not None
    return f"{number.normalize():,f}" if number != number.to_integral_value() else f"{int(number):,}"
