"""What a command does not load: ``--help`` no library at all, a cron turn with nothing due
neither the other backend's library, the ORM models, Alembic, Apprise nor any job.

Each command runs in a fresh ``python -X importtime -m sync`` process, which names on
stderr every module it imports, so a heavy import that creeps back in fails here rather
than silently adding to every cron run (issue 17; the seconds are ``python -m bench``'s).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.processes import CYCLE_LIBRARIES
from sheets.xlsx import create_workbook
from tests.faults.support import GoogleSheet, query, workbook
from tests.sheets_api.server import FakeSheetsServer

ROOT = Path(__file__).resolve().parents[2]
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)

LIBRARIES = ("pandas", "numpy", "sqlalchemy", "psycopg", "pydantic", "yaml", "gspread", "google", "requests",
             "openpyxl", "apprise", "alembic", "tenacity")
"""What ``--help`` must not load: every third-party library the product uses."""
NOT_IN_A_QUIET_TURN = ("alembic", "apprise", "sqlalchemy.orm", "models.tables", "models.embedded", "jobs.achievements",
                       "jobs.notify", "jobs.reminders", "jobs.snapshots", "jobs.messages", "jobs.pace_alerts",
                       "jobs.digest", "jobs.digest_messages", "models.rules.alerts")
"""What a ``run --once`` that finds the schema current and no job due must not load."""
NOT_IN_AN_UNCHANGED_CYCLE = ("pandas", "numpy", "sheets.parse", "models.upserts", "models.staging")
"""What a cycle over an unchanged sheet (nothing in the database changed either) must not load."""
BACKEND_LIBRARIES = {"google": ("openpyxl", "sheets.xlsx"),
                     "xlsx": ("gspread", "google", "requests", "tenacity", "sheets.google")}
"""What each backend's ``run --once`` must not load: the other backend."""


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m sync ARGS`` as cron would; its result and every module it imported."""
    environment = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "sync", *args], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    return result, set(_IMPORTED.findall(result.stderr))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The ``names`` (packages count with their submodules) found among ``modules``."""
    return sorted(name for name in names if any(m == name or m.startswith(name + ".") for m in modules))


@pytest.mark.process
def test_help_loads_no_library() -> None:
    result, modules = imported("--help")
    assert result.returncode == 0 and "run --once" not in result.stderr and "sync" in modules
    assert "run" in result.stdout and "jobs" in result.stdout
    assert loaded(modules, LIBRARIES) == []


@pytest.mark.parametrize("backend", ["google", "xlsx"])
def test_a_quiet_cron_turn_loads_only_what_it_uses(backend: str, fresh_db_url: str, sheets_server: FakeSheetsServer,
                                                   write_config: Callable[..., Path], tmp_path: Path) -> None:
    if backend == "google":
        sheet = GoogleSheet(sheets_server)
        sheet.put(workbook())
        config = write_config(fresh_db_url, sheets=sheet.sheets_config())
    else:
        create_workbook(tmp_path / "goals.xlsx", workbook())
        config = write_config(fresh_db_url)
    first, _ = imported("run", "--once", "--now", "2026-11-17T10:00", "--config", str(config))
    assert first.returncode == 0, first.stderr[-2000:]
    # A minute later the same day: the schema is current, the day's jobs ran, nothing changed.
    quiet, modules = imported("run", "--once", "--now", "2026-11-17T10:01", "--config", str(config))
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert {"pandas", "sqlalchemy", "sync.cycle", "jobs.runner"} <= modules  # the turn did run a cycle
    if backend == "google":  # the bench's "imports alone" (a cron run's floor) are what such a cycle imports
        assert loaded(modules, CYCLE_LIBRARIES) == sorted(CYCLE_LIBRARIES)
    assert loaded(modules, NOT_IN_A_QUIET_TURN + BACKEND_LIBRARIES[backend]) == []
    # A minute later again, nothing changed since that cycle, not even by its jobs: the cycle knows
    # from the database that the sheet answers what it did, and parses nothing (issue 17).
    unchanged, modules = imported("run", "--once", "--now", "2026-11-17T10:02", "--config", str(config))
    assert unchanged.returncode == 0, unchanged.stderr[-2000:]
    assert {"sqlalchemy", "sync.cycle", "jobs.runner"} <= modules
    # openpyxl loads numpy itself when it is installed: the xlsx backend's own cost, not the parser's.
    lean = tuple(name for name in NOT_IN_AN_UNCHANGED_CYCLE if backend == "google" or name != "numpy")
    assert loaded(modules, NOT_IN_A_QUIET_TURN + BACKEND_LIBRARIES[backend] + lean) == []
    assert query(fresh_db_url, "SELECT unchanged FROM sheets_sync_log ORDER BY id") == [(False,), (False,), (True,)]


def test_a_first_migration_builds_no_orm_models(empty_db_url: str, write_config: Callable[..., Path]) -> None:
    # Comparing the schema with the models (db check) needs them; applying the migrations does not.
    result, modules = imported("db", "upgrade", "--config", str(write_config(empty_db_url)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "alembic" in modules and query(empty_db_url, "SELECT version_num FROM alembic_version") != []
    assert loaded(modules, ("sqlalchemy.orm", "models.tables")) == []
