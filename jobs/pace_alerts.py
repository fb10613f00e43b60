"""The pace-alert job (opt-in, ``notifications.pace_alerts``): email a rep who turns critical.

After every cycle: a rep whose pace is ``critical`` now (judged: past the
too-early guard) and was not critical in yesterday's daily snapshot has just
turned critical. One ``pace_alerts`` row per rep and local week (its Monday)
records it, so a rep is alerted at most once a week however often the pace
swings; the email is claimed, sent and marked in one transaction (two daemons
never send it twice) and retried on the next turn when it failed. The
manager reads the same alerts in the next weekly digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from jobs.messages import Message, _number, _percent, first_name
from jobs.moments import week_start
from models import manager_queries as mq
from models.errors import NotifyError
from models.rules.pace import days_left, expected_fraction, needed_per_day
from models.rules.teams import rep_pace
from models.settings import Settings

if TYPE_CHECKING:
    from jobs.channels import Notifier
    from models.store import Store

log = logging.getLogger("jobs.pace_alerts")

MAX_FAILURES_IN_A_ROW = 3


def alert_message(alert: mq.PaceAlert, needed: Decimal | None, settings: Settings) -> Message:
    """The email to a rep who turned critical."""
    first = first_name(alert.rep_name)
    month = datetime(alert.year, alert.month, 1).strftime("%B")
    per_day = f" That is {_number(needed)} signups a day from now to the end of {month}." if needed else ""
    body = (f"Hi {first},\n\nWith {_percent(alert.expected_pct)} of {month} gone, you are at "
            f"{_percent(alert.signup_pct)} of your signup goal, well behind an even pace.{per_day}\n\n"
            f"See the '{settings.sheets.tabs.summary}' tab for where you stand; your manager sees this in the "
            "weekly digest. You get at most one of these a week.")
    return Message(f"Your {month} goals: behind pace", body)


def alert_pace(store: Store, settings: Settings, notifier: Notifier, now: datetime, *,
               stop: Callable[[], bool] | None = None) -> dict[str, int]:
    """Record the reps who turned critical and email this week's unsent alerts. Returns counts:
    ``new`` alerts, ``emails`` sent, ``failed`` sends."""
    counts = {"new": 0, "emails": 0, "failed": 0}
    if not settings.notifications.pace_alerts:
        return counts
    today = now.astimezone(settings.tz).date()
    expected = expected_fraction(today, settings.goals.pace.calendar, settings.goals.pace.holidays)
    expected_pct = (Decimal(expected.numerator * 100) / expected.denominator).quantize(Decimal("0.01"))
    with store.transaction(now) as tx:
        standings = tx.standings(settings, year=today.year, month=today.month)
        was_critical = mq.critical_on(tx, today - timedelta(days=1))
        turned = [s for s in standings if s.rep_id not in was_critical
                  and (p := rep_pace(s, expected=expected, settings=settings.goals.pace)) is not None
                  and p.indicator == "critical"]
        counts["new"] = mq.record_pace_alerts(tx, [
            {"rep_id": s.rep_id, "week_start": week_start(today), "detected_at": now, "year": today.year,
             "month": today.month, "signup_pct": s.signup_pct, "revenue_pct": s.revenue_pct,
             "expected_pct": expected_pct} for s in turned])
        pending = mq.unsent_pace_alerts(tx, week_start(today))
    if not pending or not notifier.can_email:
        return counts
    needed = {s.rep_id: needed_per_day(s.signup_goal, s.signups, days_left(today)) for s in standings}
    failures = 0
    for alert in pending:
        if (stop is not None and stop()) or failures >= MAX_FAILURES_IN_A_ROW:
            break
        message = alert_message(alert, needed.get(alert.rep_id), settings)
        with store.transaction(now) as tx:
            if not mq.claim_pace_alert(tx, alert.id):
                continue
            try:
                notifier.send_to_rep(alert.email, message.subject, message.body)
            except NotifyError as error:
                mq.mark_pace_alert(tx, alert.id, sent_at=None, error=str(error))
                counts["failed"] += 1
                failures += 1
                log.warning("pace alert for %s not sent: %s", alert.email, error)
                continue
            mq.mark_pace_alert(tx, alert.id, sent_at=now, error=None)
        counts["emails"] += 1
        failures = 0
    return counts
