"""A text sparkline (``▁▂▄▆█``) for the Summary's Trend column."""

from __future__ import annotations

import math
from collections.abc import Sequence

from models.rules._exact import Number, to_fraction

BARS = "▁▂▃▄▅▆▇█"
MIDDLE_BAR = BARS[3]
GAP = " "


def sparkline(values: Sequence[Number | None], width: int = 14) -> str:
    """The last ``width`` values as bars scaled between their own minimum (▁) and maximum (█).

    A missing value is a space; when every value is equal each is the middle
    bar ``▄``; no values give ``''``. Bar = floor(share × 7), exactly, so only
    the maximum is ``█`` and a steady rise 0, ¼, ½, ¾, 1 reads ``▁▂▄▆█``.
    """
    window = list(values)[-width:] if width > 0 else []
    numbers = [to_fraction(v) for v in window if v is not None]
    if not numbers:
        return GAP * len(window)
    low, high = min(numbers), max(numbers)
    top = len(BARS) - 1
    chars = []
    for value in window:
        if value is None:
            chars.append(GAP)
        elif high == low:
            chars.append(MIDDLE_BAR)
        else:
            share = (to_fraction(value) - low) / (high - low)
            chars.append(BARS[math.floor(share * top)])
    return "".join(chars)
