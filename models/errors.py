"""The project's error hierarchy and exit codes: every message is written for a person to act on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes SPEC.md lists; every command, job and cycle result returns one."""

    OK = 0
    FAILED = 1
    USAGE = 2  # bad config or command line
    REJECTED_INPUT = 3  # the cycle ran, but some input was refused (see Sync Errors)
    LOCKED = 75  # EX_TEMPFAIL: another process holds the lock; skipped


class GoalsSyncError(Exception):
    """Base class; ``str(error)`` is a complete, plain-language message."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(GoalsSyncError):
    """The config file is missing, unreadable or has a bad key or value."""

    exit_code = ExitCode.USAGE


class SheetsError(GoalsSyncError):
    """The spreadsheet could not be read or written."""


class SheetsAccessDenied(SheetsError):
    """403: the spreadsheet is not shared with the service account."""


class SpreadsheetNotFound(SheetsError):
    """404: the spreadsheet id (or the workbook path) is wrong."""


class SheetsUnavailable(SheetsError):
    """Retries ran out on 429/5xx/timeouts/connection errors."""


class SheetsRequestError(SheetsError):
    """Any other refusal from the Sheets API (a 400, for example)."""


class StoreError(GoalsSyncError):
    """The database could not be reached or refused a statement."""


class LockHeld(GoalsSyncError):
    """Another cycle holds the advisory lock; this one was skipped."""

    exit_code = ExitCode.LOCKED


class NotifyError(GoalsSyncError):
    """A notification could not be delivered (it will be retried)."""


class MetricsServerError(GoalsSyncError):
    """The metrics and health endpoint could not listen on its port."""
