"""Which recorded achievements still wait to be announced, and what reinstating one changes.

The database reads candidate ``goal_achievements`` rows (with their rep's ``is_active``) and
writes what these functions give; it decides nothing. The rules:

- **An achievement waits** while it is live (not revoked) and not yet recognized on every
  channel (``recognized`` false).
- **A correction waits** when an achievement was revoked after it had been announced on some
  channel (``recognition_type`` not empty) and the correction has not gone to those same
  channels yet (``correction_recognition_type`` differs from ``recognition_type``).
- **Pending** (what the notify job sends): waiting, of an active rep, and recent: earned (for a
  correction: revoked) on or after ``since`` (``notifications.max_age_days`` back), so
  turning notifications on never floods anyone with old news.
- **Reinstating** a revoked achievement lifts the revocation; one whose revocation was already
  announced (``correction_recognition_type`` not empty) is news again: it is dated ``today``,
  unrecognized and announced anew. A reinstated achievement otherwise keeps its date and its
  recognition. An achievement that is not revoked is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple


class AnnouncementState(NamedTuple):
    """What decides whether a ``goal_achievements`` row waits to be announced. ``revoked_on``: the
    date of ``revoked_at`` as the database session reads it (None when not revoked)."""

    rep_active: bool
    achievement_date: date
    revoked_on: date | None
    recognized: bool
    recognition_type: str | None
    correction_recognition_type: str | None


class RevokedState(NamedTuple):
    """A ``goal_achievements`` row as reinstating it reads it."""

    id: int
    revoked: bool
    recognized: bool
    recognition_type: str | None
    correction_recognition_type: str | None
    achievement_date: date


class Reinstatement(NamedTuple):
    """The values a reinstated achievement takes (its revocation and correction are cleared)."""

    id: int
    recognized: bool
    recognition_type: str | None
    achievement_date: date


def waits(state: AnnouncementState, *, correction: bool) -> bool:
    """True while the achievement (``correction``: its revocation) still has to go out somewhere;
    neither the rep nor the age is looked at (see ``pending``)."""
    if correction:
        return (state.revoked_on is not None and bool(state.recognition_type)
                and (state.correction_recognition_type or "") != state.recognition_type)
    return state.revoked_on is None and not state.recognized


def pending(state: AnnouncementState, *, correction: bool, since: date) -> bool:
    """True when the notify job announces it now: it waits, its rep is active, and it was earned
    (``correction``: revoked) on or after ``since``."""
    when = state.revoked_on if correction else state.achievement_date
    return state.rep_active and waits(state, correction=correction) and when is not None and when >= since


def any_pending(states: Iterable[AnnouncementState], *, since: date) -> bool:
    """True when an achievement or a correction is pending (``pending``)."""
    return any(pending(state, correction=correction, since=since)
               for state in states for correction in (False, True))


def reinstatements(rows: Iterable[RevokedState], today: date) -> list[Reinstatement]:
    """What reinstating each revoked row of ``rows`` writes; rows not revoked are left out."""
    result = []
    for row in rows:
        if not row.revoked:
            continue
        if row.correction_recognition_type:  # its withdrawal was announced: announce it again, as of today
            result.append(Reinstatement(row.id, False, None, today))
        else:
            result.append(Reinstatement(row.id, row.recognized, row.recognition_type, row.achievement_date))
    return result
