"""``deploy/``: the systemd units pass ``systemd-analyze verify`` and are of the kind the daemon
speaks to (notify, watchdog, restart); the cron line, run as cron would run it, syncs."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sheets.xlsx import create_workbook
from tests.cycle.test_cycle_e2e import workbook

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("goals-sync.service", "goals-sync-worker.service")
INSTALLED = "/opt/goals-sync/bin/goals-sync"
CONFIG = "/etc/goals-sync/config.yaml"
STATE = "/var/lib/goals-sync"


def _service(unit: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / unit)
    return parser["Service"]


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_is_a_notify_service_with_a_watchdog(unit: str) -> None:
    service = _service(unit)
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] == "10min" and service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a config error: restarting cannot fix it
    command = shlex.split(service["ExecStart"])
    assert command[0] == INSTALLED and command[1] == ("run" if unit == "goals-sync.service" else "worker")
    assert command[2:4] == ["--config", CONFIG] and "--metrics-port" in command


@pytest.mark.process
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_accepts_the_unit(unit: str, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    # verify checks that ExecStart exists: point it at a stand-in executable.
    stand_in = tmp_path / "goals-sync"
    stand_in.write_text(f"#!/bin/sh\nexec {sys.executable} -m sync \"$@\"\n")
    stand_in.chmod(0o755)
    copy = tmp_path / unit
    copy.write_text((DEPLOY / unit).read_text().replace(INSTALLED, str(stand_in)))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True,
                            timeout=60, check=False, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})
    # It exits 0 on settings it ignores (a typo in WatchdogSec, say) but names them: none allowed.
    assert result.returncode == 0 and result.stderr.strip() == "" and result.stdout.strip() == "", \
        result.stdout + result.stderr


def test_the_cron_line_runs_one_cycle(fresh_db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> None:
    lines = [line for line in (DEPLOY / "goals-sync.cron").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    entry = next(line for line in lines if line.split()[0] == "*/5")
    fields = entry.split(maxsplit=6)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"] and fields[5] == "goals"
    command = fields[6]
    assert f"{INSTALLED} run --once --config {CONFIG}" in command

    config = write_config(fresh_db_url)
    create_workbook(tmp_path / "goals.xlsx", workbook())
    state = tmp_path / "state"
    state.mkdir()
    # The paths of a real installation, mapped to this checkout; the rest of the line runs as is.
    local = (command.replace(INSTALLED, f"{sys.executable} -m sync").replace(CONFIG, str(config))
             .replace(f"cd {STATE}", f"cd {ROOT}").replace(STATE, str(state)))
    environment = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    result = subprocess.run(["/bin/sh", "-c", local + " --now 2026-11-03T09:00"], env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 3, result.stderr  # synced, some cells rejected (exit code per SPEC)
    log = (state / "cron.log").read_text()
    assert "cycle partial" in log and "15 rows read" in log
