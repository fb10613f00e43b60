"""Running jobs twice, from two processes at once, or after downtime: same result, nothing sent twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from jobs.achievements import detect_achievements
from jobs.channels import ApprisePoster
from jobs.notify import announce
from jobs.reminders import process_reminders
from jobs.runner import JOB_NAMES, run_due, run_job
from models.engine import make_engine
from models.settings import Settings
from models.store import Store
from tests.jobs.helpers import add_reps, record_actuals, rows, set_goal
from tests.jobs.mailbox import TEAM_ADDRESS, Mailbox

UTC = ZoneInfo("UTC")
REPS = [(f"rep{i}@example.com", f"Rep {i}", 10) for i in range(8)]


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _state(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "snapshots": rows(store, "SELECT sales_rep_id, snapshot_date, snapshot_type, pace_indicator "
                                 "FROM goal_progress_snapshots ORDER BY 1, 2, 3"),
        "leaderboard": rows(store, "SELECT sales_rep_id, snapshot_date, rank FROM leaderboard_snapshots ORDER BY 1, 2"),
        "achievements": rows(store, "SELECT sales_rep_id, achievement_type, achievement_month, bonus_tier, recognized, "
                                    "recognition_type FROM goal_achievements ORDER BY 1, 2, 3, 4"),
        "reminders": rows(store, "SELECT sales_rep_id, reminder_type, sent, sent_at, cancelled_at, attempts "
                                 "FROM goal_deadline_reminders ORDER BY 1, 2"),
    }


def _seed(store: Store, settings: Settings) -> None:
    add_reps(store, settings, at(1, 0), REPS)
    set_goal(store, settings, "rep0@example.com", at(2, 10))
    for i in (1, 2, 3):
        record_actuals(store, settings, f"rep{i}@example.com", at(2, 11), signups=10 + i, revenue=100)


def test_every_job_twice_changes_nothing_the_second_time(jobs_settings: Callable[..., Settings], store: Store,
                                                          smtp: Mailbox) -> None:
    settings = jobs_settings(team=True)
    notifier = ApprisePoster(settings.notifications)
    _seed(store, settings)
    first = {job: run_job(store, settings, notifier, job, at(3, 9), force=True) for job in JOB_NAMES}
    assert all(outcome.status == "success" for outcome in first.values())
    assert first["reminders"].counts["sent"] == 7 and first["reminders"].counts["cancelled"] == 1
    assert first["notify"].counts["emails"] == 3 and first["notify"].counts["team_posts"] == 1
    after_first, mails = _state(store), smtp.take()
    assert len(mails) == 7 + 3 + 1

    second = {job: run_job(store, settings, notifier, job, at(3, 9), force=True) for job in JOB_NAMES}
    assert _state(store) == after_first
    assert smtp.take() == []
    assert second["snapshot"].counts["daily"] == 0 and second["achievements"].counts["new"] == 0
    assert second["reminders"].counts["sent"] == 0 and second["notify"].counts["emails"] == 0
    # And the runner itself sees nothing left to do for this moment: the achievements saw this very
    # data, every achievement is announced.
    assert run_due(store, settings, notifier, at(3, 9)) == []
    assert smtp.take() == []


def _together(count: int, work: Callable[[Store], object], url: str) -> list[object]:
    """Run ``work`` in ``count`` threads at once, each with its own engine (its own connections)."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        own = Store(make_engine(url))
        try:
            barrier.wait()
            results[index] = work(own)
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_daemons_at_once_send_each_message_once(jobs_settings: Callable[..., Settings], store: Store,
                                                    smtp: Mailbox, fresh_db_url: str) -> None:
    settings = jobs_settings(team=True)
    _seed(store, settings)
    smtp.delay = 0.02  # a slow server keeps both runs busy at the same time

    results = _together(2, lambda own: run_due(own, settings, ApprisePoster(settings.notifications), at(3, 9)),
                        fresh_db_url)
    mails = smtp.take()
    assert Counter(mail.to for mail in mails if mail.subject.startswith("3 days left")) == Counter(
        {(f"rep{i}@example.com",): 1 for i in range(1, 8)})
    assert Counter(mail.to for mail in mails if mail.subject.startswith("Congratulations")) == Counter(
        {(f"rep{i}@example.com",): 1 for i in (1, 2, 3)})
    assert len(mails) == 7 + 3 + 1
    statuses = Counter((o.job, o.status) for outcomes in results for o in outcomes)  # type: ignore[attr-defined]
    assert statuses[("snapshot", "success")] == statuses[("reminders", "success")] == 1  # the other: skipped
    state = _state(store)
    assert len(state["snapshots"]) == 8 and len(state["leaderboard"]) == 8
    assert all(recognized for *_, recognized, _ in state["achievements"])


def test_the_row_locks_alone_keep_sends_unique(jobs_settings: Callable[..., Settings], store: Store,
                                               smtp: Mailbox, fresh_db_url: str) -> None:
    """Even without the runner's job lock (e.g. ``jobs reminders`` by hand beside a daemon)."""
    settings = jobs_settings(team=True)
    _seed(store, settings)
    smtp.delay = 0.02

    def everything(own: Store) -> dict[str, int | str]:
        notifier = ApprisePoster(settings.notifications)
        detect_achievements(own, settings, None, at(3, 9))
        announce(own, settings, notifier, at(3, 9))
        return process_reminders(own, settings, notifier, at(3, 9))

    results = _together(3, everything, fresh_db_url)
    mails = smtp.take()
    reminders = Counter(m.to for m in mails if m.subject.startswith("3 days left"))
    assert reminders == Counter({(f"rep{i}@example.com",): 1 for i in range(1, 8)})
    congratulations = Counter(m.to for m in mails if m.subject.startswith("Congratulations"))
    assert congratulations == Counter({(f"rep{i}@example.com",): 1 for i in (1, 2, 3)})
    team_lines = Counter(line for m in mails if m.to == (TEAM_ADDRESS,) for line in m.body.splitlines() if line)
    assert len(team_lines) == 9 and set(team_lines.values()) == {1}
    assert sum(int(r["sent"]) for r in results) == 7  # type: ignore[index]
    assert rows(store, "SELECT count(*) FROM goal_deadline_reminders WHERE sent AND attempts = 1") == [(7,)]
    assert rows(store, "SELECT count(*) FROM goal_achievements WHERE recognized") == [(9,)]


def test_downtime_catches_up_the_latest_moment_only(jobs_settings: Callable[..., Settings], store: Store,
                                                    smtp: Mailbox) -> None:
    settings = jobs_settings()
    notifier = ApprisePoster(settings.notifications)
    add_reps(store, settings, at(1, 0), REPS[:2])
    run_due(store, settings, notifier, at(1, 10))
    # Down from the 1st at 10:00 until the 6th at 10:00.
    outcomes = {o.job: o for o in run_due(store, settings, notifier, at(6, 10))}
    assert outcomes["snapshot"].counts["day"] == "2026-11-05"
    assert rows(store, "SELECT DISTINCT snapshot_date FROM goal_progress_snapshots") == [(date(2026, 11, 5),)]
    assert outcomes["reminders"].counts["sent"] == 2 and outcomes["reminders"].counts["cancelled"] == 4
    assert {mail.subject for mail in smtp.take()} == {"Last day to set your November 2026 goals"}
    kinds = rows(store, "SELECT reminder_type, sent, cancelled_at IS NOT NULL FROM goal_deadline_reminders "
                        "WHERE sales_rep_id = 1 ORDER BY due_date")
    assert kinds == [("goal_deadline_3days", False, True), ("goal_deadline_1day", False, True),
                     ("goal_deadline_day", True, False), ("goal_overdue", False, False)]
    # Restarting again the same day: nothing to catch up.
    assert run_due(store, settings, notifier, at(6, 12)) == []


def test_a_rep_added_mid_month_gets_this_months_reminders(jobs_settings: Callable[..., Settings], store: Store,
                                                          smtp: Mailbox) -> None:
    settings = jobs_settings()
    notifier = ApprisePoster(settings.notifications)
    add_reps(store, settings, at(1, 0), REPS[:1])
    set_goal(store, settings, "rep0@example.com", at(1, 0))
    run_due(store, settings, notifier, at(1, 1))
    add_reps(store, settings, at(4, 8), [("new@example.com", "New Hire", 5)])
    run_due(store, settings, notifier, at(5, 9))
    assert [(mail.to, mail.subject) for mail in smtp.take()] == [
        (("new@example.com",), "1 day left to set your November 2026 goals")]
    # Rep 0 had set the goal before the reminders existed: they were created acknowledged.
    assert rows(store, """
        SELECT r.email, count(*), bool_and(d.acknowledged), count(d.cancelled_at), count(*) FILTER (WHERE d.sent)
        FROM goal_deadline_reminders d JOIN sales_reps r ON r.id = d.sales_rep_id GROUP BY r.email ORDER BY 1""") == [
        ("new@example.com", 4, False, 1, 1), ("rep0@example.com", 4, True, 2, 0)]


def test_a_run_killed_midway_is_redone_and_marked_interrupted(jobs_settings: Callable[..., Settings],
                                                             store: Store, smtp: Mailbox) -> None:
    settings = jobs_settings()
    notifier = ApprisePoster(settings.notifications)
    add_reps(store, settings, at(1, 0), REPS[:2])
    with store.engine.begin() as connection:  # what a process killed during the runs leaves behind
        connection.execute(text("""
            INSERT INTO job_runs (job, scheduled_for, started_at, status) VALUES
                ('snapshot', '2026-11-02 00:00+00', '2026-11-02 00:00+00', 'running'),
                ('snapshot', '2026-11-03 00:00+00', '2026-11-03 00:00+00', 'running')"""))
    assert "snapshot" in [o.job for o in run_due(store, settings, notifier, at(3, 8))]  # not done: redone
    assert rows(store, "SELECT scheduled_for, status, detail FROM job_runs WHERE job = 'snapshot' ORDER BY 1") == [
        (at(2, 0), "failed", "interrupted (the process stopped during the run)"),
        (at(3, 0), "success", "day=2026-11-02 daily=2 weekly=0 monthly=0 leaderboard=2")]
