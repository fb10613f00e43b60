"""Scheduled jobs: snapshots, achievements, deadline reminders and announcements.

Each job is a function of ``(store, settings, notifier, now)`` that is safe to
run again and from two processes at once (unique constraints, ``ON CONFLICT DO
NOTHING``, ``FOR UPDATE SKIP LOCKED``). ``jobs.runner`` decides which jobs are
due from the ``job_runs`` table, so cron, a restarted daemon and a daemon that
never stopped all do the same work. Nothing here imports SQLAlchemy: the SQL
lives in ``models.job_queries``.
"""
