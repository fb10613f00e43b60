"""The achievement job's one-pass evaluation must give what the rules as written give.

``jobs.achievements.evaluate`` computes each rep's per-month facts once (completion, the streak
ending at each month: ``streaks_at``) and the year rows' achievements once per year, and calls
``month_achievements``. These property tests hold it equal, on generated histories, to the
evaluation it replaced (``_reference_evaluate`` below: ``earned_achievements`` for every evaluated
month with the rep's months as history, the months chosen as before), field by field and in the
same order (the order decides the ids the achievements get, and so the order they are announced
in); and the exact-number shortcut of ``goal_met`` / ``goal_is_set`` / ``is_complete`` equal to the
Fraction comparison it skips; and, on PostgreSQL, the read that starts each rep at the first month
it can evaluate equal to the whole read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence, Set
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from jobs.achievements import Evaluation, Period, evaluate, first_stale, read_starts
from models.job_queries import AchievementRow, RepMonth, SqlJobTransaction
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


# --- the narrowed read -------------------------------------------------------------------------


@st.composite
def stored_histories(draw: st.DrawFn) -> list[tuple[int, int, int | None, Decimal, bool, bool, bool]]:
    """(rep, month offset, signup goal, signups, set by the deadline, lowered, still stale) per goal
    row of two or three reps; mostly met months, with misses and gaps."""
    rows = []
    for rep in range(draw(st.integers(min_value=2, max_value=3))):
        for offset in range(SPAN):
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                continue
            goal = draw(st.one_of(st.just(10), st.just(10), st.none()))
            signups = Decimal(draw(st.sampled_from([6, 10, 10, 11, 12])))
            rows.append((rep, offset, goal, signups, draw(st.booleans()), draw(st.integers(0, 9)) == 0,
                         draw(st.integers(0, 3)) == 0))
    return rows


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=stored_histories(), recorded_share=st.integers(min_value=0, max_value=4), data=st.data())
def test_a_read_from_each_reps_own_start_evaluates_what_the_whole_read_does(
        db_connection: Connection, history: list[tuple[int, int, int | None, Decimal, bool, bool, bool]],
        recorded_share: int, data: st.DataObject) -> None:
    """The job reads each rep from the break before the first month it can evaluate
    (``read_starts``), not from the oldest stale month of any rep: the same evaluation."""
    savepoint = db_connection.begin_nested()
    try:
        reps = [db_connection.execute(text(
            "INSERT INTO sales_reps (name, email) VALUES ('T', :email) RETURNING id"),
            {"email": f"t{n}@example.com"}).scalar_one() for n in range(3)]
        goal_ids = []
        for rep, offset, goal, signups, on_time, lowered, _ in history:
            year, month = shift_month(*FIRST, offset)
            goal_ids.append(db_connection.execute(text("""
                INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, signups_actual,
                                               deadline, goal_set_at, lowered_after_deadline)
                VALUES (:rep, :year, :month, :goal, :signups, :deadline, :set_at, :lowered) RETURNING id
            """), {"rep": reps[rep], "year": year, "month": month, "goal": goal, "signups": signups,
                   "deadline": date(year, month, 7), "set_at": SET_AT.replace(year=year, month=month) if on_time
                   else None, "lowered": lowered}).scalar_one())
        db_connection.execute(text("INSERT INTO rep_yearly_goals (sales_rep_id, goal_year, yearly_signup_goal) "
                                   "SELECT id, 2026, 100 FROM sales_reps WHERE id = ANY(:reps)"), {"reps": reps})
        kept = [goal_id for goal_id, row in zip(goal_ids, history, strict=True) if row[6]]
        db_connection.execute(text("DELETE FROM achievement_stale_months WHERE NOT monthly_goal_id = ANY(:ids)"),
                              {"ids": kept})
        for rep, offset, *_ in history:  # some months (and years) hold recorded achievements
            if data.draw(st.integers(min_value=0, max_value=9)) < recorded_share:
                year, month = shift_month(*FIRST, offset)
                yearly = data.draw(st.integers(min_value=0, max_value=3)) == 0  # the row's year's achievement
                db_connection.execute(text("""
                    INSERT INTO goal_achievements (sales_rep_id, achievement_type, achievement_date,
                                                   achievement_year, achievement_month)
                    VALUES (:rep, :kind, :day, :year, :month) ON CONFLICT DO NOTHING
                """), {"rep": reps[rep], "kind": "yearly_signup_goal" if yearly else "monthly_signup_goal",
                       "day": TODAY, "year": year, "month": None if yearly else month})
        goals = GoalsSettings.model_validate({"streak_milestones": [2, 3, 6, 12]})
        tx = SqlJobTransaction(db_connection)
        scope = tx.achievement_scope()
        start = min(RECENT[0], scope.earliest_stale) if scope.earliest_stale is not None else RECENT[0]
        periods = {(r.achievement.sales_rep_id, r.achievement.achievement_year, r.achievement.achievement_month)
                   for r in tx.recorded_achievements(from_year=start[0])}
        whole = evaluate(tx.achievement_states(evaluate_from=start), RECENT, TODAY, goals, periods)
        stale_from = first_stale(scope.marks)
        narrowed = tx.achievement_states(evaluate_from=RECENT[0], starts=read_starts(stale_from, periods, RECENT))
        assert _as_lists(evaluate(narrowed, RECENT, TODAY, goals, periods, stale_from=stale_from)) == _as_lists(whole)
    finally:
        savepoint.rollback()
