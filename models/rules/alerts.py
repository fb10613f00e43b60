"""Who gets a pace alert: a rep who has just turned critical, at most once a week.

Pure: the standings, yesterday's snapshot indicators, the reps already alerted this week,
the elapsed share of the month and the pace thresholds are passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from fractions import Fraction

from models.rules.teams import rep_pace
from models.settings import PaceSettings
from models.values import RepStanding


def turned_critical(standings: Sequence[RepStanding], *, yesterday: Mapping[int, str | None],
                    expected: Fraction, settings: PaceSettings) -> list[RepStanding]:
    """The reps whose pace is ``critical`` now (judged: past the too-early guard) and whose daily
    snapshot of yesterday did not say ``critical`` (no snapshot counts as not critical)."""
    return [standing for standing in standings
            if yesterday.get(standing.rep_id) != "critical"
            and (result := rep_pace(standing, expected=expected, settings=settings)) is not None
            and result.indicator == "critical"]


def reps_to_alert(standings: Sequence[RepStanding], *, yesterday: Mapping[int, str | None],
                  alerted_this_week: Collection[int], expected: Fraction,
                  settings: PaceSettings) -> list[RepStanding]:
    """The reps who get a new alert: turned critical, and not alerted yet this week (however often
    their pace swung since the week's first alert)."""
    return [standing for standing in turned_critical(standings, yesterday=yesterday, expected=expected,
                                                     settings=settings)
            if standing.rep_id not in alerted_this_week]
