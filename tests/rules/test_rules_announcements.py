"""The announcement decisions of ``models.rules.announcements``: what waits, what is pending, reinstating."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from models.rules.announcements import (
    AnnouncementState,
    Reinstatement,
    RevokedState,
    any_pending,
    pending,
    reinstatements,
    waits,
)

TODAY = date(2026, 11, 20)
SINCE = date(2026, 11, 13)


def state(*, active: bool = True, earned: date = TODAY, revoked: date | None = None, recognized: bool = False,
          channels: str | None = None, corrected: str | None = None) -> AnnouncementState:
    return AnnouncementState(active, earned, revoked, recognized, channels, corrected)


def test_a_live_achievement_waits_until_recognized():
    assert waits(state(), correction=False)
    assert waits(state(channels="email"), correction=False)  # on one channel of two: recognized stays false
    assert not waits(state(recognized=True, channels="email+team"), correction=False)
    assert not waits(state(revoked=TODAY), correction=False)  # revoked: never announced as news


def test_a_correction_waits_only_where_the_achievement_was_announced():
    assert not waits(state(), correction=True)  # not revoked
    assert not waits(state(revoked=TODAY), correction=True)  # revoked before any announcement
    assert not waits(state(revoked=TODAY, channels=""), correction=True)
    assert waits(state(revoked=TODAY, channels="email", recognized=True), correction=True)
    assert waits(state(revoked=TODAY, channels="email+team", corrected="email"), correction=True)
    assert not waits(state(revoked=TODAY, channels="email+team", corrected="email+team"), correction=True)


def test_pending_needs_an_active_rep_and_a_recent_date():
    assert pending(state(earned=SINCE), correction=False, since=SINCE)  # the first day of the window counts
    assert not pending(state(earned=date(2026, 11, 12)), correction=False, since=SINCE)
    assert not pending(state(active=False), correction=False, since=SINCE)
    old_but_recently_revoked = state(earned=date(2026, 1, 5), revoked=TODAY, channels="team")
    assert pending(old_but_recently_revoked, correction=True, since=SINCE)
    assert not pending(old_but_recently_revoked._replace(revoked_on=date(2026, 11, 12)), correction=True, since=SINCE)


@given(st.lists(st.builds(AnnouncementState, st.booleans(), st.dates(), st.none() | st.dates(), st.booleans(),
                          st.sampled_from([None, "", "email", "team", "email+team"]),
                          st.sampled_from([None, "", "email", "team", "email+team"])), max_size=6), st.dates())
def test_any_pending_is_one_pending_achievement_or_correction(states: list[AnnouncementState], since: date) -> None:
    assert any_pending(states, since=since) == any(
        pending(s, correction=False, since=since) or pending(s, correction=True, since=since) for s in states)


def test_reinstating_keeps_the_recognition_unless_the_revocation_was_announced():
    earned = date(2026, 11, 2)
    rows = [RevokedState(1, True, True, "email", None, earned),
            RevokedState(2, True, True, "email+team", "email", earned),
            RevokedState(3, True, False, "email", "", earned),  # an empty correction was never announced
            RevokedState(4, False, True, "email", None, earned)]  # not revoked: left as it is
    assert reinstatements(rows, TODAY) == [Reinstatement(1, True, "email", earned),
                                           Reinstatement(2, False, None, TODAY),
                                           Reinstatement(3, False, "email", earned)]
