"""The pace-alert job (opt-in, ``notifications.pace_alerts``): email a rep who turns critical.

After every cycle: a rep whose pace is ``critical`` now (judged: past the
too-early guard) and was not critical in yesterday's daily snapshot has just
turned critical (``models.rules.alerts``). One ``pace_alerts`` row per rep and
local week (its Monday) records it, so a rep is alerted at most once a week
however often the pace swings; the email is claimed, sent and marked in one
transaction (two daemons never send it twice) and retried on the next turn when
it failed. The manager reads the same alerts in the next weekly digest.

The store only reads and writes (``models.ports.JobTransaction``); who is alerted
and which alerts are sent is decided here and in ``models.rules.alerts``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from jobs.messages import Message, _number, _percent, first_name
from jobs.moments import week_start
from models.errors import NotifyError
from models.job_queries import NewPaceAlert, PaceAlert
from models.rules.alerts import reps_to_alert
from models.rules.pace import days_left, expected_fraction, needed_per_day
from models.settings import Settings
from models.values import RepStanding

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.ports import JobStore

log = logging.getLogger("jobs.pace_alerts")

MAX_FAILURES_IN_A_ROW = 3


def alert_message(alert: PaceAlert, needed: Decimal | None, settings: Settings) -> Message:
    """The email to a rep who turned critical."""
    first = first_name(alert.rep_name)
    month = datetime(alert.year, alert.month, 1).strftime("%B")
    per_day = f" That is {_number(needed)} signups a day from now to the end of {month}." if needed else ""
    body = (f"Hi {first},\n\nWith {_percent(alert.expected_pct)} of {month} gone, you are at "
            f"{_percent(alert.signup_pct)} of your signup goal, well behind an even pace.{per_day}\n\n"
            f"See the '{settings.sheets.tabs.summary}' tab for where you stand; your manager sees this in the "
            "weekly digest. You get at most one of these a week.")
    return Message(f"Your {month} goals: behind pace", body)


def new_alerts(reps: Sequence[RepStanding], *, today: date, now: datetime, expected_pct: Decimal) -> list[NewPaceAlert]:
    """The ``pace_alerts`` rows of ``reps`` (pure), detected at ``now`` in ``today``'s week, by rep id
    (the order they are recorded, so emailed, in: never the database's collation of names)."""
    return [NewPaceAlert(rep_id=s.rep_id, week_start=week_start(today), detected_at=now, year=today.year,
                         month=today.month, signup_pct=s.signup_pct, revenue_pct=s.revenue_pct,
                         expected_pct=expected_pct) for s in sorted(reps, key=lambda s: s.rep_id)]


def alerts_to_send(week: Sequence[PaceAlert]) -> list[PaceAlert]:
    """The week's alerts still to email (pure): not sent yet, of a rep still active; oldest first."""
    return sorted((alert for alert in week if alert.sent_at is None and alert.rep_active),
                  key=lambda alert: (alert.detected_at, alert.id))


def alert_pace(store: JobStore, settings: Settings, notifier: Notifier, now: datetime, *,
               stop: Callable[[], bool] | None = None) -> dict[str, int]:
    """Record the reps who turned critical and email this week's unsent alerts. Returns counts:
    ``new`` alerts, ``emails`` sent, ``failed`` sends."""
    counts = {"new": 0, "emails": 0, "failed": 0}
    if not settings.notifications.pace_alerts:
        return counts
    today = now.astimezone(settings.tz).date()
    week = week_start(today)
    pace_settings = settings.goals.pace
    expected = expected_fraction(today, pace_settings.calendar, pace_settings.holidays)
    expected_pct = (Decimal(expected.numerator * 100) / expected.denominator).quantize(Decimal("0.01"))
    with store.job_transaction(now) as tx:
        standings = tx.standings(settings, year=today.year, month=today.month)
        alerted = {alert.rep_id for alert in tx.pace_alerts_of_week(week)}
        turned = reps_to_alert(standings, yesterday=tx.pace_indicators(today - timedelta(days=1)),
                               alerted_this_week=alerted, expected=expected, settings=pace_settings)
        counts["new"] = tx.insert_pace_alerts(new_alerts(turned, today=today, now=now, expected_pct=expected_pct))
        pending = alerts_to_send(tx.pace_alerts_of_week(week))
    if not pending or not notifier.can_email:
        return counts
    needed = {s.rep_id: needed_per_day(s.signup_goal, s.signups, days_left(today)) for s in standings}
    failures = 0
    for alert in pending:
        if (stop is not None and stop()) or failures >= MAX_FAILURES_IN_A_ROW:
            break
        message = alert_message(alert, needed.get(alert.rep_id), settings)
        with store.job_transaction(now) as tx:
            if not tx.claim_pace_alert(alert.id):
                continue
            try:
                notifier.send_to_rep(alert.email, message.subject, message.body)
            except NotifyError as error:
                tx.mark_pace_alert_failed(alert.id, str(error))
                counts["failed"] += 1
                failures += 1
                log.warning("pace alert for %s not sent: %s", alert.email, error)
                continue
            tx.mark_pace_alert_sent(alert.id, now)
        counts["emails"] += 1
        failures = 0
    return counts
