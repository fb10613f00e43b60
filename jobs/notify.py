"""The notify job: announce new achievements to the rep (email) and the team channel.

Each rep gets one email listing all their new achievements; the team channel
gets one post listing everyone's. An achievement's ``recognition_type`` records
the channels that have announced it (``email``, ``team``, ``email+team``) and
``recognized`` turns true once every configured channel has, so a channel that
failed is retried on the next run without repeating the ones that worked. The
rows are locked while they are being announced (``FOR UPDATE SKIP LOCKED``) and
marked in the transaction of the successful send, so two daemons never announce
the same achievement twice (a job lock also keeps a second announcer from
splitting one rep's email or the team post in two); a failed send changes nothing.

Only achievements earned within ``notifications.max_age_days`` (by their ``achievement_date``,
in the company time zone) are announced: configuring a channel in April never mails the
achievements of October to March; they stay recorded, unannounced.

An achievement that a later correction revoked after it was announced is announced
once more, as a correction, on the channels that announced it
(``correction_recognition_type`` records where it went).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from jobs.messages import achievement_message, correction_message, team_correction_message, team_message
from models.errors import NotifyError
from models.job_queries import Announcement
from models.rules.achievements import announced_since
from models.settings import Settings

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.ports import JobStore

log = logging.getLogger("jobs.notify")

EMAIL, TEAM = "email", "team"
MAX_FAILURES_IN_A_ROW = 3


def channels_of(recognition_type: str | None) -> frozenset[str]:
    """The channels an achievement was already announced on."""
    return frozenset(part for part in (recognition_type or "").split("+") if part)


def recognition(channels: frozenset[str], required: frozenset[str]) -> tuple[str, bool]:
    """``(recognition_type, recognized)`` after announcing on ``channels``."""
    ordered = [name for name in (EMAIL, TEAM) if name in channels]
    return "+".join(ordered), required <= channels


def required_channels(notifier: Notifier) -> frozenset[str]:
    """The channels configured for announcements."""
    return frozenset(name for name, on in ((EMAIL, notifier.can_email), (TEAM, notifier.has_team)) if on)


def announce(store: JobStore, settings: Settings, notifier: Notifier, now: datetime, *,
             stop: Callable[[], bool] | None = None) -> dict[str, int]:
    """Announce every unrecognized achievement of an active rep. Returns counts: ``emails`` and
    ``team_posts`` sent, ``announced`` achievements now fully recognized, ``failed`` sends, and
    ``corrections`` (revoked achievements announced as such)."""
    announcer = _Announcer(store, settings, notifier, now)
    if not announcer.required:
        return announcer.counts
    # One announcer at a time keeps each rep's achievements in one email and the team's in one post;
    # another process that is announcing right now will send what is pending.
    with store.job_lock("notify") as got:
        if not got:
            return {**announcer.counts, "skipped": 1}
        _announce_pending(announcer, stop if stop is not None else lambda: False)
    return announcer.counts


def _announce_pending(announcer: _Announcer, stopped: Callable[[], bool]) -> None:
    for correction in (False, True):
        with announcer.store.job_transaction(announcer.now) as tx:
            pending = tx.pending_announcements(earned_since=announcer.earned_since, correction=correction)
        if pending and EMAIL in announcer.required:
            failures = 0
            for _, group in itertools.groupby(pending, key=lambda item: item.rep_id):
                if stopped() or failures >= MAX_FAILURES_IN_A_ROW:
                    break
                sent = announcer.send([item for item in group if announcer.due(item, EMAIL, correction)], EMAIL,
                                      correction=correction)
                if sent is not None:
                    failures = 0 if sent else failures + 1
        if pending and TEAM in announcer.required and not stopped():
            announcer.send([item for item in pending if announcer.due(item, TEAM, correction)], TEAM,
                           correction=correction)


class _Announcer:
    """One run of the notify job: where to send, and what has been sent so far."""

    def __init__(self, store: JobStore, settings: Settings, notifier: Notifier, now: datetime) -> None:
        self.store, self.settings, self.notifier, self.now = store, settings, notifier, now
        self.required = required_channels(notifier)
        self.earned_since = announced_since(now.astimezone(settings.tz).date(),
                                            settings.notifications.max_age_days)
        self.counts: dict[str, int] = {"emails": 0, "team_posts": 0, "announced": 0, "failed": 0}

    def due(self, item: Announcement, channel: str, correction: bool) -> bool:
        """Whether ``item`` still has to go out on ``channel``: not yet sent there, and for a
        correction only where the achievement itself was announced (once each)."""
        if channel in channels_of(item.recognition_type):
            return False
        return not correction or channel in channels_of(item.announced_on)

    def send(self, items: Sequence[Announcement], channel: str, *, correction: bool = False) -> bool | None:
        """Claim ``items``, send one message on ``channel`` for those still due there, and record
        it; True when sent, False when the send failed, None when there was nothing to send."""
        if not items:
            return None
        with self.store.job_transaction(self.now) as tx:
            claimed = [item for item in tx.claim_announcements([item.id for item in items], correction=correction)
                       if self.due(item, channel, correction)]
            if not claimed:
                return None
            try:
                self._post(claimed, channel, correction)
            except NotifyError as error:
                self.counts["failed"] += 1
                log.warning("%d %s not announced by %s: %s", len(claimed),
                            "corrections" if correction else "achievements", channel, error)
                return False
            updates = {item.id: recognition(channels_of(item.recognition_type) | {channel}, self.required)
                       for item in claimed}
            tx.set_recognition(updates, correction=correction)
        self.counts["emails" if channel == EMAIL else "team_posts"] += 1
        if correction:
            self.counts["corrections"] = self.counts.get("corrections", 0) + len(claimed)
        else:
            self.counts["announced"] += sum(1 for _, done in updates.values() if done)
        return True

    def _post(self, claimed: Sequence[Announcement], channel: str, correction: bool) -> None:
        if channel == EMAIL:
            build = correction_message if correction else achievement_message
            message = build(claimed[0].rep_name, claimed, self.settings)
            self.notifier.send_to_rep(claimed[0].email, message.subject, message.body)
        else:
            message = (team_correction_message if correction else team_message)(claimed, self.settings)
            self.notifier.send_to_team(message.subject, message.body)
