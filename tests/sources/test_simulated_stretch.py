"""Two worker processes through a simulated night: midnight, month end, a reminder check.

Three sources on the local Sheets API server (one in London, two in Berlin), two
``python -m sync worker`` processes sharing one pretend clock (``--now``, ``--clock-rate``,
``--clock-origin``) that runs 2,500 times as fast: from Sunday 31 January 2027, 19:00 Berlin
(five pretend hours, 7 real seconds, before midnight: time for the workers' first turns on a
busy machine), past 09:00 London on Monday 1 February (the goal-deadline reminders' first
check time, the deadline being the 1st) in about 21 s. Poll intervals stay real (3 s: a turn every 125
pretend minutes). Halfway through, one worker is killed with SIGKILL in the middle of a turn.

Asserted per source: it synced all night; its cycles never overlapped in real time; the
other worker took over the killed turn's source within two poll intervals; the day's
snapshots (daily, weekly: a Sunday, monthly: a month's last day), the leaderboard row,
achievements, reminders and emails each exist exactly once.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.jobs.mailbox import Mailbox
from tests.sheets_api.server import FakeSheetsServer
from tests.sources.processes import Worker, cycles, first_worker_id, kill_in_a_turn, wait_for
from tests.sources.test_sources_cli import rows

BERLIN, LONDON = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/London")
ZONES = {"north": BERLIN, "south": BERLIN, "west": LONDON}
START = datetime(2027, 1, 31, 19, 0, tzinfo=BERLIN)  # a Sunday, the last day of January
END = datetime(2027, 2, 1, 9, 30, tzinfo=LONDON)  # past every source's 09:00 reminder check
RATE = 2500.0  # a pretend minute in 0.024 s
POLL = 3.0  # real seconds: a turn every 125 pretend minutes
LEAD = 10.0  # real seconds between starting the workers and the pretend clock reading START


def sheet(index: int) -> dict[str, list[list[Any]]]:
    """Two reps: a met January's goal and has set February's; b did neither."""
    a, b = f"a{index}@example.com", f"b{index}@example.com"
    return {
        "Reps": [["Email", "Name", "Team", "Title", "Active"],
                 [a, f"Ann {index}", "T", "AE", True], [b, f"Ben {index}", "T", "AE", True]],
        "Monthly Goals": [["Email", "Year", "Month", "Signup Goal", "Revenue Goal"],
                          [a, 2027, 1, 5, 100], [b, 2027, 1, 5, 100], [a, 2027, 2, 6, 100]],
        "Yearly Goals": [["Email", "Year", "Signup Goal", "Revenue Goal"]],
        "Actuals": [["Email", "Year", "Month", "Signups", "Revenue"], [a, 2027, 1, 7, 120], [b, 2027, 1, 2, 40]],
    }


def real_time(origin: float, pretend: float) -> float:
    """The real moment (epoch seconds) at which the shared pretend clock read ``pretend``."""
    return origin + (pretend - START.timestamp()) / RATE


@pytest.mark.slow
def test_two_workers_through_a_simulated_midnight_month_end_and_reminder_check(
        sheets_server: FakeSheetsServer, fresh_db_url: str, smtp: Mailbox, write_config: Callable[..., Path],
        start_worker: Callable[..., Worker]) -> None:
    for index, name in enumerate(ZONES):
        sheets_server.create_spreadsheet(name, sheet(index))
    config = write_config(
        fresh_db_url, timezone="Europe/Berlin",
        sheets={"backend": "google", "api_endpoint": sheets_server.url,
                "retry": {"timeout_seconds": 10, "max_attempts": 2, "max_total_seconds": 20}},
        sync={"poll_seconds": POLL}, goals={"deadline_day": 1},
        sources=[{"name": name, "spreadsheet_id": name, "timezone": str(zone)} for name, zone in ZONES.items()],
        notifications={"email_url": smtp.url()}, logging={"level": "INFO"},
    )
    sheets_server.inject(delay=0.1, kind="values.batchGet", times=None)  # a turn takes a moment
    origin = time.time() + LEAD
    clock = ("--now", START.isoformat(), "--clock-rate", str(RATE),
             "--clock-origin", datetime.fromtimestamp(origin, UTC).isoformat())
    first = start_worker(config, "a", *clock)
    first_id = first_worker_id(fresh_db_url)
    second = start_worker(config, "b", *clock)  # (a pretend clock read before its origin reads before START)

    # Mid-stretch, once every source has synced twice: kill worker a in the middle of a turn.
    wait_for(lambda: all(len(cycles(fresh_db_url, s)) >= 2 for s in ZONES), 60, "two cycles of every source")

    source, killed_at = kill_in_a_turn(fresh_db_url, first, first_id, 30)
    assert "turn of source" in first.text()

    def resumed() -> list[float]:
        return [real_time(origin, c[0]) for c in cycles(fresh_db_url, source)
                if real_time(origin, c[0]) > killed_at]
    taken = wait_for(resumed, 4 * POLL, f"worker b to sync {source} after the kill")
    assert taken[0] - killed_at <= 2 * POLL, f"{source} picked up {taken[0] - killed_at:.1f} s after the kill"

    # Until every source has synced after END, and the jobs those turns deferred are done.
    wait_for(lambda: all(any(c[0] >= END.timestamp() for c in cycles(fresh_db_url, s)) for s in ZONES),
             (END - START).total_seconds() / RATE + LEAD + 20, "a turn of every source after the reminder check")
    wait_for(lambda: rows(fresh_db_url, """SELECT count(*) = 0 FROM procrastinate.procrastinate_jobs
                                          WHERE status IN ('todo', 'doing') AND task_name = 'goals.jobs'""")[0][0],
             30, "the last jobs tasks")
    second.stop()
    assert second.process.returncode == 0, second.text()[-3000:]
    assert time.time() - origin < 60

    mails = smtp.take()
    assert len({(m.to, m.subject, m.body) for m in mails}) == len(mails), "an email went out twice"
    reminder_mails = 0
    for index, (name, zone) in enumerate(ZONES.items()):
        schema, a, b = f"source_{name}", f"a{index}@example.com", f"b{index}@example.com"
        logged = cycles(fresh_db_url, name)
        assert {status for *_, status in logged} == {"success"}, logged
        # Synced all night: before midnight, between midnight and the reminder check, after it. (A
        # turn every 125 pretend minutes when the machine keeps up, fewer on a busy one; a quick
        # worker's first turn may come before START: the pretend clock runs before its origin too.)
        midnight, check = datetime(2027, 2, 1, tzinfo=zone), datetime(2027, 2, 1, 9, tzinfo=zone)
        moments = [START - timedelta(days=1), midnight, check, END + timedelta(days=1)]
        for since, until in itertools.pairwise(moments):
            assert any(since.timestamp() <= c[0] < until.timestamp() for c in logged), (name, since, logged)
        # Never two cycles of one source at once, in real time: a cycle logs its pretend start and
        # its real duration.
        spans = sorted((real_time(origin, started), real_time(origin, started) + finished - started)
                       for started, finished, _ in logged)
        for (_, end), (begin, _) in itertools.pairwise(spans):
            assert end <= begin + 0.01, f"two cycles of {name} overlapped: {spans}"

        # Midnight: the day that ended is snapshotted once per rep — daily, weekly (a Sunday) and
        # monthly (January's last day) — and nothing of a day that has not ended.
        snapshots = rows(fresh_db_url, f"""SELECT r.email, s.snapshot_date, s.snapshot_type
                                           FROM {schema}.goal_progress_snapshots s
                                           JOIN {schema}.sales_reps r ON r.id = s.sales_rep_id""")
        day = date(2027, 1, 31)
        kinds = ("daily", "monthly", "weekly")
        assert sorted(snapshots) == sorted((rep, day, kind) for rep in (a, b) for kind in kinds)
        assert sorted(rows(fresh_db_url, f"""SELECT r.email, l.snapshot_date FROM {schema}.leaderboard_snapshots l
                                             JOIN {schema}.sales_reps r ON r.id = l.sales_rep_id""")) \
            == [(a, day), (b, day)]
        runs = rows(fresh_db_url, f"SELECT job, scheduled_for, status FROM {schema}.job_runs")
        assert ("snapshot", midnight, "success") in runs, runs
        assert ("reminders", check, "success") in runs, runs

        # Achievements: a's January, once.
        achievements = rows(fresh_db_url, f"""SELECT r.email, a.achievement_type, a.achievement_year,
                                                     a.achievement_month FROM {schema}.goal_achievements a
                                              JOIN {schema}.sales_reps r ON r.id = a.sales_rep_id""")
        assert len(achievements) == len(set(achievements)) and (a, "monthly_signup_goal", 2027, 1) in achievements, \
            achievements
        assert [m for m in mails if m.to == (a,)], f"no achievement email to {a}"

        # Reminders: February's, created at midnight on the 1st; at the 09:00 check b (no goal set)
        # gets one email, a's are cancelled (goal set).
        reminders = rows(fresh_db_url, f"""SELECT r.email, d.reminder_type, d.sent, d.cancelled_at IS NOT NULL
                                           FROM {schema}.goal_deadline_reminders d
                                           JOIN {schema}.sales_reps r ON r.id = d.sales_rep_id
                                           WHERE d.target_year = 2027 AND d.target_month = 2""")
        assert not any(sent for rep, _, sent, _ in reminders if rep == a), reminders
        assert sum(sent for rep, _, sent, _ in reminders if rep == b) == 1, reminders
        sent = rows(fresh_db_url, f"SELECT count(*) FROM {schema}.goal_deadline_reminders WHERE sent")[0][0]
        reminder_mails += sent
        assert len([m for m in mails if m.to == (b,)]) == sent
    assert reminder_mails >= len(ZONES)
    assert max(m.sequence for m in mails) + 1 == len(mails)
    assert killed_at < real_time(origin, END.timestamp())  # the kill was mid-stretch
