"""A daemon's next Summary and Leaderboard reuse unchanged rows, and never a stale one."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from models.settings import GoalsSettings
from models.values import RepStanding
from sync.output_tables import leaderboard_table, summary_table
from sync.reuse import RowMemo
from tests.output.test_output_tables import BERLIN, DEADLINE, GOALS, NOV_17, standing

Rows = list[tuple[object, ...]]
SUMMARY_MEMO, LEADERBOARD_MEMO = RowMemo(), RowMemo()
"""Shared by the calls of this module, as a daemon shares them between its cycles."""


def _summary(standings: list[RepStanding], now: datetime = NOV_17, goals: GoalsSettings = GOALS) -> Rows:
    return list(summary_table(standings, now=now, goals=goals, status=None, tab="Summary", tz=BERLIN,
                              memo=SUMMARY_MEMO).rows)


def _fresh_summary(standings: list[RepStanding], now: datetime = NOV_17,
                   goals: GoalsSettings = GOALS) -> Rows:
    return list(summary_table(standings, now=now, goals=goals, status=None, tab="Summary", tz=BERLIN).rows)


def test_a_changed_rep_gets_a_new_row_and_the_others_stay() -> None:
    ann, bob = standing("Ann Lee"), standing("Bob Ray", rep_id=2)
    before = _summary([ann, bob])
    bob_later = standing("Bob Ray", rep_id=2, signups=Decimal(12), signup_pct=Decimal("60.00"))
    after = _summary([ann, bob_later])
    assert after == _fresh_summary([ann, bob_later])
    assert after[0] == before[0] and after[1] != before[1]
    assert after[0] is before[0], "the unchanged rep's row was computed again instead of reused"


def test_the_next_day_and_the_deadline_change_rows_of_unchanged_reps() -> None:
    unset = standing("Cy Unset", goal_set_at=None, set_by_deadline=False)
    just_before = DEADLINE - timedelta(minutes=1)
    assert _summary([unset], now=just_before)[0][14] == "pending"
    assert _summary([unset], now=DEADLINE + timedelta(minutes=1))[0][14] == "overdue"
    day_17, day_18 = _summary([unset]), _summary([unset], now=NOV_17 + timedelta(days=1))
    assert day_17 != day_18
    assert day_18 == _fresh_summary([unset], now=NOV_17 + timedelta(days=1))


def test_changed_settings_rebuild_every_row() -> None:
    ann = standing("Ann Lee", signups=Decimal(7), signup_pct=Decimal("35.00"), revenue_goal=None,
                   revenue_pct=None)
    default = _summary([ann])
    lenient = GoalsSettings.model_validate({"pace": {"behind": "0.1", "on_track": "0.2", "ahead": "0.3"}})
    assert _summary([ann], goals=lenient) == _fresh_summary([ann], goals=lenient) != default


def test_leaderboard_follows_a_changed_rank() -> None:
    ann = standing("Ann Lee", signup_pct=Decimal("50.00"))
    bob = standing("Bob Ray", rep_id=2, signup_pct=Decimal("40.00"))
    first = leaderboard_table([ann, bob], goals=GOALS, tab="Leaderboard", memo=LEADERBOARD_MEMO).rows
    bob_ahead = standing("Bob Ray", rep_id=2, signup_pct=Decimal("70.00"))
    second = leaderboard_table([ann, bob_ahead], goals=GOALS, tab="Leaderboard", memo=LEADERBOARD_MEMO).rows
    assert [row[:2] for row in first] == [(1, "Ann Lee"), (2, "Bob Ray")]
    assert [row[:2] for row in second] == [(1, "Bob Ray"), (2, "Ann Lee")]


def test_a_single_use_memo_builds_every_row_and_keeps_nothing() -> None:
    """run --once has no next cycle: its memo neither looks up nor keeps (nor hashes) anything."""
    memo = RowMemo(remember=False)
    ann = standing("Ann Lee")
    first = summary_table([ann], now=NOV_17, goals=GOALS, status=None, tab="Summary", tz=BERLIN, memo=memo).rows
    again = summary_table([ann], now=NOV_17, goals=GOALS, status=None, tab="Summary", tz=BERLIN, memo=memo).rows
    assert first == again == tuple(_fresh_summary([ann]))
    assert first[0] is not again[0], "a single-use memo reused a row"
    assert memo._last == {}
