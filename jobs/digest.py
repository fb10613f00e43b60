"""The weekly digest job: one email per manager and one post per team channel, once per week.

Due at ``notifications.digest`` (weekday and time, company time zone) like every
scheduled job (``job_runs``, a job lock). Each recipient is claimed, sent and
marked in one transaction (``digest_deliveries``), so two daemons or a cron run
overlapping a daemon send each digest once, and a recipient whose send failed
is retried on the next turn (the run is recorded as failed, so it is due again)
without the others getting theirs twice.

Recipients: each rep's ``Manager Email`` (from the Reps tab); for a rep without
one, ``notifications.team_managers`` of the rep's team. A manager reads the
sections of every team one of their reps is in. Team channels:
``notifications.team_urls`` as a list gets one post with every team; as a map,
each team's URLs get that team's section. After downtime a digest is caught up
within a day of its moment, else skipped until the next week.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobs.digest_messages import NEXT_MONTH_FROM_DAY, DigestData, digest_message
from models import manager_queries as mq
from models.errors import NotifyError
from models.rules.pace import expected_fraction
from models.rules.teams import team_of, team_standings
from models.settings import Settings

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.store import Store

log = logging.getLogger("jobs.digest")

STALE_AFTER = timedelta(days=1)
"""A digest still unsent this long after its moment (the service was down) is skipped."""
CHANNELS = "team channels"
"""The recipient key of the one post to every URL of a ``team_urls`` list."""


def digest_moment(now: datetime, settings: Settings) -> datetime:
    """The latest digest moment at or before ``now`` (``jobs.runner.scheduled_moment`` of ``digest``)."""
    from jobs.runner import scheduled_moment

    return scheduled_moment("digest", now, settings)


def collect(store: Store, settings: Settings, now: datetime) -> DigestData:
    """What the digest of the moment due at ``now`` shows (one transaction, a fixed number of queries)."""
    moment = digest_moment(now, settings)
    today = moment.astimezone(settings.tz).date()
    expected = expected_fraction(today, settings.goals.pace.calendar, settings.goals.pace.holidays)
    with store.transaction(now) as tx:
        standings = tuple(tx.standings(settings, year=today.year, month=today.month))
        following = (today.year + today.month // 12, today.month % 12 + 1)
        next_set = (frozenset(mq.reps_with_goal_set(tx, year=following[0], month=following[1]))
                    if today.day >= NEXT_MONTH_FROM_DAY else None)
        achievements = tuple(mq.achievements_between(tx, today - timedelta(days=7), today - timedelta(days=1)))
        alerts = tuple(mq.pace_alerts_between(tx, moment - timedelta(days=7), moment))
    teams = tuple(team_standings(standings, expected=expected, settings=settings.goals.pace))
    return DigestData(today=today, expected=expected, standings=standings, teams=teams,
                      next_month_set=next_set, achievements=achievements, alerts=alerts)


def recipients(store: Store, settings: Settings, now: datetime, data: DigestData) -> dict[str, list[str]]:
    """Manager email → the teams of their digest (in the Team tab's order)."""
    with store.transaction(now) as tx:
        managers = mq.rep_managers(tx)
    notifications = settings.notifications
    wanted: dict[str, set[str]] = {}
    for standing in data.standings:
        team = team_of(standing)
        manager = managers.get(standing.rep_id)
        for email in [manager] if manager else notifications.managers_of_team(team):
            wanted.setdefault(email, set()).add(team)
    order = [team.team for team in data.teams]
    return {email: [team for team in order if team in teams] for email, teams in sorted(wanted.items())}


@dataclass(frozen=True)
class _Send:
    """One digest to deliver: to a manager (``email``) or to team channels (``team``: that team's
    URLs of a map; None: every URL of a list)."""

    recipient: str
    teams: list[str]
    email: str | None = None
    team: str | None = None


def _sends(store: Store, settings: Settings, notifier: Notifier, now: datetime, data: DigestData) -> list[_Send]:
    sends: list[_Send] = []
    if notifier.can_email:
        sends += [_Send(email, teams, email=email) for email, teams in recipients(store, settings, now, data).items()]
    if notifier.has_team:
        notifications = settings.notifications
        if isinstance(notifications.team_urls, tuple):
            sends.append(_Send(CHANNELS, [team.team for team in data.teams]))
        else:
            sends += [_Send(f"team:{team.team}", [team.team], team=team.team) for team in data.teams
                      if notifications.urls_for_team(team.team)]
    return sends


def send_digest(store: Store, settings: Settings, notifier: Notifier, now: datetime, *,
                stop: Callable[[], bool] | None = None) -> dict[str, int | str]:
    """Send the digest of the moment due at ``now`` to every manager and team channel that has not
    had it. Raises ``NotifyError`` (the run is then recorded as failed and retried) when a send failed."""
    counts: dict[str, int | str] = {"emails": 0, "team_posts": 0, "already_sent": 0, "failed": 0}
    if not settings.notifications.digest.enabled:
        return {**counts, "disabled": 1}
    moment = digest_moment(now, settings)
    if now - moment > STALE_AFTER:
        return {**counts, "stale": 1}  # a digest a day late is news no more (and a first start sends none)
    data = collect(store, settings, now)
    if not data.teams:
        return counts
    errors: list[str] = []
    for send in _sends(store, settings, notifier, now, data):
        if stop is not None and stop():
            break
        message = digest_message(send.teams, data, settings)
        with store.transaction(now) as tx:
            if not mq.claim_digest(tx, moment, send.recipient):
                counts["already_sent"] = int(counts["already_sent"]) + 1
                continue
            try:
                if send.email is not None:
                    notifier.send_to_rep(send.email, message.subject, message.body)
                else:
                    notifier.send_to_team(message.subject, message.body, team=send.team)
            except NotifyError as error:
                mq.mark_digest(tx, moment, send.recipient, sent_at=None, error=str(error))
                counts["failed"] = int(counts["failed"]) + 1
                errors.append(str(error))
                continue
            mq.mark_digest(tx, moment, send.recipient, sent_at=now, error=None)
        key = "emails" if send.email is not None else "team_posts"
        counts[key] = int(counts[key]) + 1
    if errors:
        raise NotifyError(f"{len(errors)} weekly digest(s) not sent, retried on the next turn: {errors[0]}")
    return counts
