"""JSON logs through the command line: one object per line, with a cycle's status, counts, source
and duration (and each job's) as fields a log aggregator can query, secrets masked in them too."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models.settings import Settings
from sheets.xlsx import create_workbook
from sync.logs import configure_logging
from tests.cycle.conftest import run_cli
from tests.cycle.test_cycle_e2e import workbook


@pytest.mark.parametrize("spelling", [{"format": "json"}, {"json": True}], ids=["format-json", "json-true"])
def test_run_once_logs_counts_status_source_and_durations_as_json_fields(
        spelling: dict[str, Any], fresh_db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> None:
    config = write_config(fresh_db_url, logging=spelling)
    create_workbook(tmp_path / "goals.xlsx", workbook())

    result = run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config)

    assert result.returncode == 3, result.stderr  # done, with rejected input
    lines = result.stderr.splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    cycle = next(r for r in records if r.get("event") == "cycle")
    assert cycle["levelname"] == "INFO" and cycle["message"].startswith("cycle partial")
    assert cycle["source"] == "default"
    assert cycle["status"] == "partial"
    assert cycle["rows_read"] == 15 and cycle["problems"] == 5  # carol's duplicated key is one problem
    assert cycle["rows_upserted"] > 0 and cycle["api_reads"] == 1
    assert isinstance(cycle["seconds"], float) and 0 < cycle["seconds"] < 60
    assert set(cycle["tabs_written"]) == {"Summary", "Leaderboard", "Sync Errors", "Team", "History", "Charts"}
    jobs = {r["job"]: r for r in records if r.get("event") == "job"}
    assert jobs["snapshot"]["status"] == "success" and jobs["snapshot"]["source"] == "default"
    assert jobs["snapshot"]["counts"]["day"] == "2026-11-02"
    assert jobs["reminders"]["scheduled_for"].startswith("2026-11-03T09:00")
    assert isinstance(jobs["reminders"]["counts"]["created"], int)


def test_plain_logs_stay_plain_text(fresh_db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> None:
    config = write_config(fresh_db_url)
    create_workbook(tmp_path / "goals.xlsx", workbook())
    result = run_cli("run", "--once", "--now", "2026-11-03T09:00", config=config)
    cycle = next(line for line in result.stderr.splitlines() if "sync.cycle" in line)
    assert " INFO sync.cycle: cycle partial in " in cycle and not cycle.startswith("{")


def test_a_secret_inside_a_json_field_is_masked(settings_factory: Callable[..., Settings],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    secret = "s3cret-Passw0rd"
    settings = settings_factory(database={"url": f"postgresql://goals:{secret}@db.internal/goals"},
                                logging={"format": "json"})
    configure_logging(settings)
    try:
        logging.getLogger("sync.cycle").error("cycle failed", extra={
            "error": f"could not connect as goals:{secret}", "counts": {"detail": [f"x{secret}x"]}})
    finally:
        logging.getLogger().handlers.clear()
    record = json.loads(capsys.readouterr().err)
    assert record["error"] == "could not connect as goals:***"
    assert record["counts"] == {"detail": ["x***x"]}
