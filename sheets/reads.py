"""One read of the input tabs, with a digest of exactly what the spreadsheet answered.

The digest lets a cycle recognise a sheet unchanged since the last successful cycle
(kept in the database, so across processes) before it parses anything: the Google
backend hashes the response body as received and turns it into grids only when asked;
another backend's grids are hashed through ``marshal``, which tells ``1`` from ``1.0``
and ``True`` (``==`` does not: a checkbox typed over a 1 is a change).
"""

from __future__ import annotations

import hashlib
import marshal
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from sheets.outputs import RawGrid

Grids = Mapping[str, RawGrid | None]


class InputRead:
    """The tabs read: ``digest`` at once, ``grids()`` built on first use (and kept)."""

    def __init__(self, digest: str, load: Callable[[], Grids]) -> None:
        self.digest = digest
        self._load: Callable[[], Grids] | None = load
        self._grids: Grids | None = None

    def grids(self) -> Grids:
        """Each tab's grid (None for a missing tab)."""
        if self._grids is None:
            assert self._load is not None
            self._grids, self._load = self._load(), None
        return self._grids

    @classmethod
    def of_grids(cls, grids: Grids) -> InputRead:
        """A read whose grids are already built: hashed through ``marshal`` (a cell marshal cannot
        write gets a digest that never matches, so such a sheet is never taken as unchanged)."""
        try:
            digest = hashlib.sha256(marshal.dumps(dict(grids))).hexdigest()
        except ValueError:
            digest = f"unhashable-{uuid.uuid4()}"
        return cls(digest, lambda: grids)


class _RawReader(Protocol):
    def read_input(self, tabs: Sequence[str]) -> InputRead: ...


class _GridReader(Protocol):
    def read_tabs(self, tabs: Sequence[str]) -> dict[str, RawGrid | None]: ...


def read_input(backend: _GridReader, tabs: Sequence[str]) -> InputRead:
    """Read ``tabs`` in one request: the backend's own ``read_input`` when it has one (the body's
    digest, no parsing yet), else its ``read_tabs`` hashed."""
    reader = getattr(backend, "read_input", None)
    if reader is not None:
        return reader(tabs)  # type: ignore[no-any-return]
    return InputRead.of_grids(backend.read_tabs(tabs))
