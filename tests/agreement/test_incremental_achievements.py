"""A later achievement run of the same day evaluates only the reps whose data changed since the
day's last run (``changed_since``). On generated rosters and corrections, the achievements it
leaves recorded, revoked and reinstated equal those of a run that evaluates every rep."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from jobs.achievements import detect_achievements
from models.rules.achievements import MonthState
from models.settings import Settings
from tests.fakes.job_store import FakeJobStore, JobData, Month, Rep

SETTINGS = Settings.model_validate({"timezone": "UTC", "goals": {"streak_milestones": [2, 3]}})
MONTHS = [(2026, month) for month in range(7, 12)]
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)

month_values = st.tuples(st.sampled_from([None, 0, 5, 10]), st.integers(min_value=0, max_value=12), st.booleans())
rosters = st.dictionaries(st.integers(min_value=1, max_value=4),
                          st.dictionaries(st.sampled_from(MONTHS), month_values, min_size=1), min_size=1)
corrections = st.lists(st.tuples(st.integers(min_value=1, max_value=4), st.sampled_from(MONTHS), month_values),
                       max_size=4)


def state(period: tuple[int, int], values: tuple[int | None, int, bool]) -> MonthState:
    goal, signups, lowered = values
    return MonthState(*period, signup_goal=goal, signups_actual=Decimal(signups), lowered_after_deadline=lowered,
                      bonus_tier=min(signups // 5, 3))


def recorded(store: FakeJobStore) -> dict[tuple[object, ...], bool]:
    return {row.achievement.key: row.revoked_at is not None for row in store.data.achievements.values()}


@given(rosters, st.lists(corrections, min_size=1, max_size=3))
def test_evaluating_only_changed_reps_records_what_evaluating_everyone_records(
        roster: dict[int, dict[tuple[int, int], tuple[int | None, int, bool]]],
        rounds: list[list[tuple[int, tuple[int, int], tuple[int | None, int, bool]]]]) -> None:
    data = JobData(reps={rep: Rep(rep, f"R{rep}", f"r{rep}@example.com") for rep in range(1, 5)})
    for rep, months in roster.items():
        for period, values in months.items():
            data.months[(rep, *period)] = Month(len(data.months) + 1, rep, state(period, values), stale=True)
    incremental = FakeJobStore(data)
    detect_achievements(incremental, SETTINGS, None, NOW)
    for number, changes in enumerate(rounds):
        for rep, period, values in changes:
            month = incremental.data.months.get((rep, *period))
            if month is None:
                month = incremental.data.months[(rep, *period)] = Month(len(incremental.data.months) + 1, rep,
                                                                         state(period, values))
            month.state, month.stale = state(period, values), True
        everyone = FakeJobStore(copy.deepcopy(incremental.data))
        since = datetime(2026, 11, 20, 8, number, tzinfo=UTC)
        detect_achievements(incremental, SETTINGS, None, NOW, changed_since=since)
        detect_achievements(everyone, SETTINGS, None, NOW)
        assert recorded(incremental) == recorded(everyone)
