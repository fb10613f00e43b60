"""A text sparkline (``▁▂▄▆█``) for the Summary's Trend column."""

from __future__ import annotations

from collections.abc import Sequence

from models.rules._exact import Number, ratio

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
    # Integer ratios (n, d), d > 0: exact, as Fractions would be, and far cheaper.
    numbers = [ratio(v) if v is not None else None for v in window]
    present = [number for number in numbers if number is not None]
    if not present:
        return GAP * len(window)
    low = high = present[0]
    for n, d in present[1:]:
        if n * low[1] < low[0] * d:
            low = (n, d)
        if n * high[1] > high[0] * d:
            high = (n, d)
    (low_n, low_d), (high_n, high_d) = low, high
    span = high_n * low_d - low_n * high_d  # (high − low) × low_d × high_d, > 0 unless all are equal
    top = len(BARS) - 1
    chars = []
    for number in numbers:
        if number is None:
            chars.append(GAP)
        elif span == 0:
            chars.append(MIDDLE_BAR)
        else:
            n, d = number
            # floor((value − low) / (high − low) × top), exactly
            chars.append(BARS[(n * low_d - low_n * d) * high_d * top // (d * span)])
    return "".join(chars)
