"""A local HTTP server that answers like the Google Sheets v4 REST API, for tests.

Start it, point ``sheets.api_endpoint`` at ``server.url`` and real gspread
talks to it over HTTP. It is as strict as Google: each request is checked
against the discovery document (``discovery``), bodies over 2 MB are refused,
a Viewer may only read, and the OAuth token endpoint answers OAuth error
bodies. Test hooks: ``create_spreadsheet``, ``set_cell``, ``get_values``,
``share``/``unshare``, ``delete_tab``, ``inject`` (faults), ``revoke``,
``require_auth``, ``requests``/``count`` (what the client sent).
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.sheets_api.a1 import split_range
from tests.sheets_api.discovery import Method, discovery
from tests.sheets_api.handler import LocalHandler
from tests.sheets_api.model import (
    CELL_LIMIT,
    ApiError,
    CellData,
    Spreadsheet,
    Tab,
    apply_batch_update,
    clear_values,
    read_values,
    resolve,
    write_values,
)

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
READ_KINDS = frozenset({"spreadsheets.get", "values.get", "values.batchGet"})
"""What a Viewer may do; everything else answers 403 on a spreadsheet shared read-only."""
MAX_BODY_BYTES = 2_000_000
"""Google's recommended maximum request size; this server refuses bigger bodies (413)."""
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KINDS = (
    "spreadsheets.get", "spreadsheets.batchUpdate", "values.get", "values.update", "values.append",
    "values.clear", "values.batchGet", "values.batchUpdate", "values.batchClear", "token",
)
"""Request kinds, named after the Google API methods."""

HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error {code} (Server Error)!!1</title>\n"
    "  <p><b>{code}.</b> <ins>That\u2019s an error.</ins>\n  <p>The server encountered a temporary error "
    "and could not complete your request.<p>Please try again in 30 seconds.  <ins>That\u2019s all we "
    "know.</ins>\n"
)


@dataclass
class RecordedRequest:
    """One request the server received (faulted ones included)."""

    method: str
    path: str
    kind: str
    spreadsheet_id: str | None
    params: dict[str, list[str]]
    body: Any
    status: int | None = None
    """None when the connection was closed without an answer."""
    fault: str | None = None
    authorization: str | None = None
    received_at: float = field(default_factory=time.time)
    """Wall-clock arrival (seconds since the epoch), to check rate limits across processes."""


@dataclass
class Fault:
    """What to do to the next matching request(s) instead of answering normally."""

    status: int | None = None
    retry_after: str | None = None
    html: bool = False
    delay: float | None = None
    close: bool = False
    message: str | None = None
    kind: str | None = None
    remaining: int | None = 1
    """How many more requests this fault applies to; None = until cleared."""

    def describe(self) -> str:
        """A short label for the request log."""
        if self.close:
            return "close"
        if self.delay is not None:
            return f"delay {self.delay}s"
        return f"{'html ' if self.html else ''}{self.status}"


@dataclass
class _State:
    books: dict[str, Spreadsheet] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    token_scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    revoked: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Account email → (OAuth error, description) the token endpoint answers for it."""
    require_auth: bool = False


class FakeSheetsServer:
    """The server and its test hooks; thread-safe."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.RLock()
        self._state = _State()
        self._release = threading.Event()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.app = self
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to use as ``sheets.api_endpoint`` (``http://127.0.0.1:PORT``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_uri(self) -> str:
        """OAuth token endpoint to put in a test service-account file."""
        return self.url + "/token"

    def start(self) -> FakeSheetsServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-sheets", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release any request held by a delay fault."""
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget every spreadsheet, fault and recorded request."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._state = _State()

    # --- spreadsheets ------------------------------------------------------

    def create_spreadsheet(self, spreadsheet_id: str, tabs: Mapping[str, Sequence[Sequence[Any]]] | None = None,
                           *, title: str | None = None, shared: bool = True, rows: int = 1000,
                           columns: int = 26) -> None:
        """Create a spreadsheet whose tabs hold ``tabs`` (rows from A1, values stored as given).

        Strings are stored as text (a leading ``=`` too); use ``set_cell`` for a formula.
        """
        book = Spreadsheet(spreadsheet_id=spreadsheet_id, title=title or spreadsheet_id, shared=shared)
        for index, (name, grid) in enumerate((tabs or {"Sheet1": []}).items()):
            height = max(rows, len(grid))
            width = max(columns, max((len(r) for r in grid), default=0))
            tab = Tab(sheet_id=0 if index == 0 else 1000 + index, title=name, row_count=height,
                      column_count=width)
            _fill(tab, grid)
            book.tabs.append(tab)
        if book.cell_count() > CELL_LIMIT:
            raise ValueError(f"{book.cell_count():,} cells: Google Sheets holds at most {CELL_LIMIT:,} per spreadsheet")
        with self._lock:
            self._state.books[spreadsheet_id] = book

    def add_tab(self, spreadsheet_id: str, title: str, grid: Sequence[Sequence[Any]] = (),
                *, sheet_id: int | None = None, rows: int = 1000, columns: int = 26) -> int:
        """Add a tab (as a person would in the browser; ``rows`` × ``columns`` at least); return its sheet id."""
        with self._lock:
            book = self._book(spreadsheet_id)
            tab = Tab(sheet_id=sheet_id if sheet_id is not None else book.new_sheet_id(), title=title,
                      row_count=max(rows, len(grid)), column_count=max(columns, *(len(r) for r in grid), 1))
            _fill(tab, grid)
            book.tabs.append(tab)
            return tab.sheet_id

    def delete_tab(self, spreadsheet_id: str, title: str) -> None:
        """Delete a tab (as a person would in the browser)."""
        with self._lock:
            book = self._book(spreadsheet_id)
            tab = book.find(title)
            if tab is None:
                raise KeyError(title)
            book.tabs.remove(tab)

    def rename_tab(self, spreadsheet_id: str, old: str, new: str) -> None:
        """Rename a tab."""
        with self._lock:
            tab = self._tab(spreadsheet_id, old)
            tab.title = new

    def share(self, spreadsheet_id: str, role: str = "writer") -> None:
        """Share the spreadsheet with the caller as an Editor (``writer``) or a Viewer (``reader``:
        reads succeed, every write answers 403)."""
        if role not in ("writer", "reader"):
            raise ValueError("role is 'writer' (Editor) or 'reader' (Viewer)")
        with self._lock:
            book = self._book(spreadsheet_id)
            book.shared, book.role = True, role

    def unshare(self, spreadsheet_id: str) -> None:
        """Stop sharing: every request on it answers 403 PERMISSION_DENIED."""
        with self._lock:
            self._book(spreadsheet_id).shared = False

    def set_values(self, spreadsheet_id: str, tab: str, grid: Sequence[Sequence[Any]],
                   start: str = "A1") -> None:
        """Store values as given (no formula parsing) from ``start``; None leaves a cell as it is."""
        with self._lock:
            book = self._book(spreadsheet_id)
            where = resolve(book, f"{_quoted(tab)}!{start}")
            target = where.tab
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    key = (where.start_row + r, where.start_column + c)
                    cell = target.cells.get(key) or CellData()
                    cell.value, cell.formula = value, None
                    target.cells[key] = cell
                    target.row_count = max(target.row_count, key[0] + 1)
                    target.column_count = max(target.column_count, key[1] + 1)

    def set_cell(self, spreadsheet_id: str, tab: str, a1: str, value: Any = None, *,
                 formula: str | None = None, number_format: dict[str, Any] | None = None) -> None:
        """Set one cell: its computed ``value``, optionally a ``formula`` and a number format.

        ``set_cell(id, "Actuals", "D2", 12, formula="=B2+C2")`` is a formula cell that
        computed 12; ``set_cell(id, "Actuals", "D3", "#REF!", formula="=A0")`` an error.
        """
        with self._lock:
            book = self._book(spreadsheet_id)
            where = resolve(book, f"{_quoted(tab)}!{a1}")
            key = (where.start_row, where.start_column)
            where.tab.cells[key] = CellData(value=value, formula=formula, number_format=number_format)
            where.tab.row_count = max(where.tab.row_count, key[0] + 1)
            where.tab.column_count = max(where.tab.column_count, key[1] + 1)

    def get_cell(self, spreadsheet_id: str, tab: str, a1: str) -> CellData | None:
        """A copy of one cell (value, formula, number format), None when never written."""
        with self._lock:
            book = self._book(spreadsheet_id)
            where = resolve(book, f"{_quoted(tab)}!{a1}")
            cell = where.tab.cells.get((where.start_row, where.start_column))
            return copy.deepcopy(cell) if cell and not cell.empty else None

    def get_values(self, spreadsheet_id: str, tab: str, render: str = "UNFORMATTED_VALUE") -> list[list[Any]]:
        """A tab's values as values.get returns them (trimmed; ``""`` for a gap)."""
        with self._lock:
            book = self._book(spreadsheet_id)
            answer = read_values(book, _quoted(tab), render, "SERIAL_NUMBER", "ROWS")
            return answer.get("values", [])

    def tab(self, spreadsheet_id: str, title: str) -> Tab:
        """A snapshot of a tab: ``requests`` (formatting applied), ``conditional_formats``,
        ``protected_ranges``, ``frozen_row_count``, ``column_widths``, ``row_count`` …"""
        with self._lock:
            return copy.deepcopy(self._tab(spreadsheet_id, title))

    def tab_titles(self, spreadsheet_id: str) -> list[str]:
        """Tab names in order."""
        with self._lock:
            return [t.title for t in self._book(spreadsheet_id).tabs]

    def metadata(self, spreadsheet_id: str) -> dict[str, Any]:
        """What spreadsheets.get would answer."""
        with self._lock:
            return self._book(spreadsheet_id).metadata()

    # --- faults and the request log ---------------------------------------

    def inject(self, status: int | None = None, *, times: int | None = 1, retry_after: float | str | None = None,
               html: bool = False, delay: float | None = None, close: bool = False,
               message: str | None = None, kind: str | None = None) -> None:
        """Make the next ``times`` requests (of ``kind``, default any API request) fail.

        ``status``: answer with Google's error JSON (or an HTML page with ``html``);
        ``retry_after``: add that header; ``delay``: hold the request that many
        seconds, then answer normally (or with ``status``); ``close``: drop the
        connection without an answer. ``times=None``: until ``clear_faults()``.
        """
        if status is None and delay is None and not close:
            raise ValueError("inject needs status, delay or close")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
        fault = Fault(status=status, retry_after=None if retry_after is None else str(retry_after), html=html,
                      delay=delay, close=close, message=message, kind=kind, remaining=times)
        with self._lock:
            self._state.faults.append(fault)

    def clear_faults(self) -> None:
        """Answer normally again."""
        with self._lock:
            self._state.faults.clear()

    def require_auth(self, required: bool = True) -> None:
        """With True, API requests without a token issued by ``/token`` answer 401."""
        with self._lock:
            self._state.require_auth = required

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._state.requests)

    def count(self, kind: str | None = None, *, spreadsheet_id: str | None = None,
              include_token: bool = False) -> int:
        """How many requests (of ``kind``, on ``spreadsheet_id``) were received."""
        return sum(
            1 for r in self.requests
            if (kind is None or r.kind == kind)
            and (spreadsheet_id is None or r.spreadsheet_id == spreadsheet_id)
            and (include_token or kind == "token" or r.kind != "token")
        )

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._lock:
            self._state.requests.clear()

    def token_email(self, token: str) -> str | None:
        """The service-account email a token was issued to."""
        with self._lock:
            return self._state.tokens.get(token)

    # --- internals -----------------------------------------------------------

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        try:
            return self._state.books[spreadsheet_id]
        except KeyError:
            raise KeyError(f"no spreadsheet {spreadsheet_id!r}; create_spreadsheet first") from None

    def _tab(self, spreadsheet_id: str, title: str) -> Tab:
        tab = self._book(spreadsheet_id).find(title)
        if tab is None:
            raise KeyError(f"no tab {title!r} in {spreadsheet_id!r}")
        return tab

    def _take_fault(self, kind: str) -> Fault | None:
        with self._lock:
            for fault in self._state.faults:
                wanted = fault.kind == kind if fault.kind else kind != "token"
                if not wanted:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._state.faults.remove(fault)
                return fault
        return None

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._state.requests.append(record)

    def release_delayed(self) -> None:
        """Answer every request held by a delay fault now (and any later one without waiting):
        for tests that hold a request until something else has happened."""
        self._release_event().set()

    def _release_event(self) -> threading.Event:
        with self._lock:
            return self._release

    def dispatch(self, method: str, raw_path: str, body: Any, headers: dict[str, str]) -> _Answer:
        """Route one request (called from the handler thread)."""
        route = _route(method, raw_path)
        record = RecordedRequest(method=method, path=urlsplit(raw_path).path, kind=route.kind,
                                 spreadsheet_id=route.spreadsheet_id, params=route.params, body=body,
                                 authorization=headers.get("authorization"))
        self._record(record)
        fault = self._take_fault(route.kind)
        if fault is not None:
            record.fault = fault.describe()
            if fault.delay is not None:
                self._release_event().wait(fault.delay)
            if fault.close:
                record.status = None
                return _Answer(close=True)
            if fault.status is not None:
                record.status = fault.status
                answer_headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                if fault.html:
                    page = HTML_ERROR_PAGE.format(code=fault.status)
                    return _Answer(fault.status, page.encode(), "text/html; charset=UTF-8", answer_headers)
                error = ApiError(fault.status, fault.message)
                payload = error.body() if route.kind != "token" else {
                    "error": "internal_failure" if fault.status >= 500 else "invalid_request",
                    "error_description": error.message}
                return _Answer.json(fault.status, payload, answer_headers)
        try:
            status, payload = self._execute(route, body, headers)
        except ApiError as error:
            status, payload = error.code, error.body()
            if route.kind == "token":
                email = _jwt_claims(_form_value(body, "assertion")) or {}
                refused = self._state.revoked.get(str(email.get("iss")), ("invalid_grant", error.message))
                payload = {"error": refused[0], "error_description": refused[1]}
        record.status = status
        return _Answer.json(status, payload)

    def _execute(self, route: _Route, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        if route.kind == "token":
            return self._token_answer(body)
        if route.method is None:
            raise ApiError(404, "Not Found")
        if int(headers.get("content-length") or 0) > MAX_BODY_BYTES:
            raise ApiError(413, f"Request payload size exceeds the limit: {MAX_BODY_BYTES} bytes.")
        operation = _OPERATIONS.get(route.kind)
        if operation is None:
            raise ApiError(501, f"{route.method.id} is in Google's API but not modelled by the test server")
        rules = discovery()
        rules.check_query(route.method, route.params)
        rules.check_body(route.method, body)
        with self._lock:
            if self._state.require_auth:
                token = (headers.get("authorization") or "").removeprefix("Bearer ").strip()
                if token not in self._state.tokens:
                    raise ApiError(401)
                scopes = self._state.token_scopes.get(token)
                if scopes is not None and SPREADSHEETS_SCOPE not in scopes:
                    raise ApiError(403, "Request had insufficient authentication scopes.")
            book = self._state.books.get(route.spreadsheet_id or "")
            if book is None:
                raise ApiError(404)
            if not book.shared or (book.role != "writer" and route.kind not in READ_KINDS):
                raise ApiError(403)
            answer = operation(self, book, route, body)
        selector = _param(route, "fields", "")
        return 200, rules.select(route.method, answer, selector) if selector else answer

    def _token_answer(self, form: Any) -> tuple[int, Any]:
        """Google's OAuth token endpoint for a service account's signed JWT (RFC 7523)."""
        fields = {k: v[0] for k, v in form.items()} if isinstance(form, dict) else {}
        grant = fields.get("grant_type", "")
        if grant != JWT_GRANT:
            return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}
        claims = _jwt_claims(fields.get("assertion", ""))
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if not str(claims.get("aud", "")).endswith("/token") or "iss" not in claims or "exp" not in claims:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived "
                                                                       "token and in a reasonable timeframe."}
        if not claims.get("scope"):
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience "
                                                                       "provided."}
        return 200, self.issue_token(str(claims["iss"]), str(claims["scope"]).split())

    def issue_token(self, email: str, scopes: Sequence[str]) -> dict[str, Any]:
        """A new access token for ``email`` with ``scopes`` (also used by the keyless auth servers)."""
        with self._lock:
            refused = self._state.revoked.get(email)
            if refused is not None:
                raise ApiError(400, refused[1])
            token = f"fake-token-{len(self._state.tokens) + 1}"
            self._state.tokens[token] = email
            self._state.token_scopes[token] = tuple(scopes)
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def revoke(self, email: str, error: str = "invalid_grant",
               description: str = "Invalid JWT Signature.") -> None:
        """The token endpoint refuses ``email`` from now on, with an OAuth error body
        (``invalid_grant``/``Invalid JWT Signature.`` is what Google says of a deleted key)."""
        with self._lock:
            self._state.revoked[email] = (error, description)

    def token_scopes(self, token: str) -> tuple[str, ...] | None:
        """The scopes a token was issued for."""
        with self._lock:
            return self._state.token_scopes.get(token)


def _fill(tab: Tab, grid: Sequence[Sequence[Any]]) -> None:
    # Pasting more rows or columns than the tab has grows it, as in the browser.
    tab.row_count = max(tab.row_count, len(grid))
    tab.column_count = max(tab.column_count, max((len(row) for row in grid), default=0))
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if value is not None and value != "":
                tab.cells[(r, c)] = CellData(value=value)


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _jwt_claims(assertion: str) -> dict[str, Any] | None:
    """The claims of a signed JWT (the signature is not verified: the key is the test's own)."""
    try:
        header, payload, signature = assertion.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        algorithm = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("alg")
    except ValueError:
        return None
    if not isinstance(claims, dict) or algorithm != "RS256" or not signature:
        return None
    return claims


def _form_value(form: Any, name: str) -> str:
    return str(form.get(name, [""])[0]) if isinstance(form, dict) else ""


@dataclass
class _Route:
    kind: str
    spreadsheet_id: str | None = None
    range: str | None = None
    params: dict[str, list[str]] = field(default_factory=dict)
    method: Method | None = None


def _route(method: str, raw_path: str) -> _Route:
    """Match a request to a method of Google's discovery document (kind ``unknown`` if none)."""
    parts = urlsplit(raw_path)
    params = parse_qs(parts.query, keep_blank_values=True)
    if parts.path == "/token" and method == "POST":
        return _Route("token", params=params)
    matched = discovery().route(method, parts.path)
    if matched is None:
        return _Route("unknown", params=params)
    found = matched.path_params
    return _Route(matched.method.kind, found.get("spreadsheetId"), found.get("range"), params, matched.method)


def _param(route: _Route, name: str, default: str) -> str:
    return route.params.get(name, [default])[0]


def _op_get(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    return book.metadata()


def _op_batch_update(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    requests = (body or {}).get("requests")
    if not requests:
        raise ApiError(400, "Must specify at least one request.")
    # All or nothing, as Google applies a batch: work on a copy, swap it in on success.
    # The copy shares the cells (no batch request changes a cell: formats live on the tab),
    # so a batch costs the same on 100,000 rows as on ten.
    trial = copy.deepcopy(book, {id(tab.cells): tab.cells for tab in book.tabs})
    replies = apply_batch_update(trial, requests)
    book.__dict__.update(trial.__dict__)
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, "replies": replies}
    if (body or {}).get("includeSpreadsheetInResponse"):
        answer["updatedSpreadsheet"] = book.metadata()
    return answer


def _read_options(route: _Route) -> tuple[str, str, str]:
    value_render = _param(route, "valueRenderOption", "FORMATTED_VALUE")
    date_render = _param(route, "dateTimeRenderOption", "SERIAL_NUMBER")
    major = _param(route, "majorDimension", "ROWS")
    if value_render not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
        raise ApiError(400, f"Invalid value at 'value_render_option' ({value_render})")
    if date_render not in ("SERIAL_NUMBER", "FORMATTED_STRING"):
        raise ApiError(400, f"Invalid value at 'date_time_render_option' ({date_render})")
    if major not in ("ROWS", "COLUMNS"):
        raise ApiError(400, f"Invalid value at 'major_dimension' ({major})")
    return value_render, date_render, major


def _op_values_get(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    return read_values(book, route.range or "", *_read_options(route))


def _op_values_batch_get(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    ranges = route.params.get("ranges", [])
    options = _read_options(route)
    return {"spreadsheetId": book.spreadsheet_id,
            "valueRanges": [read_values(book, text, *options) for text in ranges]}


def _op_values_update(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    body = body or {}
    option = _param(route, "valueInputOption", "")
    return write_values(book, route.range or "", body.get("values", []), option,
                        body.get("majorDimension", "ROWS"))


def _op_values_append(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    body = body or {}
    where = resolve(book, route.range or "")
    rows, _ = where.tab.used_size()
    start = f"{_quoted(where.tab.title)}!A{max(rows, where.start_row) + 1}"
    updates = write_values(book, start, body.get("values", []), _param(route, "valueInputOption", ""),
                           body.get("majorDimension", "ROWS"))
    return {"spreadsheetId": book.spreadsheet_id, "updates": updates}


def _op_values_batch_update(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    body = body or {}
    option = body.get("valueInputOption", "")
    data = body.get("data", [])
    # Validate every range first: Google writes all of them or none.
    for item in data:
        write_values(book, item.get("range", ""), item.get("values", []), option,
                     item.get("majorDimension", "ROWS"), dry_run=True)
    responses = [write_values(book, item["range"], item.get("values", []), option,
                              item.get("majorDimension", "ROWS")) for item in data]
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, "responses": responses}
    written = [r for r in responses if "updatedRange" in r]
    if written:
        answer.update({
            "totalUpdatedRows": sum(r["updatedRows"] for r in written),
            "totalUpdatedColumns": sum(r["updatedColumns"] for r in written),
            "totalUpdatedCells": sum(r["updatedCells"] for r in written),
            "totalUpdatedSheets": len({split_range(r["updatedRange"]).title for r in written}),
        })
    return answer


def _op_values_clear(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    return {"spreadsheetId": book.spreadsheet_id, "clearedRange": clear_values(book, route.range or "")}


def _op_values_batch_clear(server: FakeSheetsServer, book: Spreadsheet, route: _Route, body: Any) -> Any:
    ranges = (body or {}).get("ranges", [])
    for text in ranges:
        resolve(book, text)
    return {"spreadsheetId": book.spreadsheet_id, "clearedRanges": [clear_values(book, t) for t in ranges]}


_OPERATIONS = {
    "spreadsheets.get": _op_get,
    "spreadsheets.batchUpdate": _op_batch_update,
    "values.get": _op_values_get,
    "values.batchGet": _op_values_batch_get,
    "values.update": _op_values_update,
    "values.append": _op_values_append,
    "values.batchUpdate": _op_values_batch_update,
    "values.clear": _op_values_clear,
    "values.batchClear": _op_values_batch_clear,
}


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Answer:
        return cls(status, json.dumps(payload, indent=2).encode(), headers=headers or {})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog is 5: a burst of connections from many client threads overflows
    # it, and each dropped connection is retried by the kernel a whole second later.
    request_queue_size = 128
    app: FakeSheetsServer


class _Handler(LocalHandler):
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle plus delayed ACKs add 40 ms per answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def serve(self) -> None:
        raw = self.read_body()
        body: Any = None
        content_type = self.headers.get("Content-Type", "")
        if raw:
            if "application/x-www-form-urlencoded" in content_type:
                body = parse_qs(raw.decode())
            else:
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(_Answer.json(400, ApiError(400, "Invalid JSON payload received.").body()))
                    return
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.app.dispatch(self.command, self.path, body, headers)
        if answer.close:
            self.close_connection = True
            return
        self._send(answer)

    def _send(self, answer: _Answer) -> None:
        self.answer(answer.status, answer.content_type, answer.body, answer.headers)
