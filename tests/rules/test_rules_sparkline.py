from decimal import Decimal

from models.rules.sparkline import sparkline

D = Decimal  # short for the many literals below



def test_scaled_between_min_and_max():
    assert sparkline([0, 7]) == "▁█"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([D("10.00"), D("60.00"), D("110.00")]) == "▁▄█"  # the middle is the middle bar
    assert sparkline([0, 25, 50, 75, 100]) == "▁▂▄▆█"  # SPEC.md's example
    assert sparkline([D("0.01"), D("99.99"), D(100)]) == "▁▇█"  # only the maximum is the full bar
    assert sparkline([5, 3, 1]) == "█▄▁"


def test_flat_missing_and_empty():
    assert sparkline([D(40)] * 3) == "▄▄▄"
    assert sparkline([D(40), None, D(40)]) == "▄ ▄"
    assert sparkline([None, D(0), D(100), None]) == " ▁█ "
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""


def test_window_is_the_last_values():
    values = list(range(20))
    line = sparkline(values)
    assert len(line) == 14
    assert line == sparkline(values[-14:])
    assert line[0] == "▁" and line[-1] == "█"
    assert sparkline(values, width=3) == "▁▄█"
