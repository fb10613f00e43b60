"""What every command needs: settings, the clock, and (lazily) the store and the spreadsheet."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import ConfigError, GoalsSyncError
from models.settings import DEFAULT_SOURCE, Settings, schema_for
from sync.clock import Clock, parse_now, parse_origin
from sync.config import load_settings
from sync.logs import configure_logging

if TYPE_CHECKING:
    from models.shared import RequestQuota, SharedStore
    from models.store import Store
    from sheets.backend import SpreadsheetBackend
    from sync.reuse import CycleMemo


log = logging.getLogger("sync")


@dataclass
class Context:
    """One source's settings and clock for a command; its store and backend are opened on first use.

    ``settings`` are the settings in effect for ``source`` (its own sheets, time zone, goals and
    poll interval laid over the global ones).
    """

    settings: Settings
    clock: Clock
    config_path: Path
    source: str = DEFAULT_SOURCE
    stop: Callable[[], bool] | None = field(default=None, repr=False)
    """Set by ``run`` and ``worker``: true once SIGTERM/SIGINT asked the process to stop."""
    _store: Store | None = field(default=None, repr=False)
    _backend: SpreadsheetBackend | None = field(default=None, repr=False)
    _cycle_memo: CycleMemo | None = field(default=None, repr=False)
    _quota: RequestQuota | None = field(default=None, repr=False)
    _shared: SharedStore | None = field(default=None, repr=False)
    """The shared schema's store, one per process (set by ``Deployment.load`` for every source)."""

    @classmethod
    def load(cls, config_path: Path, now: str | None = None, *, missing_ok: bool = False) -> Context:
        """The first configured source's context (the only one without ``sources:``)."""
        return Deployment.load(config_path, now, missing_ok=missing_ok).contexts[0]

    def store(self) -> Store:
        """This source's database schema, connected and migrated on first use."""
        if self._store is None:
            from models.store import Store

            self._store = Store.open(self.settings, source=self.source)
        return self._store

    def backend(self) -> SpreadsheetBackend:
        """The spreadsheet backend, created on first use."""
        if self._backend is None:
            from sheets.factory import open_backend

            self._backend = open_backend(self.settings.sheets, gate=self.quota(), stop=self.stop)
        return self._backend

    def quota(self) -> RequestQuota | None:
        """The Sheets quota shared through the database (Google backend only), made on first use."""
        if self._quota is None and self.settings.sheets.backend == "google":
            from models.shared import RequestQuota, SharedStore

            if self._shared is None:
                self._shared = SharedStore.open(self.settings)
            self._quota = RequestQuota(self._shared, self.settings.sheets.requests_per_minute,
                                       stop=lambda: self.stop is not None and self.stop())
        return self._quota

    def cycle_memo(self) -> CycleMemo:
        """What this process's cycles remember from one to the next (the daemon reuses it)."""
        if self._cycle_memo is None:
            from sync.reuse import CycleMemo

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
        if self._quota is not None:
            self._quota.shared.dispose()


@dataclass
class Deployment:
    """The whole config and the contexts of the sources a command works on (``--source``)."""

    settings: Settings
    contexts: list[Context]

    @classmethod
    def load(cls, config_path: Path, now: str | None = None, names: Sequence[str] | None = None, *,
             missing_ok: bool = False, clock_rate: float = 1.0, clock_origin: str | None = None) -> Deployment:
        """Load and validate the config, set up logging, build each source's clock from ``--now``
        (a time without an offset is in the global ``timezone``) and pick the sources named.

        ``missing_ok``: a config file that does not exist means the defaults (the demo).
        ``clock_rate``, ``clock_origin``: ``--clock-rate`` and ``--clock-origin`` (see ``sync.clock``).
        """
        settings = Settings() if missing_ok and not config_path.exists() else load_settings(config_path)
        configure_logging(settings)
        start = parse_now(now, settings.tz) if now else None
        origin = parse_origin(clock_origin) if clock_origin else None
        sources = settings.source_list()
        known = [source.name for source in sources]
        unknown = [name for name in names or () if name not in known]
        if unknown:
            raise ConfigError(f"--source {', '.join(unknown)}: no such source in {config_path} "
                              f"(configured: {', '.join(known)})")
        chosen = [source for source in sources if not names or source.name in names]
        shared = None
        if any(source.settings.sheets.backend == "google" for source in chosen):
            from models.shared import SharedStore

            shared = SharedStore.lazy(settings)  # one pool for every source's quota checks
        contexts = [Context(settings=source.settings,
                            clock=Clock.create(source.settings.tz, start, clock_rate, origin),
                            config_path=config_path, source=source.name, _shared=shared) for source in chosen]
        return cls(settings=settings, contexts=contexts)

    @property
    def many(self) -> bool:
        """More than one source selected (output is then labelled by source)."""
        return len(self.contexts) > 1

    def refresh_rollup(self) -> None:
        """Rebuild the company roll-up view if the set of migrated sources changed; a database
        that cannot be reached is logged, not raised (the sources' own work reports it)."""
        from models.engine import database_url, make_engine
        from models.schemas import refresh_rollup

        try:
            engine = make_engine(database_url(self.settings))
            try:
                refresh_rollup(engine, [(s.name, schema_for(s.name)) for s in self.settings.source_list()])
            finally:
                engine.dispose()
        except GoalsSyncError as error:
            log.warning("company roll-up view not refreshed: %s", error)

    def close(self) -> None:
        """Release every source's database connections."""
        for context in self.contexts:
            context.close()
