"""A month of weekly digests and pace alerts, walked turn by turn with a real SMTP server.

Berlin time, 1 March to 1 April 2026 (the clocks go forward on the 29th). East: Ana
(steady) and Bo (critical from the 4th; up to behind on the 10th, critical again on
the 11th, on track on the 12th, critical on the 13th); both have Mia as Manager
Email. West: Cy (steady), no Manager Email: ``team_managers`` names Max. Dee has no
team and no manager (she turns critical on the 4th and stays there). East's own
channel is a team URL. The digest goes out on Mondays at 08:00.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from threading import Barrier, Thread
from zoneinfo import ZoneInfo

from jobs.channels import ApprisePoster
from jobs.runner import AFTER_CYCLE, BEFORE_CYCLE, JobOutcome, run_due
from models.engine import make_engine
from models.settings import Settings
from models.store import Store
from tests.jobs.helpers import Book, rows
from tests.jobs.mailbox import TEAM_ADDRESS, Mail, Mailbox

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 1, 0, 0, tzinfo=TZ)
END = datetime(2026, 4, 1, 0, 0, tzinfo=TZ)
ANA, BO, CY, DEE = (f"{who}@example.com" for who in ("ana", "bo", "cy", "dee"))
MIA, MAX = "mia@example.com", "max@example.com"
MONDAYS = [2, 9, 16, 23, 30]


@dataclass(frozen=True)
class _Text:
    subject: str
    body: str


def _settings(jobs_settings: Callable[..., Settings], smtp: Mailbox, path: Path) -> Settings:
    return jobs_settings(timezone="Europe/Berlin", sheets={"xlsx_path": str(path)}, notifications={
        "team_urls": {"East": [smtp.url(TEAM_ADDRESS)]}, "team_managers": {"west": [MAX]},
        "digest": {"weekday": "Monday", "time": "08:00"}, "pace_alerts": True})


def _workbook(path: Path) -> Book:
    book = Book(path, {"Reps": [
        [ANA, "Ana", "East", True, 10, None, MIA],
        [BO, "Bo", "East", True, 20, None, MIA],
        [CY, "Cy", "West", True, 10, None, None],
        [DEE, "Dee", None, True, 5, None, None],
    ]})
    book.tabs["Reps"][0] = [*book.tabs["Reps"][0], "Manager Email"]
    book.save()
    return book


def _edits(book: Book) -> dict[tuple[int, int], list[tuple[str, int]]]:
    """(day, hour) → the March signups typed in then."""
    return {
        (2, 12): [],  # goals, see _goals
        (3, 12): [(ANA, 3), (CY, 3)],
        (9, 12): [(ANA, 5), (CY, 5)],
        (10, 12): [(BO, 6)],
        (11, 12): [(BO, 3)],
        (12, 12): [(BO, 8)],
        (13, 12): [(BO, 3)],
        (16, 12): [(ANA, 7), (CY, 7)],
        (20, 12): [(ANA, 10)],
        (23, 12): [(CY, 10)],
    }


def _walk(book: Book, settings: Settings, store: Store, smtp: Mailbox) -> list[tuple[datetime, Mail]]:
    notifier = ApprisePoster(settings.notifications)
    edits = _edits(book)
    received: list[tuple[datetime, Mail]] = []
    moment = START
    while moment <= END:
        local = moment.astimezone(TZ)
        if local.hour in (0, 8, 12):
            changes = edits.get((local.day, local.hour)) if local.month == 3 else None
            if local.day == 2 and local.hour == 12 and local.month == 3:
                for email, goal in ((ANA, 10), (BO, 20), (CY, 10)):
                    book.put("Monthly Goals", [email, 2026, 3], [email, 2026, 3, goal, None, None])
            for email, signups in changes or []:
                book.put("Actuals", [email, 2026, 3], [email, 2026, 3, signups, None])
            outcomes = run_due(store, settings, notifier, moment, jobs=BEFORE_CYCLE)
            book.cycle(settings, store, moment)
            outcomes += run_due(store, settings, notifier, moment, jobs=AFTER_CYCLE)
            assert all(outcome.status == "success" for outcome in outcomes), outcomes
            received += [(local, mail) for mail in smtp.take()]
        moment = (moment.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(TZ)
    return received


def test_a_month_of_digests_and_pace_alerts(jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox,
                                            workbook_path: Path) -> None:
    settings = _settings(jobs_settings, smtp, workbook_path)
    received = _walk(_workbook(workbook_path), settings, store, smtp)

    digests = [(local, mail) for local, mail in received if mail.subject.startswith("Weekly digest")]
    # One digest per manager and per team channel every Monday at 08:00, never twice.
    assert Counter((local.day, local.hour, mail.to) for local, mail in digests) == Counter(
        {(day, 8, to): 1 for day in MONDAYS for to in ((MIA,), (MAX,), (TEAM_ADDRESS,))})
    by = {(local.day, mail.to[0]): _Text(mail.subject, mail.body.replace("\r\n", "\n").strip())
          for local, mail in digests}
    assert by[(9, MIA)].subject == "Weekly digest 9 March: East"
    assert by[(9, MAX)].subject == "Weekly digest 9 March: West"
    assert by[(9, MIA)].body == by[(9, TEAM_ADDRESS)].body
    assert by[(9, MIA)].body == (
        "Hello,\n\nWhere your team stands on Monday 9 March 2026 (29% of the month gone):\n\n"
        "East (rank 2 of 2, 2 reps): 3 of 30 signups (10%), pace critical\n"
        "Standings:\n"
        "  1. Ana: 3 of 10 signups (30%), on track\n"
        "  2. Bo: 0 of 20 signups (0%), critical\n"
        "Behind or critical:\n"
        "  - Bo: critical, 0 of 20 signups (0%), 5.8 behind the 5.8 expected by now\n"
        "Achievements this week: none\n"
        "Pace alerts this week:\n"
        "  - Bo turned critical on Wednesday 4 March: 0% of the signup goal with 13% of the month gone\n\n"
        "The 'Team', 'Summary' and 'Charts' tabs have the details.")
    west = by[(9, MAX)].body
    assert "West (rank 1 of 2, 1 rep): 3 of 10 signups (30%), pace on track" in west
    assert "Behind or critical: nobody" in west and "Bo" not in west and "Dee" not in west
    # The week's achievements, and from the 25th who has not set next month's goals.
    assert "  - Ana reached the March 2026 signup goal: 10 of 10 signups (100%)" in by[(23, MIA)].body
    assert "Ana reached" not in by[(30, MIA)].body
    assert "  - Cy reached the March 2026 signup goal: 10 of 10 signups (100%)" in by[(30, MAX)].body
    assert "Not yet set their April goals: Ana, Bo" in by[(30, MIA)].body
    assert "April goals" not in by[(23, MIA)].body
    # Bo's second alert (the 11th) is in the digest of the 16th, not the one of the 9th.
    assert "Bo turned critical on Wednesday 11 March: 15% of the signup goal with 35% of the month gone" \
        in by[(16, MIA)].body

    # Pace alerts: when a rep turns critical, at most once a week; staying critical sends nothing more.
    alerts = [(local.day, local.hour, mail.to[0]) for local, mail in received
              if mail.subject == "Your March goals: behind pace"]
    assert alerts == [(4, 0, BO), (4, 0, DEE), (11, 12, BO)]  # not the 13th: same week as the 11th
    first = next(mail for local, mail in received if mail.to == (BO,) and "behind pace" in mail.subject)
    assert "With 13% of March gone, you are at 0% of your signup goal" in first.body
    assert "That is 0.74 signups a day from now to the end of March." in first.body
    stored = rows(store, """SELECT r.email, p.week_start, p.sent_at IS NOT NULL, p.attempts FROM pace_alerts p
                            JOIN sales_reps r ON r.id = p.sales_rep_id ORDER BY p.id""")
    assert [(email, str(week), sent, attempts) for email, week, sent, attempts in stored] == [
        (BO, "2026-03-02", True, 1), (DEE, "2026-03-02", True, 1), (BO, "2026-03-09", True, 1)]
    assert rows(store, "SELECT count(*) FROM digest_deliveries WHERE sent_at IS NOT NULL") == [(15,)]


def test_two_daemons_and_a_late_cron_run_send_each_digest_once(
        jobs_settings: Callable[..., Settings], store: Store, smtp: Mailbox, workbook_path: Path,
        fresh_db_url: str) -> None:
    settings = _settings(jobs_settings, smtp, workbook_path)
    book = _workbook(workbook_path)
    monday = datetime(2026, 3, 9, 8, 0, tzinfo=TZ)
    book.cycle(settings, store, monday - timedelta(hours=1))
    smtp.delay = 0.3  # a slow server widens the window in which both could send
    outcomes: list[JobOutcome] = []
    barrier = Barrier(2)

    def daemon() -> None:
        own = Store(make_engine(fresh_db_url))
        try:
            barrier.wait()
            outcomes.extend(run_due(own, settings, ApprisePoster(settings.notifications), monday, jobs=["digest"]))
        finally:
            own.dispose()

    threads = [Thread(target=daemon) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    late = run_due(store, settings, ApprisePoster(settings.notifications), monday + timedelta(hours=3),
                   jobs=["digest"])
    assert late == []  # already done for this Monday
    assert sorted(mail.to[0] for mail in smtp.take()) == sorted([MAX, MIA, TEAM_ADDRESS])
    assert sorted(outcome.status for outcome in outcomes) in (["skipped", "success"], ["success"])
