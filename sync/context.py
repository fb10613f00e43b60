"""What every command needs: settings, the clock, and (lazily) the store and the spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from models.settings import Settings
from sync.clock import Clock, parse_now
from sync.config import load_settings
from sync.logs import configure_logging

if TYPE_CHECKING:
    from models.store import Store
    from sheets.backend import SpreadsheetBackend
    from sync.cycle import CycleMemo


@dataclass
class Context:
    """Settings and clock for one command; the store and backend are opened on first use."""

    settings: Settings
    clock: Clock
    config_path: Path
    _store: Store | None = field(default=None, repr=False)
    _backend: SpreadsheetBackend | None = field(default=None, repr=False)
    _cycle_memo: CycleMemo | None = field(default=None, repr=False)

    @classmethod
    def load(cls, config_path: Path, now: str | None = None, *, missing_ok: bool = False) -> Context:
        """Load and validate the config, set up logging, build the clock from ``--now``.

        ``missing_ok``: a config file that does not exist means the defaults (the demo).
        """
        settings = Settings() if missing_ok and not config_path.exists() else load_settings(config_path)
        configure_logging(settings)
        start = parse_now(now, settings.tz) if now else None
        return cls(settings=settings, clock=Clock.create(settings.tz, start), config_path=config_path)

    def store(self) -> Store:
        """The database, connected and migrated on first use."""
        if self._store is None:
            from models.store import Store

            self._store = Store.open(self.settings)
        return self._store

    def backend(self) -> SpreadsheetBackend:
        """The spreadsheet backend, created on first use."""
        if self._backend is None:
            from sheets.factory import open_backend

            self._backend = open_backend(self.settings.sheets)
        return self._backend

    def cycle_memo(self) -> CycleMemo:
        """What this process's cycles remember from one to the next (the daemon reuses it)."""
        if self._cycle_memo is None:
            from sync.cycle import CycleMemo

            self._cycle_memo = CycleMemo()
        return self._cycle_memo

    def sheets_requests(self) -> tuple[int, int]:
        """Spreadsheet requests sent and retried so far (0, 0 before the backend exists)."""
        if self._backend is None:
            return 0, 0
        return self._backend.request_count, self._backend.retry_count

    def close(self) -> None:
        """Release database connections."""
        if self._store is not None:
            self._store.dispose()
