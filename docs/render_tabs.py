"""Render output tabs of a workbook to PNG, to look at them as a manager would.

    python docs/render_tabs.py var/demo-goals.xlsx docs/images Summary=A1:P13 Charts

Each tab is saved alone (landscape, its print area one page wide: the range given
after ``=``, else the whole tab; for a tab with charts, the charts) and converted with
LibreOffice (``soffice --headless --convert-to pdf``), then its first page with
``pdftoppm -png``. Needs the ``libreoffice-calc`` and ``poppler-utils`` packages.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter


def _charts_area(sheet: Any) -> str | None:
    """The cells under the tab's charts (they sit right of the data), or None without charts."""
    anchors = [chart.anchor._from for chart in sheet._charts]
    if not anchors:
        return None
    first = min(anchor.col for anchor in anchors)
    return f"{get_column_letter(first + 1)}1:{get_column_letter(first + 11)}{max(a.row for a in anchors) + 20}"


def render(workbook: Path, out_dir: Path, tab: str, *, area: str | None = None, dpi: int = 110) -> Path:
    """``out_dir/<tab>.png``: the first page of ``tab`` alone, its print area one page wide."""
    with tempfile.TemporaryDirectory() as folder:
        book = openpyxl.load_workbook(workbook)
        for name in book.sheetnames:
            if name != tab:
                book.remove(book[name])
        sheet = book[tab]
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 1 if area or sheet._charts else 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_area = area or _charts_area(sheet) or sheet.dimensions
        single = Path(folder) / f"{tab.lower().replace(' ', '-')}.xlsx"
        book.save(single)
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", folder, str(single)],
                       check=True, capture_output=True, timeout=300)
        pdf = single.with_suffix(".pdf")
        page = ["-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        grey = Path(folder) / "page"
        subprocess.run(["pdftoppm", "-gray", *page, str(pdf), str(grey)], check=True, timeout=120)
        left, top, width, height = _content_box(grey.with_suffix(".pgm").read_bytes(), margin=dpi // 8)
        target = out_dir / single.stem
        subprocess.run(["pdftoppm", "-png", *page, "-x", str(left), "-y", str(top), "-W", str(width),
                        "-H", str(height), str(pdf), str(target)], check=True, timeout=120)
    return target.with_suffix(".png")


def _content_box(pgm: bytes, *, margin: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the non-white part of a binary PGM page, plus a margin (the
    page is mostly paper: the picture should be the table)."""
    magic, width, height, _maximum, pixels = pgm.split(maxsplit=4)
    if magic != b"P5":
        raise ValueError("not a binary PGM")
    columns, rows = int(width), int(height)
    inked_rows = [r for r in range(rows) if min(pixels[r * columns:(r + 1) * columns]) < 235]
    if not inked_rows:
        return 0, 0, columns, rows
    inked_columns = [c for c in range(columns)
                     if min(pixels[c + r * columns] for r in range(inked_rows[0], inked_rows[-1] + 1, 2)) < 235]
    left, right = max(inked_columns[0] - margin, 0), min(inked_columns[-1] + margin, columns - 1)
    top, bottom = max(inked_rows[0] - margin, 0), min(inked_rows[-1] + margin, rows - 1)
    return left, top, right - left + 1, bottom - top + 1


def main(argv: list[str]) -> int:
    """Render each named tab (default: Summary, Team, History, Charts)."""
    if len(argv) < 2:
        print(__doc__)
        return 2
    workbook, out_dir = Path(argv[0]), Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for wanted in argv[2:] or ["Summary", "Team", "History", "Charts"]:
        tab, _, area = wanted.partition("=")
        print(render(workbook, out_dir, tab, area=area or None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
