"""A local .xlsx workbook as the spreadsheet (openpyxl): same contract as the Google backend.

Reading returns what Sheets returns with ``UNFORMATTED_VALUE`` and
``FORMATTED_STRING``: numbers (ints when whole), dates and times as text in
Sheets' default (en_US) formats (``11/3/2026``, ``11/3/2026 18:00:00``,
``6:00:00 AM``; openpyxl gives a date-formatted cell as a datetime), booleans,
errors as text (``#REF!``), ``None``
for an empty cell inside a row (the Google backend maps Google's ``""`` to
``None`` too); trailing empty cells and rows are trimmed.
Formula cells read as the value the spreadsheet application last computed
and cached in the file; openpyxl computes nothing, so a formula that was
never calculated (a file written by a script and never opened in Excel or
LibreOffice) reads as blank.

Writing rewrites the output tabs whole (values, bold frozen header, number
formats, widths, pace colours, side block); every other tab keeps its cells,
formulas and the cached results of those formulas (openpyxl drops cached
results when it saves, so they are put back into the saved XML). A tab's
charts (the Charts tab) are native line charts; openpyxl reads charts back
when it loads the file, so a chart tab that is not rewritten keeps them, but
pictures and other drawings are not kept: keep them out of this workbook. The
file is replaced atomically: a crash mid-save leaves the previous workbook intact.
If someone else saves the workbook while ours is being saved (seconds for a
large one), their file is kept and ours is redone on top of it: the file's
digest is compared right before the rename. (An advisory ``flock`` would not
help: spreadsheet apps do not take one.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import math
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from models.errors import SheetsError, SpreadsheetNotFound
from models.settings import TabNames
from sheets.formatting import NUMBER_FORMATS
from sheets.outputs import PACE_COLOURS, Cell, Chart, Finish, OutputTable, RawGrid, TabWrite, WriteReport

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 3
"""Writes of the output tabs per cycle when someone else keeps saving the workbook meanwhile."""

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_FORMULA_PREFIXES = ("=", "+", "-", "@")
_LARGEST_EXACT = 1e15
"""Sheets prints up to 15 significant digits: a whole float above that stays a float."""


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell for :func:`create_workbook`, with the value a spreadsheet app would have cached."""

    text: str
    """The formula, starting with ``=``."""
    cached: str | int | float | bool | None = None


# --- reading ------------------------------------------------------------------------------------------


def _date_text(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    """A date/time cell as Sheets shows it by default (en_US), as FORMATTED_STRING gives it."""
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if isinstance(value, dt.datetime):
        day = f"{value.month}/{value.day}/{value.year}"
        return day if value.time() == dt.time() else f"{day} {value.hour}:{value.minute:02d}:{value.second:02d}"
    if isinstance(value, dt.date):
        return f"{value.month}/{value.day}/{value.year}"
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}:{value.second:02d} {'AM' if value.hour < 12 else 'PM'}"


def _number(value: float) -> int | float:
    if value.is_integer() and abs(value) < _LARGEST_EXACT:
        return int(value)
    return value


def _google_value(value: object) -> Cell:
    """One openpyxl value as the Sheets API would give it."""
    if value is None or isinstance(value, bool | str):
        return value  # type: ignore[return-value]
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _number(value) if math.isfinite(value) else "#NUM!"
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return _date_text(value)
    return str(value)


def _grid(rows: Sequence[Sequence[object]]) -> RawGrid:
    grid: RawGrid = []
    for raw in rows:
        row = [_google_value(v) for v in raw]
        while row and (row[-1] is None or row[-1] == ""):
            row.pop()
        grid.append([None if v == "" else v for v in row])
    while grid and not grid[-1]:
        grid.pop()
    return grid


def _sheet_named(names: Sequence[str], wanted: str) -> str | None:
    """Exact tab name, else the one that differs only in case (spreadsheet apps treat them as one)."""
    if wanted in names:
        return wanted
    return next((n for n in names if n.casefold() == wanted.casefold()), None)


# --- cached formula results ---------------------------------------------------------------------------


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Tab title → path of its worksheet XML inside the package."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{_PKG_REL}}}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{{{_MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{_DOC_REL}}}id"), "")
        if not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[sheet.get("name", "")] = os.path.normpath(path).replace(os.sep, "/")
    return parts


_Cached = dict[str, tuple[str | None, str]]
"""Cell reference → (``t`` attribute, cached ``<v>`` text) of each formula cell."""


_ANY_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _cached_results(archive: zipfile.ZipFile, part: str) -> _Cached:
    cached: _Cached = {}
    if not _ANY_FORMULA.search(archive.read(part)):
        return cached  # most input tabs hold plain values: skip the slower XML walk
    with archive.open(part) as source:
        for _, element in ET.iterparse(source):
            if element.tag != f"{{{_MAIN}}}c":
                continue
            formula = element.find(f"{{{_MAIN}}}f")
            value = element.findtext(f"{{{_MAIN}}}v")
            if formula is not None and value is not None and element.get("r"):
                cached[element.get("r", "")] = (element.get("t"), value)
            element.clear()
    return cached


# openpyxl writes a formula cell as <c r="B2" s="1"><f>A2*2</f><v /></c> (no t, empty v).
_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f([^>/]*)>(.*?)</f><v ?/></c>', re.DOTALL)


def _with_cached(xml: str, cached: _Cached) -> str:
    def put_back(match: re.Match[str]) -> str:
        found = cached.get(match[1])
        if found is None:
            return match[0]
        kind, value = found
        attrs = re.sub(r'\st="[^"]*"', "", match[2]) + (f" t={quoteattr(kind)}" if kind else "")
        return f'<c r="{match[1]}"{attrs}><f{match[3]}>{match[4]}</f><v>{escape(value)}</v></c>'

    return _FORMULA_CELL.sub(put_back, xml)


def _restore_cached(path: Path, cached: Mapping[str, _Cached]) -> None:
    """Rewrite the package at ``path`` with the cached results put back into its formula cells."""
    wanted = {title: values for title, values in cached.items() if values}
    if not wanted:
        return
    patched = path.with_name(path.name + ".patch")
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
            parts = {part: wanted[title] for title, part in _sheet_parts(source).items() if title in wanted}
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename in parts:
                    data = _with_cached(data.decode("utf-8"), parts[item.filename]).encode("utf-8")
                target.writestr(item, data)
        os.replace(patched, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            patched.unlink()


# --- writing ------------------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _put(ws: Worksheet, row: int, column: int, value: Cell) -> None:
    """One value as data: text that looks like a formula stays text."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    if isinstance(value, str):
        value = _clean_text(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        cell.data_type = "s"  # openpyxl made '=…' a formula; an inline string is never evaluated
        cell.quotePrefix = True  # and the app keeps it text when someone edits the cell


def _pixels_to_width(pixels: int) -> float:
    """Sheets column width in pixels → Excel character width (Calibri 11: 7 px a character + 5)."""
    return round(max(pixels - 5, 7) / 7, 2)


def _fill(colour: str) -> PatternFill:
    rgb = colour.lstrip("#").upper()
    return PatternFill(fill_type="solid", start_color=f"FF{rgb}", end_color=f"FF{rgb}")


def _write_table(ws: Worksheet, table: OutputTable) -> None:
    layout = table.layout
    bold = Font(bold=True)
    for col, header in enumerate(table.header, start=1):
        _put(ws, 1, col, header)
        ws.cell(row=1, column=col).font = bold
    for r, values in enumerate(table.rows, start=2):
        for col, value in enumerate(values, start=1):
            _put(ws, r, col, value)
    last_row = len(table.rows) + 1
    for col, column in enumerate(layout.columns, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = _pixels_to_width(column.width)
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format:
            for r in range(2, last_row + 1):
                ws.cell(row=r, column=col).number_format = number_format["pattern"]
    if layout.colour_column in table.header:
        col = table.header.index(layout.colour_column) + 1
        colours = dict(layout.colours) or PACE_COLOURS
        fills = {text: _fill(colour) for text, colour in colours.items()}
        for r in range(2, last_row + 1):
            fill = fills.get(str(ws.cell(row=r, column=col).value))
            if fill is not None:
                ws.cell(row=r, column=col).fill = fill
    if table.side_block and layout.side_block_column is not None:
        start = layout.side_block_column + 1
        for r, values in enumerate(table.side_block, start=1):
            for offset, value in enumerate(values):
                _put(ws, r, start + offset, value)
            if values:
                ws.cell(row=r, column=start).font = bold
        ws.column_dimensions[get_column_letter(start)].width = 18
        ws.column_dimensions[get_column_letter(start + 1)].width = 28
    for row in layout.bold_rows:
        for col in range(1, len(layout.columns) + 1):
            ws.cell(row=row + 2, column=col).font = bold
    for chart in layout.charts:
        _add_chart(ws, chart)
    if layout.frozen_rows:
        ws.freeze_panes = f"A{layout.frozen_rows + 1}"


_PIXELS_PER_CM = 37.8


def _add_chart(ws: Worksheet, chart: Chart) -> None:
    """A native line chart over the tab's own cells, as the Google backend draws it."""
    line = LineChart()
    line.title = chart.title
    line.x_axis.title = chart.x_title
    line.y_axis.title = chart.y_title
    # openpyxl 3.1 marks axes as deleted unless told otherwise: Excel and LibreOffice then hide them.
    line.x_axis.delete = False
    line.y_axis.delete = False
    line.legend.position = "b"
    if chart.y_percent:
        line.y_axis.number_format = "0%"
        line.y_axis.numFmt.sourceLinked = False
    line.width = chart.width / _PIXELS_PER_CM
    line.height = chart.height / _PIXELS_PER_CM
    for series in chart.series:
        data = Reference(ws, min_col=series.column + 1, min_row=1, max_row=chart.rows + 1)
        line.add_data(data, titles_from_data=True)
        drawn = line.series[-1]
        drawn.smooth = False
        drawn.marker.symbol = "none"
        drawn.graphicalProperties.line.solidFill = series.colour.lstrip("#").upper()
        drawn.graphicalProperties.line.width = 28575  # 2.25 pt, in EMU
        if series.dashed:
            drawn.graphicalProperties.line.dashStyle = "dash"
    line.set_categories(Reference(ws, min_col=chart.domain_column + 1, min_row=2, max_row=chart.rows + 1))
    ws.add_chart(line, f"{get_column_letter(chart.anchor_column + 1)}{chart.anchor_row + 1}")


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


_STALE_SECONDS = 600


def _remove_stale_temps(path: Path, now: float) -> None:
    """Temporary files a killed save left behind (old enough that no save can still be using them)."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp*"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > _STALE_SECONDS:
                leftover.unlink()


class _ChangedMeanwhile(Exception):
    """The workbook on disk is no longer the one the save started from (someone else saved it)."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_save(workbook: openpyxl.Workbook, path: Path, cached: Mapping[str, _Cached] | None = None, *,
                 expected: str | None = None) -> None:
    """Save to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    ``expected``: the digest of the file the workbook was loaded from. Checked right before the
    rename: if the file changed meanwhile (a person saved it during our save, which takes seconds
    for a large workbook), ``_ChangedMeanwhile`` is raised and their file is left as it is.
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(name)
    try:
        workbook.save(temp)
        _restore_cached(temp, cached or {})
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        if expected is not None and _digest(path.read_bytes()) != expected:
            raise _ChangedMeanwhile
        os.replace(temp, path)
        _fsync_dir(path.parent)
        _remove_stale_temps(path, os.path.getmtime(path))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def create_workbook(path: Path, tabs: Mapping[str, Sequence[Sequence[object]]]) -> None:
    """Write a new workbook with these tabs (for the demo and tests); values are written as given.

    Text is stored as text (never a formula); a :class:`Formula` cell is a
    formula with its cached result, as if a spreadsheet app had calculated it.
    Dates and datetimes are stored as dates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    cached: dict[str, _Cached] = {}
    for title, rows in tabs.items():
        ws = workbook.create_sheet(title)
        for r, values in enumerate(rows, start=1):
            for col, value in enumerate(values, start=1):
                if isinstance(value, Formula):
                    ws.cell(row=r, column=col, value=value.text)
                    if value.cached is not None:
                        cached.setdefault(title, {})[ws.cell(row=r, column=col).coordinate] = _cached_xml(
                            value.cached)
                elif isinstance(value, str):
                    _put(ws, r, col, value)
                elif value is not None:
                    ws.cell(row=r, column=col, value=value)  # type: ignore[arg-type]
    _atomic_save(workbook, path, cached)


def _cached_xml(value: str | int | float | bool) -> tuple[str | None, str]:
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return ("e" if value.startswith("#") and value.upper() == value else "str"), value
    return None, repr(value) if isinstance(value, float) else str(value)


# --- the backend ---------------------------------------------------------------------------------------


class XlsxBackend:
    """A workbook file holding the input tabs; the output tabs are written into the same file."""

    def __init__(self, path: Path, *, tabs: TabNames | None = None) -> None:
        self._path = Path(path)
        self._tabs = tabs or TabNames()
        self._requests = 0

    @property
    def path(self) -> Path:
        """The workbook file."""
        return self._path

    @property
    def request_count(self) -> int:
        """File reads and writes made so far."""
        return self._requests

    @property
    def retry_count(self) -> int:
        """A file is never retried."""
        return 0

    def describe(self) -> str:
        """Where this backend points, for logs and ``check``."""
        return f"xlsx workbook {self._path}"

    def _missing(self) -> SpreadsheetNotFound:
        return SpreadsheetNotFound(
            f"workbook {self._path} does not exist; fix sheets.xlsx_path (`python -m sync demo` writes a "
            "sample workbook to var/demo-goals.xlsx that you can copy there to start from)")

    def _unreadable(self, error: Exception) -> SheetsError:
        return SheetsError(f"workbook {self._path} could not be read as an .xlsx file "
                           f"({type(error).__name__}: {error}); open and re-save it in a spreadsheet app")

    def read_tabs(self, tabs: Sequence[str]) -> dict[str, RawGrid | None]:
        """Read the named tabs (one file read): computed values, unformatted; None for a missing tab."""
        if not self._path.is_file():
            raise self._missing()
        self._requests += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "extension not supported" and the like: values still read
                workbook = openpyxl.load_workbook(self._path, read_only=True, data_only=True)
        except FileNotFoundError:
            raise self._missing() from None
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, ET.ParseError) as error:
            raise self._unreadable(error) from error
        try:
            result: dict[str, RawGrid | None] = {}
            for wanted in tabs:
                name = _sheet_named(workbook.sheetnames, wanted)
                sheet = workbook[name] if name is not None else None
                if sheet is None or not hasattr(sheet, "iter_rows"):
                    result[wanted] = None
                    continue
                sheet.reset_dimensions()  # trust the cells, not a possibly stale <dimension>
                result[wanted] = _grid(list(sheet.iter_rows(values_only=True)))
            return result
        except (zipfile.BadZipFile, KeyError, ValueError, ET.ParseError) as error:
            raise self._unreadable(error) from error
        finally:
            workbook.close()

    def cell_budget(self, tables: Sequence[OutputTable] = ()) -> None:
        """None: a workbook file has no cell budget like Google's."""
        return None

    def write_tabs(self, writes: Sequence[TabWrite], *, finish: Finish | None = None) -> WriteReport:
        """Rewrite every given output tab and save the workbook atomically (one read, one write)."""
        if not writes:
            return WriteReport(value_calls=0, format_calls=0)
        writes = finish() if finish else writes
        inputs = {self._tabs.reps, self._tabs.monthly_goals, self._tabs.yearly_goals, self._tabs.actuals}
        for write in writes:
            if write.table.tab.casefold() in {t.casefold() for t in inputs}:
                raise SheetsError(f"refusing to overwrite input tab {write.table.tab!r} with an output table; "
                                  "give the output tabs other names in sheets.tabs")
        for _ in range(SAVE_ATTEMPTS):
            try:
                return self._write_once(writes)
            except _ChangedMeanwhile:
                # Their save wins; ours is redone on top of it, so neither is lost.
                log.info("workbook %s was saved by someone else while the output tabs were being written; "
                         "writing them again on top of that version", self._path)
        raise SheetsError(f"workbook {self._path} kept changing while the output tabs were being written "
                          f"({SAVE_ATTEMPTS} times); nothing anyone saved was overwritten, and the next cycle "
                          "writes the output tabs again")

    def _write_once(self, writes: Sequence[TabWrite]) -> WriteReport:
        """Load the workbook, rewrite the output tabs, save it unless it changed on disk meanwhile."""
        if not self._path.is_file():
            raise self._missing()
        self._requests += 1
        outputs = {w.table.tab for w in writes}
        try:
            # One read: the digest, the workbook and the cached formula results all come from the
            # same bytes, so a save landing while we load cannot mix two versions.
            data = self._path.read_bytes()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                workbook = openpyxl.load_workbook(io.BytesIO(data))
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts = _sheet_parts(archive)
                cached = {title: _cached_results(archive, part) for title, part in parts.items()
                          if title not in outputs and part in archive.namelist()}
        except FileNotFoundError:
            raise self._missing() from None
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, ET.ParseError) as error:
            raise self._unreadable(error) from error

        created: list[str] = []
        for write in writes:
            title = write.table.tab
            existing = _sheet_named(workbook.sheetnames, title)
            if existing is None:
                ws = workbook.create_sheet(title)
                created.append(title)
            else:
                # A fresh sheet at the same place: no leftover rows, columns or formats survive.
                index = workbook.sheetnames.index(existing)
                workbook.remove(workbook[existing])
                ws = workbook.create_sheet(title, index)
            _write_table(ws, write.table)
        self._requests += 1
        try:
            _atomic_save(workbook, self._path, cached, expected=_digest(data))
        except OSError as error:
            raise SheetsError(f"workbook {self._path} could not be saved ({error}); the previous file is "
                              "unchanged") from error
        formatted = bool(created) or any(w.apply_layout for w in writes)
        return WriteReport(value_calls=1, format_calls=1 if formatted else 0, tabs_created=tuple(created))
