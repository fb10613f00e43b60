"""Helpers for end-to-end tests of the sync cycle through the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, config: Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sync ARGS --config CONFIG`` in a fresh process, as cron would."""
    environment = {k: v for k, v in os.environ.items() if k != "GOALS_DATABASE_URL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sync", *args, "--config", str(config)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False,
    )


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """``write_config(database_url, **sections)`` → path of a config file in tmp_path."""

    def write(database_url: str, **sections: object) -> Path:
        config: dict[str, object] = {
            "timezone": "UTC",
            "database": {"url": database_url},
            "sheets": {"backend": "xlsx", "xlsx_path": str(tmp_path / "goals.xlsx")},
        }
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}  # type: ignore[dict-item]
            else:
                config[key] = value
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    return write
