"""How the fake server shows a cell: unformatted JSON values or formatted strings."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from sheets.outputs import SERIAL_EPOCH

_DATE_TYPES = {"DATE", "TIME", "DATE_TIME"}
_DATE_TOKENS = [
    ("yyyy", "%Y"), ("yy", "%y"), ("dd", "%d"), ("hh", "%H"), ("ss", "%S"),
]


def json_number(value: float | int) -> float | int:
    """Google writes whole doubles without a fraction (``5``, not ``5.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def is_date_format(number_format: dict[str, Any] | None) -> bool:
    """True for DATE, TIME and DATE_TIME number formats."""
    return number_format is not None and number_format.get("type") in _DATE_TYPES


def format_value(value: Any, number_format: dict[str, Any] | None) -> str:
    """The text Sheets shows for ``value`` under ``number_format`` (en_US locale)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    number = float(value)
    if not math.isfinite(number):
        return "#NUM!"
    pattern = (number_format or {}).get("pattern") or ""
    kind = (number_format or {}).get("type")
    if kind in _DATE_TYPES:
        return _format_date(number, pattern or _default_date_pattern(kind))
    if pattern:
        return _format_pattern(number, pattern)
    if kind == "PERCENT":
        return _format_pattern(number, "0.00%")
    if kind == "CURRENCY":
        return _format_pattern(number, "$#,##0.00")
    return _general(number)


def _general(number: float) -> str:
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return format(number, ".10g")


def _format_pattern(number: float, pattern: str) -> str:
    percent = pattern.endswith("%")
    if percent:
        number *= 100
    prefix = "$" if pattern.startswith("$") else ""
    body = pattern.strip("$%")
    decimals = len(body.partition(".")[2].rstrip("%")) if "." in body else 0
    grouping = "," if "," in body else ""
    sign = "-" if number < 0 else ""
    text = format(abs(number), f"{grouping}.{decimals}f")
    return f"{sign}{prefix}{text}{'%' if percent else ''}"


def _default_date_pattern(kind: str) -> str:
    return {"DATE": "m/d/yyyy", "TIME": "h:mm:ss am/pm", "DATE_TIME": "m/d/yyyy h:mm:ss"}[kind]


def _format_date(serial: float, pattern: str) -> str:
    moment = SERIAL_EPOCH + timedelta(days=serial)
    # "mm" is a month except next to hours or seconds, as in Sheets.
    text = re.sub(r"(h+:)mm", r"\1%M", pattern)
    text = re.sub(r"mm(:s+)", r"%M\1", text)
    for token, directive in _DATE_TOKENS:
        text = text.replace(token, directive)
    text = text.replace("mm", "%m")
    text = re.sub(r"(?<!%)\bm\b", str(moment.month), text)
    text = re.sub(r"(?<!%)\bd\b", str(moment.day), text)
    text = re.sub(r"(?<!%)\bh\b", str(moment.hour % 12 or 12), text)
    text = text.replace("am/pm", "AM" if moment.hour < 12 else "PM")
    return moment.strftime(text)
