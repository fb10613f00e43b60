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

The store only reads and writes (``models.ports.JobTransaction``): which week's
achievements and alerts count, who has set next month's goals and who gets which
teams are decided here, by pure functions of what it read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from jobs.digest_messages import NEXT_MONTH_FROM_DAY, DigestData, digest_message
from models.errors import NotifyError
from models.job_queries import Announcement, DatedAchievement, PaceAlert
from models.rules.pace import expected_fraction
from models.rules.teams import TeamStanding, team_of, team_standings
from models.settings import Settings
from models.values import RepStanding

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.ports import JobStore

log = logging.getLogger("jobs.digest")

STALE_AFTER = timedelta(days=1)
"""A digest still unsent this long after its moment (the service was down) is skipped."""
WEEK = timedelta(days=7)
CHANNELS = "team channels"
"""The recipient key of the one post to every URL of a ``team_urls`` list."""


def digest_moment(now: datetime, settings: Settings) -> datetime:
    """The latest digest moment at or before ``now`` (``jobs.runner.scheduled_moment`` of ``digest``)."""
    from jobs.runner import scheduled_moment

    return scheduled_moment("digest", now, settings)


def following_month(today: date) -> tuple[int, int]:
    """The (year, month) after ``today``'s."""
    return today.year + today.month // 12, today.month % 12 + 1


def week_achievements(rows: Sequence[DatedAchievement], *, today: date) -> tuple[Announcement, ...]:
    """The achievements a digest sent on ``today`` lists (pure): dated in the seven days before it
    (``today`` itself is next week's), not revoked (a correction removed their basis), of a rep
    still active; by rep then id."""
    first, last = today - WEEK, today - timedelta(days=1)
    kept = [row.announcement for row in rows
            if first <= row.achievement_date <= last and not row.revoked and row.rep_active]
    return tuple(sorted(kept, key=lambda a: (a.rep_id, a.id)))


def week_alerts(rows: Sequence[PaceAlert], *, moment: datetime) -> tuple[PaceAlert, ...]:
    """The pace alerts a digest of ``moment`` lists (pure): detected in the week before it, up to
    the moment itself; oldest first."""
    kept = [alert for alert in rows if moment - WEEK <= alert.detected_at < moment]
    return tuple(sorted(kept, key=lambda alert: (alert.detected_at, alert.id)))


def goals_set(set_times: Mapping[int, datetime | None]) -> frozenset[int]:
    """The reps who have set a goal in the month of ``set_times`` (pure)."""
    return frozenset(rep for rep, at in set_times.items() if at is not None)


def collect(store: JobStore, settings: Settings, now: datetime) -> tuple[DigestData, dict[int, str | None]]:
    """What the digest of the moment due at ``now`` shows, and every rep's Manager Email (one
    transaction, a fixed number of queries)."""
    moment = digest_moment(now, settings)
    today = moment.astimezone(settings.tz).date()
    expected = expected_fraction(today, settings.goals.pace.calendar, settings.goals.pace.holidays)
    with store.job_transaction(now) as tx:
        standings = tuple(tx.standings(settings, year=today.year, month=today.month))
        year, month = following_month(today)
        next_set = (goals_set(tx.goal_set_times(year=year, month=month)) if today.day >= NEXT_MONTH_FROM_DAY
                    else None)
        achievements = week_achievements(tx.achievements_dated(today - WEEK, today - timedelta(days=1)),
                                         today=today)
        alerts = week_alerts(tx.pace_alerts_detected(moment - WEEK, moment), moment=moment)
        managers = tx.manager_emails()
    teams = tuple(team_standings(standings, expected=expected, settings=settings.goals.pace))
    data = DigestData(today=today, expected=expected, standings=standings, teams=teams,
                      next_month_set=next_set, achievements=achievements, alerts=alerts)
    return data, managers


def recipients(standings: Sequence[RepStanding], teams: Sequence[TeamStanding], managers: Mapping[int, str | None],
               settings: Settings) -> dict[str, list[str]]:
    """Manager email → the teams of their digest, in the Team tab's order (pure): each rep's
    Manager Email, or for a rep without one ``notifications.team_managers`` of the rep's team."""
    notifications = settings.notifications
    wanted: dict[str, set[str]] = {}
    for standing in standings:
        team = team_of(standing)
        manager = managers.get(standing.rep_id)
        for email in [manager] if manager else notifications.managers_of_team(team):
            wanted.setdefault(email, set()).add(team)
    order = [team.team for team in teams]
    return {email: [team for team in order if team in chosen] for email, chosen in sorted(wanted.items())}


@dataclass(frozen=True)
class _Send:
    """One digest to deliver: to a manager (``email``) or to team channels (``team``: that team's
    URLs of a map; None: every URL of a list)."""

    recipient: str
    teams: list[str]
    email: str | None = None
    team: str | None = None


def sends(data: DigestData, managers: Mapping[int, str | None], settings: Settings, *, can_email: bool,
          has_team: bool) -> list[_Send]:
    """Every digest of ``data`` to deliver, to managers then to team channels (pure)."""
    out: list[_Send] = []
    if can_email:
        out += [_Send(email, teams, email=email)
                for email, teams in recipients(data.standings, data.teams, managers, settings).items()]
    if has_team:
        notifications = settings.notifications
        if isinstance(notifications.team_urls, tuple):
            out.append(_Send(CHANNELS, [team.team for team in data.teams]))
        else:
            out += [_Send(f"team:{team.team}", [team.team], team=team.team) for team in data.teams
                    if notifications.urls_for_team(team.team)]
    return out


def send_digest(store: JobStore, settings: Settings, notifier: Notifier, now: datetime, *,
                stop: Callable[[], bool] | None = None) -> dict[str, int | str]:
    """Send the digest of the moment due at ``now`` to every manager and team channel that has not
    had it. Raises ``NotifyError`` (the run is then recorded as failed and retried) when a send failed."""
    counts: dict[str, int | str] = {"emails": 0, "team_posts": 0, "already_sent": 0, "failed": 0}
    if not settings.notifications.digest.enabled:
        return {**counts, "disabled": 1}
    moment = digest_moment(now, settings)
    if now - moment > STALE_AFTER:
        return {**counts, "stale": 1}  # a digest a day late is news no more (and a first start sends none)
    if not (notifier.can_email or notifier.has_team):
        # Nobody to send it to: its reads over every rep's month would be for nothing.
        log.warning("the weekly digest is due but neither notifications.email_url nor team_urls is set, "
                    "so it was not sent")
        return {**counts, "no_channel": 1}
    data, managers = collect(store, settings, now)
    if not data.teams:
        return counts
    errors: list[str] = []
    for send in sends(data, managers, settings, can_email=notifier.can_email, has_team=notifier.has_team):
        if stop is not None and stop():
            break
        message = digest_message(send.teams, data, settings)
        with store.job_transaction(now) as tx:
            if not tx.claim_digest(moment, send.recipient):
                counts["already_sent"] = int(counts["already_sent"]) + 1
                continue
            try:
                if send.email is not None:
                    notifier.send_to_rep(send.email, message.subject, message.body)
                else:
                    notifier.send_to_team(message.subject, message.body, team=send.team)
            except NotifyError as error:
                tx.mark_digest_failed(moment, send.recipient, str(error))
                counts["failed"] = int(counts["failed"]) + 1
                errors.append(str(error))
                continue
            tx.mark_digest_sent(moment, send.recipient, now)
        key = "emails" if send.email is not None else "team_posts"
        counts[key] = int(counts[key]) + 1
    if errors:
        raise NotifyError(f"{len(errors)} weekly digest(s) not sent, retried on the next turn: {errors[0]}")
    return counts
