"""The local fake Sheets API server of the tests, made fit for a benchmark of 100,000 rows.

``tests.sheets_api.server.FakeSheetsServer`` renders every cell in Python and
pretty-prints its JSON answers, which costs it more than a second per read of a
large spreadsheet: time Google spends on its side, not the product's. This
subclass answers a repeated ``values:batchGet`` from the body it rendered last
time (byte for byte what the plain server sends) until the spreadsheet changes.
``prime`` renders a read ahead of time, as Google
has the data ready. The request log is kept in full, so API calls are counted
exactly as the tests count them. The time the server spends answering is
recorded, so a report can show it.

Several workers read and write at once (one handler thread per request), so the cache is
only touched under its own lock, and an answer rendered while a write changed the
spreadsheet is not kept (a generation count tells).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.sheets_api import server as fake
from tests.sheets_api.a1 import split_range

READ_KINDS = frozenset({"values.get", "values.batchGet", "spreadsheets.get"})
WRITE_KINDS = frozenset({"values.update", "values.append", "values.clear", "values.batchUpdate",
                         "values.batchClear", "spreadsheets.batchUpdate"})


class BenchSheetsServer(fake.FakeSheetsServer):
    """``FakeSheetsServer`` with cached large reads; same answers, same request log."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._answers: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], Any] = {}
        self._cache = threading.Lock()
        self._generation = 0  # bumped by every clearing of the cache
        self._timing = threading.Lock()
        self.server_seconds = 0.0
        """Time spent inside ``dispatch`` since the last ``clear_requests``."""
        self.timings: list[tuple[str, float]] = []
        """(request kind, seconds in ``dispatch``) since the last ``clear_requests``."""

    def dispatch(self, method: str, raw_path: str, body: Any, headers: dict[str, str]) -> Any:
        """Route one request; a read of unchanged tabs is answered from the cached body."""
        started = time.perf_counter()
        try:
            return self._dispatch(method, raw_path, body, headers)
        finally:
            spent = time.perf_counter() - started
            with self._timing:
                self.server_seconds += spent
                self.timings.append((fake._route(method, raw_path).kind, spent))

    def _dispatch(self, method: str, raw_path: str, body: Any, headers: dict[str, str]) -> Any:
        route = fake._route(method, raw_path)
        if route.kind == "values.batchGet":
            key = _read_key(raw_path)
            with self._cache:
                cached, generation = self._answers.get(key), self._generation
            if cached is not None and not self._state.faults:
                self._record(fake.RecordedRequest(
                    method=method, path=urlsplit(raw_path).path, kind=route.kind,
                    spreadsheet_id=route.spreadsheet_id, params=route.params, body=body, status=200,
                    authorization=headers.get("authorization")))
                return cached
            answer = super().dispatch(method, raw_path, body, headers)
            with self._cache:
                if answer.status == 200 and generation == self._generation:
                    self._answers[key] = answer
            return answer
        changes = route.kind in WRITE_KINDS and _writes_values(route.kind, body, self._cached_tabs())
        try:
            return super().dispatch(method, raw_path, body, headers)
        finally:
            if changes:  # after the write: a read rendered before it cannot be kept then
                self._clear_cache()

    def _clear_cache(self) -> None:
        with self._cache:
            self._answers.clear()
            self._generation += 1

    def _cached_tabs(self) -> set[str]:
        """Tab names (folded) the cached reads cover."""
        with self._cache:
            keys = list(self._answers)
        titles = (split_range(text).title for key in keys for text in key[1])
        return {title.casefold() for title in titles if title}

    # Writes made through the test hooks change what a read returns.
    def set_values(self, spreadsheet_id: str, tab: str, grid: Sequence[Sequence[Any]],
                   start: str = "A1") -> None:
        """Store values as given from ``start`` (see ``FakeSheetsServer.set_values``)."""
        super().set_values(spreadsheet_id, tab, grid, start)
        self._clear_cache()

    def set_cell(self, spreadsheet_id: str, tab: str, a1: str, value: Any = None, **kwargs: Any) -> None:
        """Set one cell (see ``FakeSheetsServer.set_cell``)."""
        super().set_cell(spreadsheet_id, tab, a1, value, **kwargs)
        self._clear_cache()

    def create_spreadsheet(self, spreadsheet_id: str, tabs: Mapping[str, Sequence[Sequence[Any]]] | None = None,
                           **kwargs: Any) -> None:
        """Create a spreadsheet (see ``FakeSheetsServer.create_spreadsheet``)."""
        super().create_spreadsheet(spreadsheet_id, tabs, **kwargs)
        self._clear_cache()

    def clear_requests(self) -> None:
        """Forget the request log and the server time."""
        super().clear_requests()
        with self._timing:
            self.server_seconds = 0.0
            self.timings = []

    def prime(self, spreadsheet_id: str, tabs: Sequence[str]) -> None:
        """Read ``tabs`` once through the Google backend, so that its next read is answered at once.

        The priming request is not left in the request log.
        """
        from models.settings import SheetsSettings
        from sheets.google import GoogleSheetsBackend

        settings = SheetsSettings(backend="google", spreadsheet_id=spreadsheet_id, api_endpoint=self.url)
        before = len(self.requests)
        GoogleSheetsBackend(settings, environ={}).read_tabs(list(tabs))
        with self._lock:
            del self._state.requests[before:]

    def calls(self) -> dict[str, int]:
        """API requests by kind (``values.batchGet``, …) since the last ``clear_requests``; retries
        count, token requests do not."""
        kinds = [r.kind for r in self.requests if r.kind != "token"]
        return {kind: kinds.count(kind) for kind in sorted(set(kinds))}


def _read_key(raw_path: str) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """A read's identity whatever the order of its query parameters: (path, ranges in order, the others)."""
    parts = urlsplit(raw_path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    ranges = tuple(value for name, value in pairs if name == "ranges")
    return parts.path, ranges, tuple(sorted((n, v) for n, v in pairs if n != "ranges"))


def _writes_values(kind: str, body: Any, tabs: set[str]) -> bool:
    """Whether a write may change what a cached read of ``tabs`` returns (formatting never does)."""
    if kind == "spreadsheets.batchUpdate":
        return False
    if kind == "values.batchUpdate":
        ranges = [item.get("range", "") for item in (body or {}).get("data", [])]
    elif kind == "values.batchClear":
        ranges = list((body or {}).get("ranges", []))
    else:
        return True
    try:
        titles = {(split_range(text).title or "").casefold() for text in ranges}
    except Exception:  # an odd range: play safe
        return True
    return bool(titles & tabs) or "" in titles


def start() -> BenchSheetsServer:
    """A running benchmark server on 127.0.0.1 (a free port)."""
    return BenchSheetsServer().start()  # type: ignore[return-value]
