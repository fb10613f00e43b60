"""The achievement job's one-pass evaluation must give what the rules as written give.

``jobs.achievements.evaluate`` computes each rep's per-month facts once (completion, the streak
ending at each month: ``streaks_at``) and the year rows' achievements once per year, and calls
``month_achievements``. These property tests hold it equal, on generated histories, to the
evaluation it replaced (``_reference_evaluate`` below: ``earned_achievements`` for every evaluated
month with the rep's months as history, the months chosen as before), field by field and in the
same order (the order decides the ids the achievements get, and so the order they are announced
in); and the exact-number shortcut of ``goal_met`` / ``goal_is_set`` / ``is_complete`` equal to the
Fraction comparison it skips.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence, Set
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.achievements import Evaluation, Period, evaluate
from models.job_queries import AchievementRow, RepMonth
from models.rules.achievements import MonthState, YearState, earned_achievements, streak_ending, streaks_at
from models.rules.periods import month_index, shift_month
from models.rules.progress import goal_is_set, goal_met, is_complete
from models.settings import GoalsSettings
from tests.profiles import scaled

TODAY = date(2026, 11, 20)
RECENT = [(2026, 10), (2026, 11)]
FIRST = (2025, 1)
SPAN = 24  # months from FIRST to the current month
SET_AT = datetime(2026, 1, 2, 10, tzinfo=ZoneInfo("UTC"))

amounts = st.one_of(st.none(), st.integers(min_value=0, max_value=12), st.decimals(
    min_value=0, max_value=12, places=1))
actuals = st.decimals(min_value=0, max_value=14, places=1)


@st.composite
def month_states(draw: st.DrawFn, year: int, month: int) -> MonthState:
    signup_goal = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=12)))
    revenue_goal = draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=12, places=2)))
    on_time = draw(st.booleans())
    return MonthState(
        year, month, signup_goal, draw(actuals), revenue_goal, draw(actuals),
        signup_pct=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=150, places=2))),
        bonus_tier=draw(st.integers(min_value=0, max_value=4)), set_by_deadline=on_time,
        goal_set_at=SET_AT if on_time else None, lowered_after_deadline=draw(st.booleans()) and not on_time,
    )


@st.composite
def rep_histories(draw: st.DrawFn, rep_id: int) -> list[RepMonth]:
    """One rep's goal rows in month order: most months present and met, with gaps, misses, stale
    marks and a year row for some years."""
    rows = []
    years: dict[int, YearState | None] = {}
    for offset in range(SPAN):
        year, month = shift_month(*FIRST, offset)
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            continue  # a month without a goal row breaks a streak
        if draw(st.integers(min_value=0, max_value=3)) > 0:  # mostly a met month, so streaks grow
            state = MonthState(year, month, 10, Decimal(draw(st.integers(min_value=10, max_value=13))),
                               set_by_deadline=True, goal_set_at=SET_AT,
                               bonus_tier=draw(st.integers(min_value=0, max_value=3)))
        else:
            state = draw(month_states(year, month))
        if year not in years:
            years[year] = draw(st.one_of(st.none(), st.builds(
                YearState, st.just(year), st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
                st.decimals(min_value=0, max_value=140, places=1), st.one_of(st.none(), st.decimals(
                    min_value=0, max_value=100, places=2)), st.decimals(min_value=0, max_value=120, places=2))))
        year_state = years[year]
        rows.append(RepMonth(rep_id, rep_id * 100 + offset, state, year * 10 + rep_id if year_state else None,
                             year_state, stale=draw(st.integers(min_value=0, max_value=5)) == 0))
    return rows


def _reference_months(rep_rows: Sequence[RepMonth], recent: Sequence[tuple[int, int]],
                      recorded: Set[Period] | None) -> list[RepMonth]:
    stale = [month_index(row.state.year, row.state.month) for row in rep_rows if row.stale]
    first = min(stale, default=None)
    last_of_year = {row.state.year: row for row in rep_rows}

    def holds_recorded(row: RepMonth) -> bool:
        year, month = row.state.year, row.state.month
        return recorded is None or (row.rep_id, year, month) in recorded or (
            (row.rep_id, year, None) in recorded and last_of_year[year] is row)

    return [row for row in rep_rows
            if (row.state.year, row.state.month) in recent
            or (first is not None and month_index(row.state.year, row.state.month) >= first
                and holds_recorded(row))]


def _reference_evaluate(rows: Sequence[RepMonth], months: Sequence[tuple[int, int]], today: date,
                        goals: GoalsSettings, recorded: Set[Period] | None = None) -> Evaluation:
    """``jobs.achievements.evaluate`` as it was before the one-pass facts (commit da0377f)."""
    result = Evaluation()
    for rep_id, group in itertools.groupby(rows, key=lambda row: row.rep_id):
        rep_rows = list(group)
        by_month = {(row.state.year, row.state.month): row for row in rep_rows}
        history = [row.state for row in rep_rows]
        for row in _reference_months(rep_rows, months, recorded):
            period = (row.state.year, row.state.month)
            result.months[(rep_id, *period)] = row
            if row.year_state is not None:
                result.years[(rep_id, row.state.year)] = row
            for achievement in earned_achievements(
                rep_id, row.state, year_state=row.year_state, history=history,
                milestones=goals.streak_milestones, today=today, bonus=goals.bonus,
            ):
                if period in months:
                    result.earnable.add(achievement.key)
                if achievement.key in result.held:
                    continue
                if achievement.achievement_type in ("yearly_signup_goal", "yearly_revenue_goal"):
                    result.held[achievement.key] = AchievementRow(achievement, None, row.yearly_goal_id)
                else:
                    home = by_month.get((achievement.achievement_year, achievement.achievement_month or 0), row)
                    result.held[achievement.key] = AchievementRow(achievement, home.monthly_goal_id, None)
    return result


@st.composite
def evaluations(draw: st.DrawFn) -> tuple[list[RepMonth], set[Period] | None, GoalsSettings]:
    rows = [row for rep in range(1, draw(st.integers(min_value=1, max_value=4)) + 1)
            for row in draw(rep_histories(rep))]
    recorded: set[Period] | None = None
    if draw(st.booleans()):
        periods = [(row.rep_id, row.state.year, row.state.month) for row in rows]
        periods += [(row.rep_id, row.state.year, None) for row in rows]
        recorded = set(draw(st.lists(st.sampled_from(periods), max_size=30))) if periods else set()
    milestones = draw(st.lists(st.integers(min_value=1, max_value=26), min_size=1, max_size=5))
    goals = GoalsSettings.model_validate({"streak_milestones": milestones,
                                          "bonus": {"basis": draw(st.sampled_from(["signups", "percent"]))}})
    return rows, recorded, goals


def _as_lists(evaluation: Evaluation) -> tuple[object, ...]:
    return (list(evaluation.held.items()), sorted(evaluation.earnable, key=repr),
            list(evaluation.months.items()), list(evaluation.years.items()))


@settings(max_examples=scaled(300), deadline=None)
@given(case=evaluations())
def test_one_pass_evaluation_equals_the_rules_month_by_month(
        case: tuple[list[RepMonth], set[Period] | None, GoalsSettings]) -> None:
    rows, recorded, goals = case
    assert _as_lists(evaluate(rows, RECENT, TODAY, goals, recorded)) == _as_lists(
        _reference_evaluate(rows, RECENT, TODAY, goals, recorded))


@settings(max_examples=scaled(100), deadline=None)
@given(case=evaluations(), data=st.data())
def test_rows_out_of_month_order_or_repeated_give_the_rules_answer_too(
        case: tuple[list[RepMonth], set[Period] | None, GoalsSettings], data: st.DataObject) -> None:
    rows, recorded, goals = case
    rows = sorted(data.draw(st.permutations(rows)) + data.draw(st.lists(st.sampled_from(rows), max_size=3))
                  if rows else rows, key=lambda row: row.rep_id)
    assert _as_lists(evaluate(rows, RECENT, TODAY, goals, recorded)) == _as_lists(
        _reference_evaluate(rows, RECENT, TODAY, goals, recorded))


@settings(max_examples=scaled(300), deadline=None)
@given(history=rep_histories(1), data=st.data())
def test_streaks_at_equals_streak_ending(history: list[RepMonth], data: st.DataObject) -> None:
    states = [row.state for row in history]
    positions = data.draw(st.lists(st.integers(min_value=0, max_value=len(states) - 1))) if states else []
    assert streaks_at(states, positions) == {
        at: streak_ending(states, states[at].year, states[at].month) for at in positions}


numbers = st.one_of(st.none(), st.integers(min_value=-3, max_value=20),
                    st.decimals(min_value=-3, max_value=20, places=3, allow_nan=False),
                    st.fractions(min_value=-3, max_value=20, max_denominator=7),
                    st.floats(min_value=-3, max_value=20, allow_nan=False))


def _fraction_met(actual: object, goal: object) -> bool:
    if goal is None or Fraction(str(goal) if isinstance(goal, float) else goal) <= 0:  # type: ignore[arg-type]
        return False
    value = 0 if actual is None else actual
    return Fraction(str(value) if isinstance(value, float) else value) >= Fraction(  # type: ignore[arg-type]
        str(goal) if isinstance(goal, float) else goal)  # type: ignore[arg-type]


@settings(max_examples=scaled(500), deadline=None)
@given(signups=numbers, signup_goal=numbers, revenue=numbers, revenue_goal=numbers)
def test_exact_comparisons_without_fractions_equal_the_fraction_ones(
        signups: object, signup_goal: object, revenue: object, revenue_goal: object) -> None:
    for actual, goal in ((signups, signup_goal), (revenue, revenue_goal)):
        assert goal_met(actual, goal) == _fraction_met(actual, goal)  # type: ignore[arg-type]
        assert goal_is_set(goal) == _fraction_met(goal, goal)  # type: ignore[arg-type]
    signup_set, revenue_set = _fraction_met(signup_goal, signup_goal), _fraction_met(revenue_goal, revenue_goal)
    assert is_complete(signups, signup_goal, revenue, revenue_goal) == (  # type: ignore[arg-type]
        (signup_set or revenue_set) and (not signup_set or _fraction_met(signups, signup_goal))
        and (not revenue_set or _fraction_met(revenue, revenue_goal)))
