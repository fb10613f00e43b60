"""The Google Sheets backend: reads input tabs and writes output tabs through gspread.

Request budget per cycle: reading is one ``values:batchGet``; writing is one
``values:batchUpdate`` plus one ``spreadsheets:batchUpdate`` only when a tab is
missing or its layout changed. Spreadsheet metadata (sheet ids) is fetched at
most once per backend, and only when a tab is missing or formatting is due.

The cell budget (``cell_budget``) costs no request of its own: the grid sizes come
from the tab listing when one is made, from the formatting call's answer (it
returns the spreadsheet's tabs), from each read's ranges (Google answers a
whole-tab range with the tab's full grid, ``'Actuals'!A1:Z1000``) and from the
sizes this backend gives the output tabs itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import random
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from gspread.urls import (
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)
from gspread.utils import a1_range_to_grid_range

from models.errors import SheetsAccessDenied
from models.redact import mask_secrets
from models.settings import SheetsSettings
from sheets import formatting
from sheets.budget import CELL_LIMIT, CellBudget
from sheets.credentials import email_of, load_credentials
from sheets.http import GOOGLE_SHEETS_ROOT, SheetsApiRequestError, SheetsHttpClient
from sheets.outputs import Cell, Finish, OutputTable, RawGrid, TabWrite, WriteReport, to_serial
from sheets.reads import InputRead

log = logging.getLogger(__name__)

# Numbers unformatted (what a formula computes, whatever the locale), but a cell *formatted as a
# date or time* as its text: FORMATTED_STRING applies to date, time and duration formats only. No
# input column holds a date, so a date typed into Signups (which Sheets stores as the serial
# 46,027) arrives as "1/5/2026" and is refused as text, instead of syncing as 46,027 signups.
_READ_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "FORMATTED_STRING",
                "majorDimension": "ROWS"}
_SHEETS_FIELDS = ("sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),"
                  "conditionalFormats,protectedRanges,charts(chartId))")
"""What the backend keeps of each tab; the grid sizes also give the cell budget."""
_METADATA_PARAMS = {"includeGridData": "false", "fields": _SHEETS_FIELDS}
_FORMAT_PARAMS = {"fields": f"replies,updatedSpreadsheet.{_SHEETS_FIELDS}"}
"""The formatting call answers with the spreadsheet's tabs as they now are: no listing needed."""
_BUDGET_PARAMS = {"fields": "properties.title,sheets.properties(title,gridProperties(rowCount,columnCount))"}
MAX_BODY_BYTES = 1_900_000
"""A values write is split so that no request body reaches Google's recommended 2 MB."""
MISSING_TAB_RECHECK_SECONDS = 600.0
"""A tab found missing is looked for again (one metadata read) at most this often, not every cycle."""


def quote_tab(title: str) -> str:
    """A tab name as an A1 range of the whole tab: ``'Monthly Goals'``."""
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class SpreadsheetAccess:
    """What ``check`` found out about one spreadsheet."""

    spreadsheet_id: str
    title: str
    purpose: str
    """``input``, ``output`` or ``input and output``."""
    cells: int
    """Rows × columns of every tab: what Google counts against ``sheets.budget.CELL_LIMIT``."""
    write_error: str | None = None
    """None: the service may write (or, for an input-only spreadsheet, it was not asked); else why not."""


@dataclass
class _Sheet:
    sheet_id: int
    title: str
    rule_count: int = 0
    protected_ids: list[int] = field(default_factory=list)
    """Protected ranges this service added (recognised by their description)."""
    chart_ids: set[int] = field(default_factory=set)
    """Charts on the tab (ours have ids of our choosing: see ``chart_ids``)."""
    rows: int = 1000
    columns: int = 26
    """The grid's size: Google refuses any range beyond it ("exceeds grid limits")."""

    def grow(self, rows: int, columns: int) -> None:
        """Remember that a values write grew the grid (Google expands it to fit)."""
        self.rows, self.columns = max(self.rows, rows), max(self.columns, columns)


@dataclass
class _SheetIndex:
    """What the backend knows of a spreadsheet's tabs, kept up to date after its own changes."""

    sheets: dict[str, _Sheet] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> _SheetIndex:
        index = cls()
        for sheet in metadata.get("sheets", []):
            props = sheet.get("properties", {})
            ours = [p["protectedRangeId"] for p in sheet.get("protectedRanges", [])
                    if p.get("description") == formatting.PROTECTION_DESCRIPTION]
            grid = props.get("gridProperties", {})
            charts = {chart["chartId"] for chart in sheet.get("charts", []) if "chartId" in chart}
            index.add(_Sheet(props.get("sheetId", 0), props.get("title", ""),
                             len(sheet.get("conditionalFormats", [])), ours, charts,
                             rows=grid.get("rowCount", 0), columns=grid.get("columnCount", 0)))
        return index

    def cells(self) -> int:
        """Rows × columns of every tab."""
        return sum(s.rows * s.columns for s in self.sheets.values())

    def add(self, sheet: _Sheet) -> None:
        self.sheets[sheet.title.casefold()] = sheet

    def find(self, title: str) -> _Sheet | None:
        # Sheets matches tab names case-insensitively in ranges.
        return self.sheets.get(title.casefold())

    def new_id(self, title: str) -> int:
        """A stable sheet id for a new tab, unused in this spreadsheet."""
        taken = {s.sheet_id for s in self.sheets.values()}
        candidate = zlib.crc32(title.encode()) & 0x7FFFFFFF
        while candidate in taken or candidate == 0:
            candidate = (candidate + 1) & 0x7FFFFFFF
        return candidate


class GoogleSheetsBackend:
    """``SpreadsheetBackend`` over the Google Sheets API (or a compatible server)."""

    def __init__(
        self,
        settings: SheetsSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        environ: Mapping[str, str] | None = None,
        gate: Callable[[str], None] | None = None,
    ) -> None:
        """Load the credentials (no network yet). ``sleep``/``rng``/``clock`` are for fast tests;
        ``gate(account)`` is called before every HTTP request (the shared Sheets quota)."""
        self._settings = settings
        self._input_id = settings.spreadsheet_id
        self._output_id = settings.summary_spreadsheet_id or settings.spreadsheet_id
        self._endpoint = (settings.api_endpoint or GOOGLE_SHEETS_ROOT).rstrip("/")
        loaded = load_credentials(settings, environ)
        self._credentials = loaded.credentials
        self._account_email = loaded.email
        self.credentials_source = loaded.source
        """Where the credentials came from (for ``check``; never a secret)."""
        account = loaded.email or f"anonymous@{self._endpoint}"
        self._http = SheetsHttpClient(loaded.credentials, retry=settings.retry, base_url=self._endpoint,
                                      account_email=loaded.email, credentials_source=loaded.source,
                                      sleep=sleep, rng=rng, clock=clock,
                                      gate=functools.partial(gate, account) if gate is not None else None)
        self._indexes: dict[str, _SheetIndex] = {}
        self._listed_at: dict[str, float] = {}
        self._clock = clock

    @property
    def account_email(self) -> str | None:
        """The service account's email (share the spreadsheet with it), None when anonymous or a user.

        The metadata server names its account only once asked (after the first request)."""
        return self._account_email or email_of(self._credentials)

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._http.request_count

    @property
    def retry_count(self) -> int:
        """Requests that failed transiently and were sent again."""
        return self._http.retry_count

    def describe(self) -> str:
        """``Google Sheets <id> via <endpoint>`` (no secrets)."""
        text = f"Google Sheets {self._input_id} via {mask_secrets(self._endpoint)}"
        if self._output_id != self._input_id:
            text += f" (output tabs to {self._output_id})"
        return text

    def check_access(self) -> tuple[SpreadsheetAccess, ...]:
        """For ``check``: each spreadsheet's title and cell count (one read each) and, for the output
        spreadsheet, one harmless write (its title set to what it is) proving the service may edit it."""
        found = []
        for sid in dict.fromkeys((self._input_id, self._output_id)):
            purpose = " and ".join(p for p, i in (("input", self._input_id), ("output", self._output_id))
                                   if i == sid)
            metadata = self._http.fetch_sheet_metadata(sid, params=dict(_BUDGET_PARAMS))
            title = str(metadata.get("properties", {}).get("title", ""))
            cells = sum(s.get("properties", {}).get("gridProperties", {}).get("rowCount", 0)
                        * s.get("properties", {}).get("gridProperties", {}).get("columnCount", 0)
                        for s in metadata.get("sheets", []))
            write_error = None
            if sid == self._output_id:
                same_title = {"updateSpreadsheetProperties": {"properties": {"title": title}, "fields": "title"}}
                try:
                    self._http.batch_update(sid, {"requests": [same_title]})
                except SheetsAccessDenied as error:
                    write_error = str(error)
            found.append(SpreadsheetAccess(sid, title, purpose, cells, write_error))
        return tuple(found)

    def cell_budget(self, tables: Sequence[OutputTable] = ()) -> CellBudget | None:
        """The output spreadsheet's cells once ``tables`` are written (their tabs added or grown as
        ``write_tabs`` would); None while this backend has not seen the spreadsheet's tabs. No request."""
        index = self._indexes.get(self._output_id)
        if index is None:
            return None
        sizes = {key: (s.rows, s.columns) for key, s in index.sheets.items()}
        for table in tables:
            rows, columns = table_extent(table)
            known = sizes.get(table.tab.casefold())
            sizes[table.tab.casefold()] = (max(known[0], rows), max(known[1], columns)) if known \
                else new_tab_size(rows, columns)
        return CellBudget(sum(r * c for r, c in sizes.values()), CELL_LIMIT)

    # --- reading -------------------------------------------------------------

    def read_tabs(self, tabs: Sequence[str]) -> dict[str, RawGrid | None]:
        """Every named tab in one ``values:batchGet`` (unformatted); None for a missing tab."""
        names = list(dict.fromkeys(tabs))
        if not names:
            return {}
        present = self._known_present(names)
        try:
            grids = self._batch_get(present) if present else {}
        except SheetsApiRequestError as error:
            if not error.unparsable_range:
                raise
            grids = self._read_present(names, error)
        return {name: grids.get(name) for name in names}

    def _known_present(self, names: list[str]) -> list[str]:
        """The tabs worth asking for: a tab the cached metadata lacks is not read (that read would
        fail with 400), until the tabs are listed again every ``MISSING_TAB_RECHECK_SECONDS``."""
        index = self._indexes.get(self._input_id)
        if index is None or all(index.find(name) for name in names):
            return names
        if self._clock() - self._listed_at.get(self._input_id, 0.0) >= MISSING_TAB_RECHECK_SECONDS:
            self._indexes.pop(self._input_id)
            index = self._index(self._input_id)
        return [name for name in names if index.find(name)]

    def _read_present(self, names: list[str], error: SheetsApiRequestError) -> dict[str, RawGrid]:
        """A tab is missing: learn which from the metadata and read the others."""
        for refresh in (False, True):
            missing = self._missing(self._input_id, names, refresh=refresh)
            if not missing:
                raise error
            present = [name for name in names if name not in missing]
            try:
                return self._batch_get(present) if present else {}
            except SheetsApiRequestError as again:
                # Cached metadata can be stale (another tab deleted since): list the tabs again, once.
                if refresh or not again.unparsable_range:
                    raise
                error = again
        raise error  # not reached: the loop returns or raises

    def read_input(self, tabs: Sequence[str]) -> InputRead:
        """``read_tabs`` as an ``InputRead``: the digest of the response body as received, the grids
        built only if the caller asks for them (an unchanged sheet is never parsed)."""
        names = list(dict.fromkeys(tabs))
        present = self._known_present(names)
        try:
            body = self._batch_get_body(present) if present else b""
        except SheetsApiRequestError as error:
            if not error.unparsable_range:
                raise
            grids = self._read_present(names, error)
            return InputRead.of_grids({name: grids.get(name) for name in names})
        digest = hashlib.sha256(json.dumps([names, present]).encode() + b"\0" + body).hexdigest()

        def load() -> dict[str, RawGrid | None]:
            grids = self._grids_of(present, json.loads(body)) if body else {}
            return {name: grids.get(name) for name in names}

        return InputRead(digest, load)

    def _batch_get_body(self, names: list[str]) -> bytes:
        """The ``values:batchGet`` response body of ``names``, as received."""
        params: dict[str, Any] = {**_READ_PARAMS, "ranges": [quote_tab(n) for n in names]}
        return bytes(self._http.request("get", SPREADSHEET_VALUES_BATCH_URL % self._input_id, params=params).content)

    def _batch_get(self, names: list[str]) -> dict[str, RawGrid]:
        return self._grids_of(names, json.loads(self._batch_get_body(names)))

    def _grids_of(self, names: list[str], answer: Mapping[str, Any]) -> dict[str, RawGrid]:
        value_ranges = answer.get("valueRanges", [])
        self._note_grids(value_ranges)
        return {name: _raw_grid(vr.get("values", [])) for name, vr in zip(names, value_ranges, strict=False)}

    def _note_grids(self, value_ranges: Sequence[Mapping[str, Any]]) -> None:
        """Keep the listed grid sizes of the tabs just read current (a person may add rows)."""
        index = self._indexes.get(self._input_id)
        for value_range in value_ranges if index else ():
            title, _, cells = str(value_range.get("range", "")).rpartition("!")
            sheet = index.find(title[1:-1].replace("''", "'") if title.startswith("'") else title) \
                if index else None
            try:
                grid = a1_range_to_grid_range(cells)
            except (ValueError, TypeError, AttributeError):
                continue
            if sheet is not None and grid.get("startRowIndex", 0) == 0 and grid.get("startColumnIndex", 0) == 0:
                sheet.rows = grid.get("endRowIndex", sheet.rows)
                sheet.columns = grid.get("endColumnIndex", sheet.columns)

    # --- writing -------------------------------------------------------------

    def write_tabs(self, writes: Sequence[TabWrite], *, finish: Finish | None = None) -> WriteReport:
        """One ``values:batchUpdate`` (RAW) for every tab, plus one formatting call when needed.

        ``finish``: called right before the values are sent (the tabs then exist and are sized);
        it returns the writes to send instead, e.g. with the cell budget that is now known."""
        if not writes:
            return WriteReport(value_calls=0, format_calls=0)
        sid = self._output_id
        created: tuple[str, ...] = ()
        if any(w.apply_layout for w in writes):
            created = self._format(writes, [w for w in writes if w.apply_layout])
            calls = self._write_values(finish() if finish else writes)
            return WriteReport(value_calls=calls, format_calls=1, tabs_created=created)
        try:
            return WriteReport(value_calls=self._write_values(finish() if finish else writes), format_calls=0)
        except SheetsApiRequestError as error:
            if not error.unparsable_range:
                raise
            missing_titles = self._missing(sid, [w.table.tab for w in writes])
            if not missing_titles:
                raise
        missing = [w for w in writes if w.table.tab in missing_titles]
        created = self._format(writes, missing)
        calls = self._write_values(finish() if finish else writes)
        return WriteReport(value_calls=calls + 1, format_calls=1, tabs_created=created)

    def _write_values(self, writes: Sequence[TabWrite]) -> int:
        """``values:batchUpdate`` (RAW) in as few requests as keep each body under ``MAX_BODY_BYTES``;
        returns how many were sent."""
        grids = [(w.table.tab, tab_values(w)) for w in writes]
        bodies = encoded_value_bodies(grids, MAX_BODY_BYTES)
        for body in bodies:
            # The body as gspread's values_batch_update(json=…) would send it, encoded once (it was
            # measured in the same encoding), not once more by requests.
            self._http.request("post", SPREADSHEET_VALUES_BATCH_UPDATE_URL % self._output_id, data=body,
                               headers={"Content-Type": "application/json"})
        index = self._indexes.get(self._output_id)
        for tab, grid in grids if index else ():
            sheet = index.find(tab) if index else None
            if sheet is not None:
                sheet.grow(len(grid), max((len(r) for r in grid), default=0))
        return len(bodies)

    def _format(self, writes: Sequence[TabWrite], layout_for: Sequence[TabWrite]) -> tuple[str, ...]:
        """One ``spreadsheets:batchUpdate``: add missing tabs, apply layouts, protect tabs."""
        if self._output_id not in self._indexes and all(w.first_write for w in writes):
            # Nothing was ever written here: assume the tabs are new and skip listing the
            # spreadsheet's tabs. A batch is all-or-nothing, so if a tab exists after all
            # ("already exists"), nothing happened and the tabs are listed as usual.
            try:
                return self._format_once(writes, layout_for, index=_SheetIndex())
            except SheetsApiRequestError as error:
                if "already exists" not in error.google_message:
                    raise
        try:
            return self._format_once(writes, layout_for)
        except SheetsApiRequestError as error:
            if "No grid with id" not in error.google_message and "No chart with id" not in error.google_message:
                raise
            # A tab or chart was deleted since the metadata was fetched: fetch it again, once.
            log.info("spreadsheet %s changed since its tabs were listed; listing them again", self._output_id)
            self._indexes.pop(self._output_id, None)
            return self._format_once(writes, layout_for)

    def _format_once(self, writes: Sequence[TabWrite], layout_for: Sequence[TabWrite], *,
                     index: _SheetIndex | None = None) -> tuple[str, ...]:
        """``index``: what to assume of the spreadsheet's tabs (default: its listed, cached tabs).
        An assumed index is not cached."""
        sid = self._output_id
        index = self._index(sid) if index is None else index
        requests: list[dict[str, Any]] = []
        created: list[_Sheet] = []
        formatted: dict[str, _Sheet] = {}
        resized: dict[str, tuple[int, int]] = {}
        layout_due = {id(w) for w in layout_for}
        pending = _SheetIndex(dict(index.sheets))  # the index as it will be if the batch succeeds
        for write in writes:
            table = write.table
            sheet = pending.find(table.tab)
            if sheet is None:
                grid = tab_values(write)
                rows, columns = new_tab_size(len(grid), max((len(r) for r in grid), default=0))
                sheet = _Sheet(pending.new_id(table.tab), table.tab, rows=rows, columns=columns)
                requests.append(formatting.add_sheet(sheet.sheet_id, table.tab, rows=sheet.rows,
                                                     columns=sheet.columns, frozen_rows=table.layout.frozen_rows))
                pending.add(sheet)
                created.append(sheet)
            if id(write) in layout_due or sheet in created:
                grid = tab_values(write)
                rows, columns = len(grid), max([len(table.layout.columns), *(len(r) for r in grid[:1])])
                # A chart's anchor cell must lie inside the grid too.
                rows = max([rows, *(chart.anchor_row + 1 for chart in table.layout.charts)])
                columns = max([columns, *(chart.anchor_column + 1 for chart in table.layout.charts)])
                if sheet not in created and (sheet.rows < rows or sheet.columns < columns):
                    # A tab a person made (26 columns, or any size): grow it first, or the layout's
                    # ranges would lie beyond its grid and Google would refuse the whole batch.
                    rows, columns = max(sheet.rows, rows), max(sheet.columns, columns)
                    requests.append(formatting.resize(sheet.sheet_id, rows=rows, columns=columns))
                    resized[table.tab] = (rows, columns)
                requests.extend(formatting.layout_requests(sheet.sheet_id, table.layout,
                                                           previous_rule_count=sheet.rule_count))
                requests.extend(formatting.chart_requests(
                    sheet.sheet_id, table.layout.charts, chart_ids(sheet.sheet_id, len(table.layout.charts)),
                    sheet.chart_ids))
                formatted[table.tab] = sheet
        protect_replies: list[_Sheet] = []
        if self._settings.protect_output_tabs:
            if self._account_email is None:
                log.warning("sheets.protect_output_tabs is set but the backend has no service account "
                            "(anonymous access): output tabs are not protected")
            else:
                for write in writes:
                    sheet = pending.find(write.table.tab)
                    if sheet is not None and not sheet.protected_ids:
                        requests.append(formatting.protect(sheet.sheet_id, self._account_email))
                        protect_replies.append(sheet)
        if not requests:
            return ()
        answer = self._http.request("post", SPREADSHEET_BATCH_UPDATE_URL % sid,
                                    json={"requests": requests, "includeSpreadsheetInResponse": True},
                                    params=dict(_FORMAT_PARAMS)).json()
        if "updatedSpreadsheet" in answer:
            # The spreadsheet's tabs as the batch left them: a listing for free (grid sizes included).
            self._indexes[sid] = _SheetIndex.from_metadata(answer["updatedSpreadsheet"])
            self._listed_at[sid] = self._clock()
            if created:
                log.info("created tab(s) %s in spreadsheet %s", ", ".join(s.title for s in created), sid)
            return tuple(s.title for s in created)
        # Keep the cached index true to what this batch did (metadata is fetched only once).
        for sheet in created:
            index.add(sheet)
        for tab, (rows, columns) in resized.items():
            formatted[tab].grow(rows, columns)
        for tab, sheet in formatted.items():
            layout = next(w.table.layout for w in writes if w.table.tab == tab)
            sheet.rule_count = len(formatting.colour_rules(sheet.sheet_id, layout))
            sheet.chart_ids.update(chart_ids(sheet.sheet_id, len(layout.charts)))
        added = [r["addProtectedRange"]["protectedRange"] for r in answer.get("replies", [])
                 if isinstance(r, dict) and "addProtectedRange" in r]
        for sheet, protected in zip(protect_replies, added, strict=False):
            sheet.protected_ids.append(protected.get("protectedRangeId", -1))
        if created:
            log.info("created tab(s) %s in spreadsheet %s", ", ".join(s.title for s in created), sid)
        return tuple(s.title for s in created)

    def _missing(self, spreadsheet_id: str, titles: Sequence[str], *, refresh: bool = False) -> list[str]:
        """Which titles name no tab, after Google said a range did not parse.

        Metadata comes from the cache when there is one; if the cache still lists
        every tab it is stale (a person deleted one), so it is fetched again.
        """
        if refresh:
            self._indexes.pop(spreadsheet_id, None)
        cached = spreadsheet_id in self._indexes
        missing = [t for t in titles if not self._index(spreadsheet_id).find(t)]
        if not missing and cached:
            self._indexes.pop(spreadsheet_id)
            missing = [t for t in titles if not self._index(spreadsheet_id).find(t)]
        if missing:
            log.warning("spreadsheet %s has no tab named %s", spreadsheet_id, ", ".join(map(repr, missing)))
        return missing

    def _index(self, spreadsheet_id: str) -> _SheetIndex:
        """The spreadsheet's tabs, fetched once per backend."""
        if spreadsheet_id not in self._indexes:
            metadata = self._http.fetch_sheet_metadata(spreadsheet_id, params=dict(_METADATA_PARAMS))
            self._indexes[spreadsheet_id] = _SheetIndex.from_metadata(metadata)
            self._listed_at[spreadsheet_id] = self._clock()
        return self._indexes[spreadsheet_id]


def value_bodies(grids: Sequence[tuple[str, list[list[Any]]]], limit: int) -> list[dict[str, Any]]:
    """``values:batchUpdate`` bodies for ``(tab, grid from A1)`` pairs, each under ``limit`` bytes of JSON.

    Usually one body. Otherwise a tab too big for one is cut into blocks of
    rows (``'Tab'!A2001`` …, each written where its first row belongs) and the
    pieces are packed into as few bodies as fit. Sizes are measured with
    ``json.dumps`` on whole blocks (fast), never row by row.
    """
    sizes = [len(json.dumps(grid)) for _, grid in grids]
    room = limit - 200 * (len(grids) + 1)  # keys, range texts and separators, generously
    if sum(sizes) < room:
        return [{"valueInputOption": "RAW", "data": [_value_range(tab, 0, grid) for tab, grid in grids]}]
    pieces = [piece for (tab, grid), size in zip(grids, sizes, strict=True)
              for piece in _row_blocks(tab, grid, size, room)]
    bodies: list[dict[str, Any]] = []
    data: list[dict[str, Any]] = []
    used = 0
    for piece, size in pieces:
        if data and used + size + 2 > room:
            bodies.append({"valueInputOption": "RAW", "data": data})
            data, used = [], 0
        data.append(piece)
        used += size + 2
    if data:
        bodies.append({"valueInputOption": "RAW", "data": data})
    return bodies


def encoded_value_bodies(grids: Sequence[tuple[str, list[list[Any]]]], limit: int) -> list[bytes]:
    """``value_bodies(grids, limit)``, each as the bytes sent: ``json.dumps(body, allow_nan=False)``
    in UTF-8, as requests encodes a ``json=`` body. Each grid is encoded once, and that text both
    measures it and goes into the body (the usual single body); a split write is built as before."""
    encoded = [json.dumps(grid, allow_nan=False) for _, grid in grids]
    room = limit - 200 * (len(grids) + 1)  # as value_bodies reckons
    if sum(map(len, encoded)) >= room:
        return [json.dumps(body, allow_nan=False).encode() for body in value_bodies(grids, limit)]
    data = ", ".join(f'{{"range": {json.dumps(_value_range(tab, 0, [])["range"])}, "majorDimension": "ROWS", '
                     f'"values": {values}}}' for (tab, _), values in zip(grids, encoded, strict=True))
    return [f'{{"valueInputOption": "RAW", "data": [{data}]}}'.encode()]


def _row_blocks(tab: str, grid: list[list[Any]], size: int, room: int) -> list[tuple[dict[str, Any], int]]:
    """One tab's ValueRanges of at most ``room`` bytes each, with their sizes: equal row blocks first,
    a block still too big halved again (rows differ in length). ``size``: the grid's JSON length."""
    parts = max(1, math.ceil(size / (room * 0.95)))
    step = max(1, math.ceil(len(grid) / parts))
    blocks: list[tuple[dict[str, Any], int]] = []
    pending = [(start, grid[start:start + step]) for start in range(0, max(len(grid), 1), step)]
    while pending:
        start, rows = pending.pop(0)
        piece = _value_range(tab, start, rows)
        size = len(json.dumps(piece))
        if size <= room or len(rows) <= 1:
            blocks.append((piece, size))
            continue
        half = len(rows) // 2
        pending[:0] = [(start, rows[:half]), (start + half, rows[half:])]
    return blocks


def _value_range(tab: str, start_row: int, rows: list[list[Any]]) -> dict[str, Any]:
    return {"range": f"{quote_tab(tab)}!A{start_row + 1}", "majorDimension": "ROWS", "values": rows}


def chart_ids(sheet_id: int, count: int) -> list[int]:
    """Stable ids for a tab's charts: the same tab always finds its own charts again."""
    return [zlib.crc32(f"{sheet_id}:chart:{index}".encode()) & 0x7FFFFFFF or 1 for index in range(count)]


def new_tab_size(rows: int, columns: int) -> tuple[int, int]:
    """The grid a new output tab is given for ``rows`` × ``columns`` of values: room to grow."""
    return max(1000, rows + 100), max(26, columns + 2)


def table_extent(table: OutputTable) -> tuple[int, int]:
    """Rows and columns a table covers from A1: header, rows and side block."""
    table_width = max([len(table.header), *(len(r) for r in table.rows)])
    side_width = max((len(r) for r in table.side_block), default=0)
    side_column = table.layout.side_block_column
    if side_column is None:
        side_column = table_width + 1
    side_end = side_column + side_width if side_width else 0
    return max(1 + len(table.rows), len(table.side_block)), max(table_width, side_end)


def tab_values(write: TabWrite) -> list[list[Any]]:
    """The rectangle written to a tab from A1: header, rows, side block, blanks over leftovers.

    Cells not covered by the table or the side block but inside the previous
    size (``clear_rows`` × ``clear_columns``) or the gap between them are ``""``
    (blanked), except ``keep_side_rows`` rows below the side block: None (left as they are).
    Values are JSON-ready: None/NaN → ``""``, Decimal → number,
    date/datetime → a Sheets serial number.
    """
    table = write.table
    header: tuple[Cell, ...] = table.header
    rows = table.rows
    table_width = max([len(header), *(len(r) for r in rows)])
    side = [list(r) for r in table.side_block]
    side_width = max((len(r) for r in side), default=0)
    side_column = table.layout.side_block_column
    if side and side_column is None:
        side_column = table_width + 1
    if side and side_column is not None and side_column < table_width:
        raise ValueError(f"tab {table.tab!r}: side block column {side_column} overlaps the table "
                         f"({table_width} columns)")
    side_end = (side_column or 0) + side_width if side else 0
    height = max(1 + len(rows), len(side), write.clear_rows)
    width = max(table_width, side_end, write.clear_columns)
    grid: list[list[Any]] = [_json_row(row, width) for row in (header, *rows)]
    grid += [[""] * width for _ in range(height - len(grid))]
    for r, row in enumerate(side):
        for c, value in enumerate(row):
            grid[r][(side_column or 0) + c] = _json_cell(value)
    for r in range(len(side), min(len(side) + write.keep_side_rows, height)):
        for c in range(side_width):
            grid[r][(side_column or 0) + c] = None  # JSON null: Sheets leaves the cell as it is
    return grid


def _json_row(row: Sequence[Any], width: int) -> list[Any]:
    """``row`` as JSON-ready cells (``_json_cell`` of each), padded with ``""`` to ``width``. Text,
    ints and finite floats, nearly every cell, are taken as they are without a call per cell."""
    cells = [value if (kind := type(value)) is str or kind is int or (kind is float and value - value == 0.0)
             else _json_cell(value) for value in row]
    cells += [""] * (width - len(cells))
    return cells


def _json_cell(value: Any) -> Cell:
    if value is None or isinstance(value, (bool, str, int)):
        return "" if value is None else value
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, Decimal):
        return _json_cell(float(value))
    if isinstance(value, date):  # a datetime too
        return to_serial(value)
    return str(value)


def _raw_grid(values: list[list[Any]]) -> RawGrid:
    """Google's rows as a RawGrid: ``""`` (an empty cell inside a row) becomes None."""
    return [[None if v == "" else v for v in row] for row in values]
