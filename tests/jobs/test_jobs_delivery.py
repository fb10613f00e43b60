"""Delivery through a real SMTP server: what is sent, what a failure records, and retries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from jobs.achievements import detect_achievements
from jobs.channels import ApprisePoster
from jobs.notify import announce
from jobs.reminders import process_reminders
from jobs.runner import run_due, run_job
from models.errors import NotifyError
from models.settings import Settings
from models.store import Store
from tests.jobs.helpers import add_reps, record_actuals, rows
from tests.jobs.mailbox import SMTP_PASSWORD, TEAM_ADDRESS, Mailbox, free_port

UTC = ZoneInfo("UTC")
REPS = [("ana@example.com", "Ana Lima", 10), ("bo@example.com", "Bo Berg", 10)]


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_a_rep_is_emailed_at_their_own_address(jobs_settings: Callable[..., Settings], smtp: Mailbox) -> None:
    poster = ApprisePoster(jobs_settings(team=True).notifications)
    assert poster.send_to_rep("ana@example.com", "Your goals", "Please enter them.") is True
    assert poster.send_to_team("2 new achievements", "- Ana Lima …") is True
    first, second = smtp.take()
    assert (first.to, first.subject, first.body.strip()) == (("ana@example.com",), "Your goals", "Please enter them.")
    assert (second.to, second.subject) == ((TEAM_ADDRESS,), "2 new achievements")


def test_a_failed_send_says_why_without_the_password(jobs_settings: Callable[..., Settings], smtp: Mailbox,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    smtp.refuse = True
    poster = ApprisePoster(jobs_settings().notifications)
    with pytest.raises(NotifyError, match=r"could not email ana@example\.com") as refused:
        poster.send_to_rep("ana@example.com", "Your goals", "Please enter them.")
    unreachable = ApprisePoster(jobs_settings(notifications={
        "email_url": f"mailto://goals:{SMTP_PASSWORD}@127.0.0.1:{free_port()}?from=bot@example.com&cto=2"}
    ).notifications)
    with pytest.raises(NotifyError) as down:
        unreachable.send_to_rep("ana@example.com", "Your goals", "Please enter them.")
    broken = ApprisePoster(jobs_settings(notifications={"email_url": f"nonsense://{SMTP_PASSWORD}"}).notifications)
    with pytest.raises(NotifyError, match=r"notifications.email_url is not a valid Apprise URL") as invalid:
        broken.send_to_rep("ana@example.com", "Your goals", "Please enter them.")
    for error in (refused.value, down.value, invalid.value):
        assert SMTP_PASSWORD not in str(error)
    assert SMTP_PASSWORD not in caplog.text
    assert smtp.take() == []


def test_a_failed_reminder_is_retried_at_the_next_check(jobs_settings: Callable[..., Settings], store: Store,
                                                        smtp: Mailbox) -> None:
    settings = jobs_settings()
    notifier = ApprisePoster(settings.notifications)
    add_reps(store, settings, at(1, 0), REPS)
    run_due(store, settings, notifier, at(1, 0))
    smtp.refuse = True
    [reminders] = [o for o in run_due(store, settings, notifier, at(3, 9)) if o.job == "reminders"]
    assert (reminders.status, reminders.counts["sent"], reminders.counts["failed"]) == ("success", 0, 2)
    state = rows(store, "SELECT sent, attempts, last_error FROM goal_deadline_reminders WHERE attempts > 0")
    assert len(state) == 2 and all(not sent and attempts == 1 and "451" in error for sent, attempts, error in state)
    assert all(SMTP_PASSWORD not in error for *_, error in state)

    smtp.refuse = False
    run_due(store, settings, notifier, at(3, 10))  # not a check time: nothing is retried yet
    assert smtp.take() == []
    run_due(store, settings, notifier, at(3, 13))
    assert sorted(mail.to for mail in smtp.take()) == [("ana@example.com",), ("bo@example.com",)]
    run_due(store, settings, notifier, at(3, 17))
    assert smtp.take() == []
    sent = rows(store, "SELECT attempts, last_error, sent_at FROM goal_deadline_reminders WHERE sent")
    assert sorted(sent) == [(2, None, at(3, 13))] * 2


def test_a_dead_mail_server_stops_the_run_early(jobs_settings: Callable[..., Settings], store: Store,
                                                smtp: Mailbox) -> None:
    settings = jobs_settings()
    add_reps(store, settings, at(1, 0), [(f"rep{i}@example.com", f"Rep {i}", 5) for i in range(6)])
    smtp.refuse = True
    counts = process_reminders(store, settings, ApprisePoster(settings.notifications), at(3, 9))
    assert (counts["failed"], counts["left"], counts["sent"]) == (3, 3, 0)


def test_without_an_email_url_nothing_is_sent_or_marked(jobs_settings: Callable[..., Settings], store: Store,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    settings = jobs_settings(notifications={"email_url": "", "team_urls": []})
    add_reps(store, settings, at(1, 0), REPS)
    with caplog.at_level(logging.WARNING):
        counts = process_reminders(store, settings, ApprisePoster(settings.notifications), at(3, 9))
    assert (counts["left"], counts["sent"], counts["failed"]) == (2, 0, 0)
    assert "notifications.email_url is empty" in caplog.text
    assert rows(store, "SELECT count(*) FROM goal_deadline_reminders WHERE sent OR attempts > 0") == [(0,)]


def test_an_announcement_retries_only_the_channel_that_failed(jobs_settings: Callable[..., Settings],
                                                              store: Store, smtp: Mailbox) -> None:
    dead_team = f"mailto://goals:{SMTP_PASSWORD}@127.0.0.1:{free_port()}?from=bot@example.com&to=t@example.com&cto=2"
    settings = jobs_settings(notifications={"team_urls": [dead_team]})
    add_reps(store, settings, at(1, 0), REPS)
    record_actuals(store, settings, "ana@example.com", at(12, 9), signups=12)
    assert detect_achievements(store, settings, None, at(12, 10))["new"] == 3  # goal + tiers 1 and 2
    counts = announce(store, settings, ApprisePoster(settings.notifications), at(12, 10))
    assert (counts["emails"], counts["team_posts"], counts["failed"], counts["announced"]) == (1, 0, 1, 0)
    assert rows(store, "SELECT DISTINCT recognized, recognition_type FROM goal_achievements") == [(False, "email")]
    [mail] = smtp.take()
    assert mail.to == ("ana@example.com",) and mail.subject == "Congratulations, Ana: 3 new achievements"

    fixed = jobs_settings(team=True)
    counts = announce(store, fixed, ApprisePoster(fixed.notifications), at(12, 11))
    assert (counts["emails"], counts["team_posts"], counts["announced"]) == (0, 1, 3)
    assert [mail.to for mail in smtp.take()] == [(TEAM_ADDRESS,)]  # Ana is not emailed twice
    assert rows(store, "SELECT DISTINCT recognized, recognition_type FROM goal_achievements") == [
        (True, "email+team")]
    assert announce(store, fixed, ApprisePoster(fixed.notifications), at(12, 12))["announced"] == 0
    assert smtp.take() == []


def test_a_failing_job_is_recorded_and_retried_on_the_next_turn(jobs_settings: Callable[..., Settings],
                                                                store: Store, smtp: Mailbox) -> None:
    settings = jobs_settings(timezone="America/New_York")
    notifier = ApprisePoster(settings.notifications)
    add_reps(store, settings, at(1, 12), REPS)
    with store.engine.begin() as connection:  # the job's table is briefly unusable
        connection.execute(text("ALTER TABLE leaderboard_snapshots RENAME TO leaderboard_snapshots_away"))
    outcomes = {o.job: o for o in run_due(store, settings, notifier, at(3, 12))}
    assert outcomes["snapshot"].status == "failed" and "leaderboard_snapshots" in (outcomes["snapshot"].error or "")
    assert outcomes["reminders"].status == "success"  # the other jobs still ran
    assert rows(store, "SELECT status FROM job_runs WHERE job = 'snapshot'") == [("failed",)]
    with store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE leaderboard_snapshots_away RENAME TO leaderboard_snapshots"))
    # Only the failed job runs again: the achievements already saw this data, nothing waits to be announced.
    assert [o.job for o in run_due(store, settings, notifier, at(3, 12))] == ["snapshot"]
    assert rows(store, "SELECT status FROM job_runs WHERE job = 'snapshot'") == [("success",)]
    assert run_job(store, settings, notifier, "snapshot", at(3, 13)).counts == {"reason": "done"}
