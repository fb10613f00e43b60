"""The snapshot job: freeze each active rep's month at local midnight, for trends and history.

At (or after) local midnight the job snapshots the day that just ended, for
every active rep with a goal row in that day's month: a ``daily`` row, plus
``weekly`` when the day was a Sunday and ``monthly`` when it was the last day
of its month, and one ``leaderboard_snapshots`` row with the day's rank. Pace
is evaluated for that day with ``models.rules.pace``. Rows already present are
kept (``ON CONFLICT DO NOTHING``), so running it twice, or from two processes,
adds nothing the second time. A daemon that was down at midnight catches up the
previous day only: older days are never invented from today's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from models.job_queries import LeaderboardEntry, ProgressSnapshot, SnapshotSource
from models.rules.pace import days_left, expected_fraction, pace
from models.rules.periods import is_last_day_of_month, is_week_end
from models.rules.ranking import competition_ranks
from models.settings import PaceSettings, Settings

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.ports import JobStore


def day_ended(now: datetime, settings: Settings) -> date:
    """The local day whose snapshot is due at ``now``: yesterday in the company time zone."""
    return now.astimezone(settings.tz).date() - timedelta(days=1)


def snapshot_types(day: date) -> tuple[str, ...]:
    """``daily``, plus ``weekly`` on a Sunday and ``monthly`` on a month's last day."""
    kinds = ["daily"]
    if is_week_end(day):
        kinds.append("weekly")
    if is_last_day_of_month(day):
        kinds.append("monthly")
    return tuple(kinds)


def build_snapshots(sources: Sequence[SnapshotSource], day: date,
                    settings: PaceSettings) -> tuple[list[ProgressSnapshot], list[LeaderboardEntry]]:
    """The snapshot rows and leaderboard rows of ``day`` (pure)."""
    expected = expected_fraction(day, settings.calendar, settings.holidays)
    remaining = days_left(day)
    kinds = snapshot_types(day)
    progress: list[ProgressSnapshot] = []
    for source in sources:
        result = pace(source.signup_pct, source.signup_goal, source.revenue_pct, source.revenue_goal,
                      expected=expected, settings=settings)
        for kind in kinds:
            progress.append(ProgressSnapshot(
                sales_rep_id=source.rep_id, snapshot_date=day, snapshot_type=kind,
                monthly_goal_id=source.monthly_goal_id, signups_to_date=source.signups,
                signup_goal=source.signup_goal, signup_progress_percent=source.signup_pct,
                revenue_to_date=source.revenue, revenue_goal=source.revenue_goal,
                revenue_progress_percent=source.revenue_pct, bonus_tier=source.bonus_tier,
                days_remaining=remaining, on_pace=result.on_pace, pace_indicator=result.snapshot_indicator,
            ))
    # The same ranking as the Leaderboard tab: signup %, then revenue %, ties share a rank.
    ranks = competition_ranks([(source.signup_pct, source.revenue_pct) for source in sources])
    board = [
        LeaderboardEntry(snapshot_date=day, sales_rep_id=source.rep_id, rank=rank, signups=source.signups,
                         revenue=source.revenue, signup_progress_percent=source.signup_pct,
                         revenue_progress_percent=source.revenue_pct, bonus_tier=source.bonus_tier)
        for source, rank in zip(sources, ranks, strict=True)
    ]
    return progress, board


def take_snapshots(store: JobStore, settings: Settings, notifier: Notifier | None, now: datetime, *,
                   day: date | None = None) -> dict[str, int | str]:
    """Snapshot ``day`` (default: the local day that ended before ``now``). Returns counts of rows
    added: ``daily``, ``weekly``, ``monthly``, ``leaderboard``."""
    del notifier  # snapshots notify no one; the parameter keeps every job's signature alike
    day = day or day_ended(now, settings)
    with store.job_transaction(now) as tx:
        sources = tx.snapshot_sources(year=day.year, month=day.month)
        progress, board = build_snapshots(sources, day, settings.goals.pace)
        added = tx.insert_progress_snapshots(progress)
        ranked = tx.insert_leaderboard_snapshots(board)
    return {"day": day.isoformat(), **{kind: added.get(kind, 0) for kind in ("daily", "weekly", "monthly")},
            "leaderboard": ranked}
