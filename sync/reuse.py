"""Every reuse between cycles, in one place, around the pure functions it saves calling again.

- Across processes (cron's ``run --once`` as much as the daemon): ``input_fingerprint`` names
  everything a cycle's result depends on besides the database (the bytes the spreadsheet
  answered, the settings, the local day, the code); the cycle keeps it with the data version
  in the database (``models.fingerprints``) and, when both match the last successful cycle,
  skips parsing, storing and computing the output altogether.
- Within a daemon (``CycleMemo``, one per process): the parse of each unchanged tab
  (``ParseMemo``), each Summary row, Team pace, the Leaderboard, History and Charts tables
  of unchanged inputs (``RowMemo``), so that a cycle over a partly changed sheet recomputes
  only what changed.
- For a sheet that changed in a few rows (``StoredRows``): when nothing but the last committed
  cycle wrote to the database since (same data version, day, settings and code), only the input
  rows whose values differ from what that cycle stored are staged again; the rest already are in
  the database, exactly as the sheet holds them. A daemon keeps the row hashes in memory; the
  database keeps them too (``pack_hashes``), for the next cron process.
- ``collector_paused``: no cyclic garbage collection during a cycle.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import marshal
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.history import ManagerHistory
from models.settings import Settings
from sheets.inputs import InputKind
from sheets.outputs import RawGrid

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sheets.parse import TabResult

_ROOT = Path(__file__).resolve().parent.parent
_CODE_PACKAGES = ("sync", "sheets", "models")
"""The packages whose code decides what a cycle stores and shows."""


@functools.cache
def code_version() -> str:
    """A digest of the product's own source (a few milliseconds, once per process): an upgrade
    that changes how the output looks must not be mistaken for an unchanged cycle."""
    digest = hashlib.sha256()
    for package in _CODE_PACKAGES:
        for path in sorted((_ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def input_fingerprint(read_digest: str, settings: Settings, today: date) -> str:
    """Everything besides the database that a cycle's result depends on: what the spreadsheet
    answered, every setting (the goal rules, tab names, headers, protection…), the local date
    (pace, deadlines, month close) and the code."""
    digest = hashlib.sha256()
    for part in (read_digest, settings.model_dump_json(), today.isoformat(), code_version()):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one cycle.

    A cycle allocates some 200,000 lists (the read grids) that the collector would
    otherwise walk, together with every object of a long-running daemon, several times
    per cycle: up to half a second of a 2,000-rep cycle. Nearly all of it is freed by
    reference counting anyway; the collector resumes right after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ParseMemo:
    """Each tab's previous parse, reused while the tab and every other input are unchanged.

    The caller keeps one (the daemon: one per process) and passes it to ``parse_inputs``.
    ``parse_tab`` is pure, so a daemon whose tab did not change since the last cycle
    need not parse it again. A grid is compared through its ``marshal`` bytes, which
    tell ``1`` from ``1.0`` and ``True`` (``==`` does not): a checkbox typed over a 1 is
    a change. Only the previous call's tabs are held.
    """

    def __init__(self) -> None:
        self._last: dict[InputKind, tuple[tuple[object, ...], TabResult]] = {}
        self._next: dict[InputKind, tuple[tuple[object, ...], TabResult]] = {}

    def parse(self, kind: InputKind, grid: RawGrid | None, title: str, **kwargs: Any) -> TabResult:
        """``safe_parse(kind, grid, title, **kwargs)``, or the previous result for the same inputs."""
        from sheets.parse import safe_parse  # pandas: imported by a cycle that parses, not by this module

        key = _parse_key(grid, title, kwargs)
        previous = self._last.get(kind)
        if key is not None and previous is not None and previous[0] == key:
            result = previous[1]
        else:
            result = safe_parse(kind, grid, title, **kwargs)
        if key is not None:
            self._next[kind] = (key, result)
        # A copy of the frame: whatever the caller does with it leaves the kept result intact.
        tab = result.tab
        return result if tab is None else dataclasses.replace(
            result, tab=dataclasses.replace(tab, frame=tab.frame.copy()))

    def finish(self) -> None:
        """Keep this call's results (and only these) for the next call."""
        self._last, self._next = self._next, {}


def _parse_key(grid: RawGrid | None, title: str, kwargs: Mapping[str, Any]) -> tuple[object, ...] | None:
    """Everything a tab's parse depends on, comparable; None when the grid holds odd cell types."""
    try:
        cells = marshal.dumps(grid)
    except ValueError:  # a cell marshal cannot write: never reused
        return None
    aliases = kwargs.get("header_aliases") or {}
    return (cells, title, kwargs.get("known_emails"), kwargs.get("reps_title"), kwargs.get("max_problems"),
            tuple(sorted((str(k), repr(v)) for k, v in aliases.items())))


class RowMemo:
    """The previous call's results by their inputs, so that the next call reuses them.

    The caller keeps one per table (the daemon: one per process) and passes it in.

    The rules are pure: a Summary row is a function of the standing, the day and the
    settings (and whether its deadline has passed). A daemon's next cycle therefore
    recomputes only the rows whose rep changed; ``keep`` replaces the stored results
    with the current call's, so nothing older than one call is held.
    """

    def __init__(self, *, remember: bool = True) -> None:
        """``remember=False``: a process with no next call (``run --once``): every result is built,
        and no key is hashed or kept (hashing 2,000 standings' Decimals and datetimes for the first
        time is a measurable share of a fresh process's output tables)."""
        self._last: dict[Hashable, Any] = {}
        self._remember = remember

    def begin(self) -> Reused:
        """A fresh collection of this call's results, looking up the previous call's."""
        return Reused(self._last) if self._remember else _BuildEachTime()

    def keep(self, reused: Reused) -> None:
        """Remember this call's results for the next call."""
        if self._remember:
            self._last = reused.results


class Reused:
    """This call's results, each taken from the previous call when its key is there."""

    def __init__(self, previous: dict[Hashable, Any]) -> None:
        self._previous = previous
        self.results: dict[Hashable, Any] = {}

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The result for ``key``: the previous call's, else ``build()``."""
        value = self._previous.get(key, _MISSING)
        if value is _MISSING:
            value = build()
        self.results[key] = value
        return value


class _BuildEachTime(Reused):
    """Nothing to reuse and nothing to keep: ``get`` builds."""

    def __init__(self) -> None:
        super().__init__({})

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        return build()


_MISSING = object()


@dataclass(frozen=True)
class StoredRows:
    """What this process's last committed cycle stored: a hash per staged row of each input frame,
    with the fingerprint it saved and its context (settings, day, code: ``input_fingerprint``
    of no read)."""

    fingerprint: str
    context: str
    hashes: Mapping[str, np.ndarray]


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (the sheet row number included)."""
    import pandas as pd

    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


_HASH_DTYPE = "<u8"


def pack_hashes(hashes: Mapping[str, np.ndarray]) -> bytes:
    """Each input frame's row hashes as bytes for the database: a JSON header line naming the
    frames and their row counts, then the hashes, little-endian, frame after frame."""
    import json

    import numpy as np

    header = json.dumps([[part, len(values)] for part, values in hashes.items()]).encode()
    return b"".join([header, b"\n", *(np.asarray(v, dtype=_HASH_DTYPE).tobytes() for v in hashes.values())])


def unpack_hashes(blob: bytes) -> dict[str, np.ndarray]:
    """``pack_hashes`` read back (no copy of the hashes)."""
    import json

    import numpy as np

    header, _, body = blob.partition(b"\n")
    out, offset = {}, 0
    for part, count in json.loads(header):
        out[part] = np.frombuffer(body, dtype=_HASH_DTYPE, count=count, offset=offset)
        offset += count * 8
    return out


def rows_to_store(frame: pd.DataFrame, hashes: np.ndarray, stored: np.ndarray | None) -> pd.DataFrame:
    """The rows of ``frame`` whose hash is not among those ``stored`` (all of them without ``stored``)."""
    if stored is None:
        return frame
    import numpy as np

    return frame[~np.isin(hashes, stored)]


@dataclass
class CycleMemo:
    """What a long-running process remembers from one cycle to the next, to skip work whose
    inputs did not change: each tab's parse, each Summary row, the Leaderboard, each rep's
    pace on the Team tab, the History and Charts tabs, the History and Charts inputs."""

    parse: ParseMemo | None = field(default_factory=ParseMemo)
    summary: RowMemo = field(default_factory=RowMemo)
    leaderboard: RowMemo = field(default_factory=RowMemo)
    team: RowMemo = field(default_factory=RowMemo)
    history: RowMemo = field(default_factory=RowMemo)
    charts: RowMemo = field(default_factory=RowMemo)
    manager_history: ManagerHistory | None = None
    stored: StoredRows | None = None
    remember: bool = True
    """False: no next cycle in this process will look (``single_use``)."""

    @classmethod
    def single_use(cls) -> CycleMemo:
        """For a process that runs one cycle (``run --once``): nothing to reuse in memory, so nothing
        is fingerprinted for it (no ``marshal`` of the read grids, no copy of the parsed frames, no
        keys of the output tables' rows) or kept. The stored rows are still hashed: the database
        keeps their hashes for the next process (``pack_hashes``)."""
        return cls(parse=None, remember=False, summary=RowMemo(remember=False),
                   leaderboard=RowMemo(remember=False), team=RowMemo(remember=False),
                   history=RowMemo(remember=False), charts=RowMemo(remember=False))
