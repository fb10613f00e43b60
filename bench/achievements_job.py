"""The achievement job at scale: ``python -m bench.achievements_job [REPS] [MONTHS]``.

Prints seconds, this process's CPU seconds (the job's Python side; PostgreSQL's work is in
the wall time only) and SQL statements for: the first run over a freshly loaded history (every
month is new, so every month is evaluated once: revocations need it, nothing old is earned),
an idle run, and a run after corrections (one rep's month two years back, and 5 % of the reps'
current month). Uses the server of ``GOALS_DATABASE_URL`` (or the embedded one), in a fresh
database that is dropped afterwards.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from sqlalchemy import text

from bench.database import fresh_database, server_url
from jobs.achievements import detect_achievements
from models.engine import make_engine
from models.migrate import upgrade
from models.settings import Settings
from models.store import Store

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _load(store: Store, settings: Settings, reps: int, months: int) -> None:
    with store.transaction(NOW) as tx:
        tx.write_settings(settings)
        tx.connection.execute(text("""
            INSERT INTO sales_reps (email, name, monthly_signup_goal)
            SELECT 'rep' || i || '@example.com', 'Rep ' || i, 10 FROM generate_series(1, :reps) AS i
        """), {"reps": reps})
        # Most months met (a rep misses about one month in seven), goals set on the 2nd.
        tx.connection.execute(text("""
            INSERT INTO rep_monthly_goals (sales_rep_id, goal_year, goal_month, signup_goal, signups_actual,
                                           revenue_goal, revenue_actual, deadline, goal_set_at)
            SELECT r.id, extract(year FROM m)::int, extract(month FROM m)::int, 10,
                   CASE WHEN (r.id + extract(month FROM m)::int) % 7 = 0 THEN 6 ELSE 10 + r.id % 20 END,
                   5000, 5000 + (r.id % 3) * 100,
                   m + interval '6 days', m + interval '1 day'
            FROM sales_reps r
            CROSS JOIN generate_series(date '2026-11-01' - make_interval(months => :months - 1),
                                       date '2026-11-01', interval '1 month') AS m
        """), {"months": months})
        tx.refresh_derived(settings, now=NOW, year=2026, month=11)


def _run(label: str, store: Store, settings: Settings) -> None:
    before = store.statement_count
    started, cpu = time.perf_counter(), time.process_time()
    counts = detect_achievements(store, settings, None, NOW)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:<44} {seconds:7.2f} s  CPU {cpu:5.2f} s  {store.statement_count - before:3d} statements  {counts}")


def main(reps: int = 2000, months: int = 25) -> None:
    """Load ``reps`` × ``months`` goal rows and time three runs of the achievement job."""
    with fresh_database(server_url(), "achievements") as url:
        upgrade(url)
        settings = Settings.model_validate({"database": {"url": url}})
        store = Store(make_engine(url))
        try:
            _load(store, settings, reps, months)
            print(f"{reps} reps x {months} months = {reps * months} goal rows")
            _run("first run (whole history new)", store, settings)
            _run("idle run", store, settings)
            with store.transaction(NOW) as tx:
                tx.connection.execute(text("""
                    UPDATE rep_monthly_goals SET signups_actual = 3 WHERE sales_rep_id = 1 AND goal_year = 2025
                      AND goal_month = 1"""))
                tx.connection.execute(text("""
                    UPDATE rep_monthly_goals SET signups_actual = signups_actual - 5
                    WHERE sales_rep_id % 20 = 0 AND goal_year = 2026 AND goal_month = 11"""))
            _run("after corrections (old month + 5 % of reps)", store, settings)
            _run("idle run", store, settings)
        finally:
            store.dispose()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
