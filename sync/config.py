"""Load ``config.yaml``: expand ``${ENV_VAR}``, validate with pydantic, explain problems plainly."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import ConfigError
from models.redact import SECRET_SETTING_KEYS, mask_secrets
from models.settings import Settings

"""Keys whose values are never echoed back in an error message."""

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: Any, path: str, source: Path) -> Any:
    """Replace ``${NAME}`` in every string with the environment variable's value."""
    if isinstance(value, dict):
        return {key: _expand(item, f"{path}.{key}" if path else str(key), source)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, f"{path}[{index}]", source) for index, item in enumerate(value)]
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"{source}: {path} refers to ${{{name}}}, but that environment variable is not set"
                )
            return os.environ[name]
        return _ENV_REFERENCE.sub(substitute, value)
    return value


def _describe(error: ValidationError, source: Path) -> str:
    """One line per bad key, e.g. ``config.yaml: goals.pace.ahead: Input should be a valid number``."""
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see the commented config.yaml in the repository)"
        else:
            message = item["msg"].removeprefix("Value error, ")
            secret = any(str(part) in SECRET_SETTING_KEYS for part in item["loc"])
            if not secret and item["type"] != "missing" and not isinstance(item.get("input"), dict | None):
                # A URL typed where a section belongs (``database: postgresql://…``) carries its password.
                message += f" (got {mask_secrets(repr(item['input']))})"
        lines.append(f"{source}: {key}: {message}")
    return "\n".join(lines)


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read and validate the config file; raise ConfigError with a plain message on any problem."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: config file not found (pass --config PATH, or copy config.yaml from the repository)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{source}: cannot read the config file ({error.strerror})") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys like 'timezone:' and 'sheets:'")
    expanded = _expand(raw, "", source)
    try:
        return Settings.model_validate(expanded)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None
