"""The SQL of the managers' jobs (weekly digest, pace alerts), behind plain functions.

Every function takes a ``models.store.Transaction``; reads are one query each.
The per-row statements are the claims of one alert or one digest recipient,
each committed together with its own send (as reminders are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import text

from models.job_queries import Announcement, announcement_columns

if TYPE_CHECKING:
    from models.store import Transaction


def rep_managers(tx: Transaction) -> dict[int, str | None]:
    """Each active rep's Manager Email (None when blank)."""
    rows = tx.connection.execute(text("SELECT id, manager_email FROM sales_reps WHERE is_active")).all()
    return {row.id: row.manager_email for row in rows}


def reps_with_goal_set(tx: Transaction, *, year: int, month: int) -> set[int]:
    """Active reps who have set their goals for ``(year, month)``."""
    return set(tx.connection.execute(text("""
        SELECT g.sales_rep_id FROM rep_monthly_goals g
        WHERE g.goal_year = :year AND g.goal_month = :month AND g.goal_set_at IS NOT NULL
    """), {"year": year, "month": month}).scalars())


def achievements_between(tx: Transaction, first: date, last: date) -> list[Announcement]:
    """Achievements of active reps dated ``first`` to ``last`` (inclusive), by rep then id; revoked
    ones are left out (a correction removed their basis)."""
    rows = tx.connection.execute(text(f"""
        SELECT {announcement_columns()}
        FROM goal_achievements a JOIN sales_reps r ON r.id = a.sales_rep_id
        WHERE r.is_active AND a.revoked_at IS NULL AND a.achievement_date BETWEEN :first AND :last
        ORDER BY a.sales_rep_id, a.id
    """), {"first": first, "last": last}).all()
    return [Announcement(*row) for row in rows]


# --------------------------------------------------------------------------------------------- pace alerts


def critical_on(tx: Transaction, day: date) -> set[int]:
    """Reps whose daily snapshot of ``day`` says ``critical``."""
    return set(tx.connection.execute(text("""
        SELECT sales_rep_id FROM goal_progress_snapshots
        WHERE snapshot_type = 'daily' AND snapshot_date = :day AND pace_indicator = 'critical'
    """), {"day": day}).scalars())


@dataclass(frozen=True)
class PaceAlert:
    """A rep who turned critical (one per rep and week)."""

    id: int
    rep_id: int
    rep_name: str
    email: str
    week_start: date
    detected_at: datetime
    year: int
    month: int
    signup_pct: Decimal | None
    revenue_pct: Decimal | None
    expected_pct: Decimal
    sent_at: datetime | None
    attempts: int


_ALERT_COLUMNS = """
    p.id, p.sales_rep_id, r.name, r.email, p.week_start, p.detected_at, p.goal_year, p.goal_month,
    p.signup_progress_percent, p.revenue_progress_percent, p.expected_percent, p.sent_at, p.attempts
"""


def record_pace_alerts(tx: Transaction, alerts: Sequence[dict[str, object]]) -> int:
    """Insert new alerts (one statement); a rep already alerted this week keeps the first one."""
    if not alerts:
        return 0
    return tx.connection.execute(text("""
        INSERT INTO pace_alerts (sales_rep_id, week_start, detected_at, goal_year, goal_month,
                                 signup_progress_percent, revenue_progress_percent, expected_percent)
        SELECT * FROM unnest(CAST(:reps AS int[]), CAST(:weeks AS date[]), CAST(:moments AS timestamptz[]),
                             CAST(:years AS smallint[]), CAST(:months AS smallint[]),
                             CAST(:signups AS numeric[]), CAST(:revenues AS numeric[]),
                             CAST(:expected AS numeric[]))
        ON CONFLICT ON CONSTRAINT uq_pace_alerts_rep_week DO NOTHING
    """), {key: [alert[field] for alert in alerts] for key, field in (
        ("reps", "rep_id"), ("weeks", "week_start"), ("moments", "detected_at"), ("years", "year"),
        ("months", "month"), ("signups", "signup_pct"), ("revenues", "revenue_pct"),
        ("expected", "expected_pct"))}).rowcount


def unsent_pace_alerts(tx: Transaction, week: date) -> list[PaceAlert]:
    """This week's alerts of active reps that are not emailed yet, oldest first."""
    rows = tx.connection.execute(text(f"""
        SELECT {_ALERT_COLUMNS} FROM pace_alerts p JOIN sales_reps r ON r.id = p.sales_rep_id
        WHERE p.sent_at IS NULL AND p.week_start = :week AND r.is_active ORDER BY p.detected_at, p.id
    """), {"week": week}).all()
    return [PaceAlert(*row) for row in rows]


def pace_alerts_between(tx: Transaction, start: datetime, end: datetime) -> list[PaceAlert]:
    """Alerts detected in ``[start, end)``, for the digest."""
    rows = tx.connection.execute(text(f"""
        SELECT {_ALERT_COLUMNS} FROM pace_alerts p JOIN sales_reps r ON r.id = p.sales_rep_id
        WHERE p.detected_at >= :start AND p.detected_at < :end ORDER BY p.detected_at, p.id
    """), {"start": start, "end": end}).all()
    return [PaceAlert(*row) for row in rows]


def claim_pace_alert(tx: Transaction, alert_id: int) -> bool:
    """Lock one unsent alert until the transaction ends; False when sent meanwhile or held elsewhere."""
    return tx.connection.execute(text("""
        SELECT id FROM pace_alerts WHERE id = :id AND sent_at IS NULL FOR UPDATE SKIP LOCKED
    """), {"id": alert_id}).first() is not None


def mark_pace_alert(tx: Transaction, alert_id: int, *, sent_at: datetime | None, error: str | None) -> None:
    """Record a send (``sent_at``) or a failed attempt (``error``)."""
    tx.connection.execute(text("""
        UPDATE pace_alerts SET sent_at = :sent_at, attempts = attempts + 1, last_error = :error WHERE id = :id
    """), {"id": alert_id, "sent_at": sent_at, "error": error[:500] if error else None})


# --------------------------------------------------------------------------------------------- digest


def claim_digest(tx: Transaction, moment: datetime, recipient: str) -> bool:
    """Lock the digest of ``moment`` to ``recipient`` until the transaction ends (creating its row);
    False when it was already sent, or another process holds it."""
    tx.connection.execute(text("""
        INSERT INTO digest_deliveries (scheduled_for, recipient) VALUES (:moment, :recipient)
        ON CONFLICT ON CONSTRAINT uq_digest_deliveries_moment_recipient DO NOTHING
    """), {"moment": moment, "recipient": recipient})
    return tx.connection.execute(text("""
        SELECT id FROM digest_deliveries WHERE scheduled_for = :moment AND recipient = :recipient
          AND sent_at IS NULL FOR UPDATE SKIP LOCKED
    """), {"moment": moment, "recipient": recipient}).first() is not None


def mark_digest(tx: Transaction, moment: datetime, recipient: str, *, sent_at: datetime | None,
                error: str | None) -> None:
    """Record a digest sent (``sent_at``) or a failed attempt (``error``)."""
    tx.connection.execute(text("""
        UPDATE digest_deliveries SET sent_at = :sent_at, attempts = attempts + 1, last_error = :error
        WHERE scheduled_for = :moment AND recipient = :recipient
    """), {"moment": moment, "recipient": recipient, "sent_at": sent_at, "error": error[:500] if error else None})
