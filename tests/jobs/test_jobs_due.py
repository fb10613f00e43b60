"""Which every-turn jobs a turn runs: achievements only when their data, day or settings changed,
notify only when something waits to be announced (so a quiet cron turn costs one query)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from jobs.channels import ApprisePoster
from jobs.runner import AFTER_CYCLE, run_due
from models.settings import Settings
from models.store import Store
from tests.jobs.helpers import add_reps, record_actuals, rows, set_goal
from tests.jobs.mailbox import Mailbox

UTC = ZoneInfo("UTC")
REPS = [("ana@example.com", "Ana Lima", 10), ("bo@example.com", "Bo Berg", 10)]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _turn(store: Store, settings: Settings, now: datetime) -> dict[str, dict[str, int | str]]:
    """The after-cycle jobs of one turn: {job: counts} of those that ran."""
    notifier = ApprisePoster(settings.notifications)
    return {o.job: dict(o.counts) for o in run_due(store, settings, notifier, now, jobs=AFTER_CYCLE)}


def test_achievements_run_again_only_after_a_change_of_data_day_or_settings(
        jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox) -> None:
    settings = jobs_settings()
    add_reps(store, settings, at(1, 0), REPS)
    for email in ("ana@example.com", "bo@example.com"):
        set_goal(store, settings, email, at(2, 9))
    record_actuals(store, settings, "ana@example.com", at(3, 9), signups=12)

    first = _turn(store, settings, at(3, 9))
    assert int(first["achievements"]["new"]) > 0 and first["notify"]["emails"] == 1
    assert [mail.to for mail in smtp.take()] == [("ana@example.com",)]
    # The next turns find nothing new to evaluate and nothing to announce: no job runs.
    assert _turn(store, settings, at(3, 9, 1)) == {}
    # A write of identical values is no change (updated_at stays).
    record_actuals(store, settings, "ana@example.com", at(3, 9, 2), signups=12)
    assert _turn(store, settings, at(3, 9, 2)) == {}

    record_actuals(store, settings, "bo@example.com", at(3, 10), signups=11)
    changed = _turn(store, settings, at(3, 10))
    assert int(changed["achievements"]["new"]) > 0 and changed["notify"]["emails"] == 1
    assert [mail.to for mail in smtp.take()] == [("bo@example.com",)]
    assert _turn(store, settings, at(3, 10, 1)) == {}

    # A new day is evaluated once (a rule may depend on the date) …
    assert _turn(store, settings, at(4, 0, 5))["achievements"]["new"] == 0
    assert _turn(store, settings, at(4, 0, 6)) == {}
    # … and so are other goal settings.
    other = jobs_settings(goals={"streak_milestones": [2, 4]})
    assert "achievements" in _turn(store, other, at(4, 0, 7))
    assert _turn(store, other, at(4, 0, 8)) == {}
    # One job_runs row per day, its detail naming the data the run evaluated.
    details = rows(store, "SELECT scheduled_for, detail FROM job_runs WHERE job = 'achievements' ORDER BY 1")
    assert [moment for moment, _ in details] == [at(3, 0), at(4, 0)]
    assert all("data_as_of=" in detail and "goals=" in detail for _, detail in details)


def test_a_failed_announcement_is_retried_on_the_next_turn_without_a_change(
        jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox) -> None:
    settings = jobs_settings()
    add_reps(store, settings, at(1, 0), REPS[:1])
    set_goal(store, settings, "ana@example.com", at(2, 9))
    record_actuals(store, settings, "ana@example.com", at(3, 9), signups=12)
    smtp.refuse = True
    failed = _turn(store, settings, at(3, 9))
    assert int(failed["achievements"]["new"]) > 0 and failed["notify"]["failed"] == 1
    smtp.refuse = False
    retried = _turn(store, settings, at(3, 9, 1))
    assert "achievements" not in retried and retried["notify"]["emails"] == 1
    assert [mail.to for mail in smtp.take()] == [("ana@example.com",)]
    assert _turn(store, settings, at(3, 9, 2)) == {}


def test_a_failed_achievement_run_is_due_again(jobs_settings: Callable[..., Settings], store: Store,
                                               smtp: Mailbox) -> None:
    settings = jobs_settings()
    add_reps(store, settings, at(1, 0), REPS[:1])
    set_goal(store, settings, "ana@example.com", at(2, 9))
    record_actuals(store, settings, "ana@example.com", at(3, 9), signups=12)
    with store.engine.begin() as connection:  # the job's insert briefly fails
        connection.exec_driver_sql("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON goal_achievements FOR EACH ROW EXECUTE FUNCTION refuse();
        """)
    notifier = ApprisePoster(settings.notifications)
    [failed] = [o for o in run_due(store, settings, notifier, at(3, 9), jobs=AFTER_CYCLE) if o.job == "achievements"]
    assert failed.status == "failed"
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER refuse ON goal_achievements")
    assert int(_turn(store, settings, at(3, 9, 1))["achievements"]["new"]) > 0
    assert len(smtp.take()) == 1


def test_later_runs_of_the_day_evaluate_only_changed_reps_and_never_lose_a_change_made_meanwhile(
        jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox) -> None:
    settings = jobs_settings()
    add_reps(store, settings, at(1, 0), REPS)
    for email in ("ana@example.com", "bo@example.com"):
        set_goal(store, settings, email, at(2, 9))
    assert _turn(store, settings, at(2, 9, 1))["achievements"]["evaluated"] == 2

    record_actuals(store, settings, "bo@example.com", at(2, 10), signups=11)
    changed = _turn(store, settings, at(2, 10))["achievements"]
    assert changed["evaluated"] == 1 and int(changed["new"]) > 0
    assert rows(store, "SELECT count(*) FROM achievement_stale_months") == [(0,)]

    # Bo's month is corrected while a job evaluates it: the job's read is out of date, so the month
    # stays stale and the next run revokes what the correction took back.
    record_actuals(store, settings, "bo@example.com", at(2, 11), signups=12)
    with store.job_transaction(at(2, 11)) as tx:
        read = tx.achievement_scope().marks
        tx.achievement_states(evaluate_from=(2026, 10))
        record_actuals(store, settings, "bo@example.com", at(2, 11, 1), signups=3)
        assert tx.clear_stale(read) == 0
    assert rows(store, "SELECT count(*) FROM achievement_stale_months") == [(1,)]
    corrected = _turn(store, settings, at(2, 11, 2))["achievements"]
    assert (corrected["evaluated"], int(corrected["revoked"]) > 0) == (1, True)
    assert rows(store, "SELECT count(*) FROM achievement_stale_months") == [(0,)]
