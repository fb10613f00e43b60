"""The fake server's in-memory spreadsheets and the Sheets v4 operations on them.

Behaviour follows Google's documentation and recorded responses: tab names are
quoted in returned ranges, trailing empty cells and rows are trimmed, an empty
range has no ``values`` key, RAW input keeps ``=x`` as text, an unknown tab is
``400 Unable to parse range``, ``spreadsheets:batchUpdate`` is all or nothing.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from tests.sheets_api.a1 import (
    Bounds,
    RangeSyntaxError,
    column_letters,
    format_range,
    parse_cells,
    split_range,
)
from tests.sheets_api.render import format_value, is_date_format, json_number

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    408: "Request timed out.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of "
    "service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
    500: "Internal error encountered.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}

FORMAT_REQUESTS = {
    "repeatCell", "updateDimensionProperties", "updateSheetProperties", "addConditionalFormatRule",
    "deleteConditionalFormatRule", "addProtectedRange", "deleteProtectedRange", "setBasicFilter",
    "clearBasicFilter", "updateBorders", "mergeCells", "unmergeCells", "autoResizeDimensions",
    "addChart", "updateChartSpec", "updateEmbeddedObjectPosition",
}
CELL_LIMIT = 10_000_000
"""Cells a spreadsheet may hold, all tabs together (rows × columns of every grid)."""
CELL_CHARACTERS = 50_000
"""Characters one cell may hold."""
CELL_LIMIT_MESSAGE = (f"This action would increase the number of cells in the workbook above the limit of "
                      f"{CELL_LIMIT} cells.")
_NUMBER = re.compile(r"^\s*([-+]?)\$?\s*(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\s*(%?)\s*$")


class ApiError(Exception):
    """An answer in Google's error shape: ``{"error": {"code", "message", "status"}}``."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, "Error")

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends."""
        return {"error": {"code": self.code, "message": self.message,
                          "status": STATUS_NAMES.get(self.code, "UNKNOWN")}}


@dataclass
class CellData:
    """One cell: its computed value, its formula (if any) and its own number format."""

    value: Any = None
    formula: str | None = None
    number_format: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        """True when nothing would be returned for this cell."""
        return self.value in (None, "") and self.formula is None


@dataclass
class Tab:
    """One sheet (tab) of a spreadsheet."""

    sheet_id: int
    title: str
    row_count: int = 1000
    column_count: int = 26
    frozen_row_count: int = 0
    frozen_column_count: int = 0
    hidden: bool = False
    cells: dict[tuple[int, int], CellData] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Every formatting request applied to this tab, in order (for assertions)."""
    number_formats: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    """(GridRange, numberFormat) from repeatCell, latest last."""
    column_widths: dict[int, int] = field(default_factory=dict)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    basic_filter: dict[str, Any] | None = None
    charts: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Embedded charts by chart id: ``{"chartId", "spec", "position"}`` as Google returns them."""

    def number_format_at(self, row: int, column: int) -> dict[str, Any] | None:
        """The number format a cell is shown with."""
        for grid, number_format in reversed(self.number_formats):
            if _in_grid(grid, row, column):
                return number_format
        cell = self.cells.get((row, column))
        return cell.number_format if cell else None

    def used_size(self) -> tuple[int, int]:
        """(rows, columns) up to the last non-empty cell."""
        used = [key for key, cell in self.cells.items() if not cell.empty]
        if not used:
            return 0, 0
        return max(r for r, _ in used) + 1, max(c for _, c in used) + 1

    def properties(self, index: int) -> dict[str, Any]:
        """``sheets[].properties`` as spreadsheets.get returns it (zeros omitted, like Google)."""
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_row_count:
            grid["frozenRowCount"] = self.frozen_row_count
        if self.frozen_column_count:
            grid["frozenColumnCount"] = self.frozen_column_count
        props: dict[str, Any] = {"sheetId": self.sheet_id, "title": self.title, "index": index,
                                 "sheetType": "GRID", "gridProperties": grid}
        if self.hidden:
            props["hidden"] = True
        return props


@dataclass
class Spreadsheet:
    """A spreadsheet: ordered tabs plus sharing state."""

    spreadsheet_id: str
    title: str
    tabs: list[Tab] = field(default_factory=list)
    shared: bool = True
    """False: not shared with the caller (every request answers 403)."""
    role: str = "writer"
    """How it is shared: ``writer`` (Editor) or ``reader`` (Viewer: writes answer 403)."""
    next_protected_id: int = 1000

    def cell_count(self) -> int:
        """Cells in every grid (what Google counts against its 10,000,000-cell limit)."""
        return sum(t.row_count * t.column_count for t in self.tabs)

    def check_cell_limit(self) -> None:
        """400 when the grids hold more than Google's limit."""
        if self.cell_count() > CELL_LIMIT:
            raise ApiError(400, CELL_LIMIT_MESSAGE)

    def find(self, title: str) -> Tab | None:
        """The tab named ``title`` (case-insensitive, as in Sheets)."""
        folded = title.casefold()
        return next((t for t in self.tabs if t.title.casefold() == folded), None)

    def by_id(self, sheet_id: int) -> Tab | None:
        """The tab with ``sheet_id``."""
        return next((t for t in self.tabs if t.sheet_id == sheet_id), None)

    def new_sheet_id(self) -> int:
        """A sheet id no tab has yet (Google picks large random ids; small ones are fine here)."""
        taken = {t.sheet_id for t in self.tabs}
        candidate = 1_000_000 + len(taken)
        while candidate in taken:
            candidate += 1
        return candidate

    def metadata(self) -> dict[str, Any]:
        """The body of spreadsheets.get without grid data."""
        sheets = []
        for index, tab in enumerate(self.tabs):
            sheet: dict[str, Any] = {"properties": tab.properties(index)}
            if tab.conditional_formats:
                sheet["conditionalFormats"] = copy.deepcopy(tab.conditional_formats)
            if tab.protected_ranges:
                sheet["protectedRanges"] = copy.deepcopy(tab.protected_ranges)
            if tab.basic_filter:
                sheet["basicFilter"] = copy.deepcopy(tab.basic_filter)
            if tab.charts:
                sheet["charts"] = [copy.deepcopy(chart) for chart in tab.charts.values()]
            sheets.append(sheet)
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {"title": self.title, "locale": "en_US", "autoRecalc": "ON_CHANGE",
                           "timeZone": "Etc/GMT"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }


@dataclass(frozen=True)
class Resolved:
    """A range resolved against a spreadsheet; ends are exclusive, ``None`` = open."""

    tab: Tab
    start_row: int
    start_column: int
    end_row: int | None
    end_column: int | None
    single_cell: bool = False
    """The range named one cell (``A1``): a write starting there may cover more."""


def resolve(book: Spreadsheet, text: str) -> Resolved:
    """Find the tab and cells a range names, or answer 400 like Google."""
    try:
        parsed = split_range(text)
    except RangeSyntaxError:
        raise ApiError(400, f"Unable to parse range: {text}") from None
    bounds: Bounds | None = parsed.bounds
    tab = book.find(parsed.title) if parsed.title is not None else None
    if tab is None and parsed.bounds is None and "!" not in text and not text.startswith("'"):
        # "A1:B2" without a tab name means the first tab.
        try:
            bounds = parse_cells(text)
        except RangeSyntaxError:
            raise ApiError(400, f"Unable to parse range: {text}") from None
        tab = book.tabs[0]
    if tab is None:
        raise ApiError(400, f"Unable to parse range: {text}")
    if bounds is None:
        return Resolved(tab, 0, 0, None, None)
    single = ":" not in text.rpartition("!")[2]
    return Resolved(tab, bounds.start_row or 0, bounds.start_column or 0, bounds.end_row, bounds.end_column,
                    single)


def _check_start(where: Resolved, text: str) -> None:
    tab = where.tab
    if where.start_row >= tab.row_count or where.start_column >= tab.column_count:
        raise ApiError(400, f"Range ({text}) exceeds grid limits. Max rows: {tab.row_count}, "
                            f"max columns: {tab.column_count}")


def read_values(book: Spreadsheet, text: str, value_render: str, date_render: str,
                major: str) -> dict[str, Any]:
    """One ValueRange, as values.get / values.batchGet return it."""
    where = resolve(book, text)
    _check_start(where, text)
    tab = where.tab
    end_row = min(where.end_row or tab.row_count, tab.row_count)
    end_column = min(where.end_column or tab.column_count, tab.column_count)
    rows: list[list[Any]] = []
    occupied = {r for r, _ in tab.cells}  # a read of a whole grid is mostly rows without a cell
    for r in range(where.start_row, end_row):
        if r not in occupied:
            rows.append([_EMPTY] * (end_column - where.start_column))
            continue
        row = [_render(tab, r, c, value_render, date_render) for c in range(where.start_column, end_column)]
        rows.append(row)
    if major == "COLUMNS":
        width = end_column - where.start_column
        rows = [[row[c] for row in rows] for c in range(width)]
    trimmed = _trim(rows)
    result: dict[str, Any] = {
        "range": format_range(tab.title, where.start_row, where.start_column, end_row, end_column),
        "majorDimension": major,
    }
    if trimmed:
        result["values"] = trimmed
    return result


_EMPTY = object()


def _render(tab: Tab, row: int, column: int, value_render: str, date_render: str) -> Any:
    cell = tab.cells.get((row, column))
    if cell is None or cell.empty:
        return _EMPTY
    number_format = tab.number_format_at(row, column)
    if value_render == "FORMULA" and cell.formula is not None:
        return cell.formula
    if value_render == "FORMATTED_VALUE":
        return format_value(cell.value, number_format)
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, (bool, str)):
        return value
    if date_render == "FORMATTED_STRING" and is_date_format(number_format):
        return format_value(value, number_format)
    return json_number(value)


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for row in rows:
        while row and row[-1] is _EMPTY:
            row.pop()
        out.append(["" if v is _EMPTY else v for v in row])
    while out and not out[-1]:
        out.pop()
    return out


def write_values(book: Spreadsheet, text: str, values: list[list[Any]], input_option: str,
                 major: str = "ROWS", *, dry_run: bool = False) -> dict[str, Any]:
    """Write a ValueRange; the grid grows to fit, as values.update does.

    ``null`` cells are skipped (left as they are); ``""`` clears a cell.
    """
    if input_option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, f"Invalid valueInputOption: {input_option or 'INPUT_VALUE_OPTION_UNSPECIFIED'}")
    where = resolve(book, text)
    _check_start(where, text)
    if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
        raise ApiError(400, "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue)")
    if major == "COLUMNS":
        height = max((len(col) for col in values), default=0)
        values = [[col[r] if r < len(col) else None for col in values] for r in range(height)]
    height = len(values)
    width = max((len(row) for row in values), default=0)
    if where.single_cell:
        where = Resolved(where.tab, where.start_row, where.start_column, None, None)
    if where.end_row is not None and where.start_row + height > where.end_row:
        raise ApiError(400, f"Requested writing within range [{text}], but tried writing to row "
                            f"[{where.start_row + height}]")
    if where.end_column is not None and where.start_column + width > where.end_column:
        raise ApiError(400, f"Requested writing within range [{text}], but tried writing to column "
                            f"[{column_letters(where.start_column + width - 1)}]")
    tab = where.tab
    grown = (max(tab.row_count, where.start_row + height), max(tab.column_count, where.start_column + width))
    if book.cell_count() - tab.row_count * tab.column_count + grown[0] * grown[1] > CELL_LIMIT:
        raise ApiError(400, CELL_LIMIT_MESSAGE)
    updated = 0
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            if isinstance(value, str) and len(value) > CELL_CHARACTERS:
                raise ApiError(400, f"Your input contains more than the maximum of {CELL_CHARACTERS} characters "
                                    "in a single cell.")
            if isinstance(value, (dict, list)):
                raise ApiError(400, "Invalid values[" + str(r) + "][" + str(c) + "]: list_value")
            if value is None:
                continue
            updated += 1
            if dry_run:
                continue
            key = (where.start_row + r, where.start_column + c)
            cell = tab.cells.get(key) or CellData()
            cell.value, cell.formula = _input(value, input_option)
            tab.cells[key] = cell
    if not dry_run:
        tab.row_count, tab.column_count = grown
    result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if height and width:
        result.update({
            "updatedRange": format_range(tab.title, where.start_row, where.start_column,
                                         where.start_row + height, where.start_column + width),
            "updatedRows": height,
            "updatedColumns": width,
            "updatedCells": updated,
        })
    return result


def _input(value: Any, option: str) -> tuple[Any, str | None]:
    """(value, formula) stored for one input value."""
    if option == "RAW" or not isinstance(value, str):
        return value, None
    if value.startswith("'"):
        return value[1:], None
    if value.startswith("=") and len(value) > 1:
        # Nothing is computed here: a test sets the computed value when it needs one.
        return None, value
    upper = value.strip().upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE", None
    match = _NUMBER.match(value)
    if match and (match.group(2) or match.group(4)):
        sign, whole, _, fraction, percent = match.groups()
        number = float((whole or "0").replace(",", "") + (fraction or ""))
        number = -number if sign == "-" else number
        if percent:
            number /= 100
        return json_number(number), None
    return value, None


def clear_values(book: Spreadsheet, text: str) -> str:
    """Clear values (formats stay); return the cleared range as Google names it."""
    where = resolve(book, text)
    tab = where.tab
    end_row = min(where.end_row or tab.row_count, tab.row_count)
    end_column = min(where.end_column or tab.column_count, tab.column_count)
    for (r, c), cell in list(tab.cells.items()):
        if where.start_row <= r < end_row and where.start_column <= c < end_column:
            cell.value, cell.formula = None, None
    return format_range(tab.title, where.start_row, where.start_column, end_row, end_column)


def _in_grid(grid: dict[str, Any], row: int, column: int) -> bool:
    return (grid.get("startRowIndex", 0) <= row < grid.get("endRowIndex", 10**9)
            and grid.get("startColumnIndex", 0) <= column < grid.get("endColumnIndex", 10**9))


def apply_batch_update(book: Spreadsheet, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply spreadsheets:batchUpdate requests in order; the caller makes it atomic."""
    if not isinstance(requests, list):
        raise ApiError(400, "Invalid JSON payload received. Unknown name \"requests\": Proto field is not "
                            "repeating, cannot start list.")
    replies = []
    for index, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise ApiError(400, f"Invalid requests[{index}]: exactly one kind of request must be set.")
        (kind, body), = request.items()
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{kind}\" at "
                                f"'requests[{index}]': Cannot find field.")
        try:
            _check_grid_limits(book, request, index)
            reply = handler(book, body)
        except _RequestError as error:
            raise ApiError(400, f"Invalid requests[{index}].{kind}: {error}") from None
        tab_ids = _sheet_ids(body) if kind in FORMAT_REQUESTS else set()
        for tab in book.tabs:
            if tab.sheet_id in tab_ids:
                tab.requests.append(copy.deepcopy(request))
        replies.append(reply)
    book.check_cell_limit()
    return replies


def _check_grid_limits(book: Spreadsheet, request: dict[str, Any], index: int) -> None:
    """Every GridRange and DimensionRange of a request must lie inside its sheet's grid, as Google checks."""
    from tests.sheets_api.discovery import discovery

    for schema, value, _ in discovery().walk(request, "Request", f"requests[{index}]"):
        if schema not in ("GridRange", "DimensionRange"):
            continue
        tab = book.by_id(value.get("sheetId", 0))
        if tab is None:
            continue  # the request's own handler names the missing grid
        if schema == "GridRange":
            spans = [(value.get("startRowIndex", 0), value.get("endRowIndex"), tab.row_count),
                     (value.get("startColumnIndex", 0), value.get("endColumnIndex"), tab.column_count)]
        else:
            limit = tab.row_count if value.get("dimension") == "ROWS" else tab.column_count
            spans = [(value.get("startIndex", 0), value.get("endIndex"), limit)]
        for start, end, limit in spans:
            if start < 0 or start > limit or (end is not None and (end > limit or end < start)):
                raise _RequestError(f"Range ({_describe(tab, value, schema)}) exceeds grid limits. "
                                    f"Max rows: {tab.row_count}, max columns: {tab.column_count}")


def _describe(tab: Tab, value: dict[str, Any], schema: str) -> str:
    if schema == "DimensionRange":
        return f"{tab.title} {value.get('dimension')} {value.get('startIndex', 0)}:{value.get('endIndex', '')}"
    first = f"{column_letters(value.get('startColumnIndex', 0))}{value.get('startRowIndex', 0) + 1}"
    end_column = value.get("endColumnIndex")
    end_row = value.get("endRowIndex")
    last = (column_letters(end_column - 1) if end_column else "") + (str(end_row) if end_row else "")
    return f"'{tab.title}'!{first}:{last}"


class _RequestError(Exception):
    pass


def _sheet_ids(body: Any) -> set[int]:
    found: set[int] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "sheetId" and isinstance(value, int):
                found.add(value)
            else:
                found |= _sheet_ids(value)
    elif isinstance(body, list):
        for item in body:
            found |= _sheet_ids(item)
    return found


def _tab(book: Spreadsheet, sheet_id: Any) -> Tab:
    tab = book.by_id(sheet_id) if isinstance(sheet_id, int) else None
    if tab is None:
        raise _RequestError(f"No grid with id: {sheet_id}")
    return tab


def _grid_tab(book: Spreadsheet, grid: dict[str, Any]) -> Tab:
    return _tab(book, grid.get("sheetId", 0))


def _add_sheet(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties", {})
    title = props.get("title") or f"Sheet{len(book.tabs) + 1}"
    if book.find(title):
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sheet_id = props.get("sheetId")
    if sheet_id is None:
        sheet_id = book.new_sheet_id()
    elif not isinstance(sheet_id, int) or sheet_id < 0 or book.by_id(sheet_id):
        raise _RequestError(f"Sheet with id {sheet_id} already exists.")
    grid = props.get("gridProperties", {})
    tab = Tab(sheet_id=sheet_id, title=title, row_count=grid.get("rowCount", 1000),
              column_count=grid.get("columnCount", 26), frozen_row_count=grid.get("frozenRowCount", 0),
              frozen_column_count=grid.get("frozenColumnCount", 0), hidden=bool(props.get("hidden")))
    index = props.get("index", len(book.tabs))
    book.tabs.insert(min(index, len(book.tabs)), tab)
    return {"addSheet": {"properties": tab.properties(book.tabs.index(tab))}}


def _delete_sheet(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    tab = _tab(book, body.get("sheetId"))
    if len(book.tabs) == 1:
        raise _RequestError("You can't remove all the sheets in a document.")
    book.tabs.remove(tab)
    return {}


def _field_paths(fields: str) -> list[str]:
    if not fields:
        raise _RequestError("At least one field must be updated. Specify '*' to update all fields.")
    return [f.strip() for f in fields.split(",")]


def _update_sheet_properties(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties", {})
    tab = _tab(book, props.get("sheetId"))
    grid = props.get("gridProperties", {})
    for path in _field_paths(body.get("fields", "")):
        if path in ("title", "*") and "title" in props:
            other = book.find(props["title"])
            if other and other is not tab:
                raise _RequestError(f'A sheet with the name "{props["title"]}" already exists.')
            tab.title = props["title"]
        if path in ("gridProperties.frozenRowCount", "gridProperties", "*"):
            tab.frozen_row_count = grid.get("frozenRowCount", 0)
        if path in ("gridProperties.frozenColumnCount", "gridProperties", "*"):
            tab.frozen_column_count = grid.get("frozenColumnCount", 0)
        if path in ("gridProperties.rowCount", "gridProperties", "*") and "rowCount" in grid:
            tab.row_count = grid["rowCount"]
        if path in ("gridProperties.columnCount", "gridProperties", "*") and "columnCount" in grid:
            tab.column_count = grid["columnCount"]
        if path in ("hidden", "*"):
            tab.hidden = bool(props.get("hidden"))
        if path in ("index", "*") and "index" in props:
            book.tabs.remove(tab)
            book.tabs.insert(min(props["index"], len(book.tabs)), tab)
    return {}


def _update_spreadsheet_properties(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties", {})
    for path in _field_paths(body.get("fields", "")):
        if path in ("title", "*") and props.get("title"):
            book.title = props["title"]
    return {}


def _repeat_cell(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    grid = body.get("range", {})
    tab = _grid_tab(book, grid)
    paths = _field_paths(body.get("fields", ""))
    user_format = body.get("cell", {}).get("userEnteredFormat", {})
    if any(p in ("userEnteredFormat", "userEnteredFormat.numberFormat", "*") for p in paths):
        tab.number_formats.append((dict(grid), user_format.get("numberFormat") or {}))
    return {}


def _update_dimension_properties(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    span = body.get("range", {})
    tab = _tab(book, span.get("sheetId"))
    _field_paths(body.get("fields", ""))
    if span.get("dimension") not in ("ROWS", "COLUMNS"):
        raise _RequestError("range.dimension must be ROWS or COLUMNS")
    size = body.get("properties", {}).get("pixelSize")
    if span["dimension"] == "COLUMNS" and size is not None:
        for column in range(span.get("startIndex", 0), span.get("endIndex", tab.column_count)):
            tab.column_widths[column] = size
    return {}


def _add_conditional_format_rule(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    rule = body.get("rule", {})
    ranges = rule.get("ranges") or []
    if not ranges:
        raise _RequestError("rule.ranges must not be empty")
    tab = _grid_tab(book, ranges[0])
    index = body.get("index", 0)
    tab.conditional_formats.insert(min(index, len(tab.conditional_formats)), copy.deepcopy(rule))
    return {}


def _delete_conditional_format_rule(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    tab = _tab(book, body.get("sheetId"))
    index = body.get("index", 0)
    if not 0 <= index < len(tab.conditional_formats):
        raise _RequestError(f"No conditional format on sheet: {tab.sheet_id} at index: {index}")
    rule = tab.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _add_protected_range(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    protected = copy.deepcopy(body.get("protectedRange", {}))
    tab = _grid_tab(book, protected.get("range", {}))
    protected["protectedRangeId"] = book.next_protected_id
    book.next_protected_id += 1
    protected.setdefault("warningOnly", False)
    tab.protected_ranges.append(protected)
    return {"addProtectedRange": {"protectedRange": copy.deepcopy(protected)}}


def _delete_protected_range(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    wanted = body.get("protectedRangeId")
    for tab in book.tabs:
        for protected in tab.protected_ranges:
            if protected["protectedRangeId"] == wanted:
                tab.protected_ranges.remove(protected)
                return {}
    raise _RequestError(f"No protected range with id: {wanted}")


def _set_basic_filter(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    basic = body.get("filter", {})
    tab = _grid_tab(book, basic.get("range", {}))
    tab.basic_filter = copy.deepcopy(basic)
    return {}


def _clear_basic_filter(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    _tab(book, body.get("sheetId")).basic_filter = None
    return {}


def _chart_tab(book: Spreadsheet, chart_id: Any) -> Tab:
    for tab in book.tabs:
        if chart_id in tab.charts:
            return tab
    raise _RequestError(f"No chart with id: {chart_id}")


def _check_chart_ranges(book: Spreadsheet, spec: dict[str, Any]) -> None:
    """Every source range of a chart names an existing tab and stays inside its grid."""
    basic = spec.get("basicChart", {})
    datas = [d.get("domain", {}) for d in basic.get("domains", [])] + [s.get("series", {})
                                                                      for s in basic.get("series", [])]
    for data in datas:
        for grid in data.get("sourceRange", {}).get("sources", []):
            tab = _grid_tab(book, grid)
            if grid.get("endRowIndex", 0) > tab.row_count or grid.get("endColumnIndex", 0) > tab.column_count:
                raise _RequestError(f"Range ({tab.title}!...) exceeds grid limits. Max rows: "
                                    f"{tab.row_count}, max columns: {tab.column_count}")


def _add_chart(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    chart = copy.deepcopy(body.get("chart", {}))
    overlay = chart.get("position", {}).get("overlayPosition", {})
    tab = _tab(book, overlay.get("anchorCell", {}).get("sheetId"))
    chart_id = chart.get("chartId")
    if chart_id is None:
        chart_id = 5_000_000 + sum(len(t.charts) for t in book.tabs)
    if any(chart_id in t.charts for t in book.tabs):
        raise _RequestError(f"An object with id {chart_id} already exists.")
    _check_chart_ranges(book, chart.get("spec", {}))
    chart["chartId"] = chart_id
    tab.charts[chart_id] = chart
    return {"addChart": {"chart": copy.deepcopy(chart)}}


def _update_chart_spec(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    tab = _chart_tab(book, body.get("chartId"))
    _check_chart_ranges(book, body.get("spec", {}))
    tab.charts[body["chartId"]]["spec"] = copy.deepcopy(body.get("spec", {}))
    return {}


def _update_embedded_object_position(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    tab = _chart_tab(book, body.get("objectId"))
    _field_paths(body.get("fields", ""))
    position = copy.deepcopy(body.get("newPosition", {}))
    tab.charts[body["objectId"]]["position"] = position
    return {"updateEmbeddedObjectPosition": {"position": position}}


def _delete_embedded_object(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    tab = _chart_tab(book, body.get("objectId"))
    del tab.charts[body["objectId"]]
    return {}


def _record_only(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    ids = _sheet_ids(body)
    for sheet_id in ids:
        _tab(book, sheet_id)
    return {}


_HANDLERS = {
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    "repeatCell": _repeat_cell,
    "updateDimensionProperties": _update_dimension_properties,
    "addConditionalFormatRule": _add_conditional_format_rule,
    "deleteConditionalFormatRule": _delete_conditional_format_rule,
    "addProtectedRange": _add_protected_range,
    "deleteProtectedRange": _delete_protected_range,
    "setBasicFilter": _set_basic_filter,
    "clearBasicFilter": _clear_basic_filter,
    "updateBorders": _record_only,
    "mergeCells": _record_only,
    "unmergeCells": _record_only,
    "autoResizeDimensions": _record_only,
    "addChart": _add_chart,
    "updateChartSpec": _update_chart_spec,
    "updateEmbeddedObjectPosition": _update_embedded_object_position,
    "deleteEmbeddedObject": _delete_embedded_object,
}
