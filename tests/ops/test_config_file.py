"""The commented ``config.yaml`` in the repository loads, and its values are exactly the defaults
(so the file documents every key, the new ``metrics`` and ``logging.format`` ones included)."""

from __future__ import annotations

from pathlib import Path

from models.settings import Settings
from sync.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_config_file_is_the_defaults() -> None:
    settings = load_settings(ROOT / "config.yaml")
    assert settings == Settings()
    assert settings.metrics.port is None and settings.logging.format == "text"
