"""Prometheus metrics and ``/healthz`` for the daemon, from one small HTTP server thread.

Imported only when a metrics port is set, so a daemon without one never loads
``prometheus_client``. The daemon's main thread records each turn; the server thread only
reads (the client library's metrics and ``Health`` are thread-safe). Every series carries a
``source`` label (``default`` while a deployment syncs one spreadsheet).
"""

from __future__ import annotations

import logging
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector

from models.errors import MetricsServerError
from models.settings import DEFAULT_SOURCE
from sync.health import SUCCEEDED, Health

if TYPE_CHECKING:
    from sync.turn import TurnResult

log = logging.getLogger("sync.metrics")

CYCLE_STATUSES = ("success", "partial", "failed", "skipped", "dry_run")
CYCLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DaemonMetrics:
    """The daemon's Prometheus metrics, in a registry of their own (plus process and GC metrics)."""

    def __init__(self, sources: Sequence[str] = (DEFAULT_SOURCE,)) -> None:
        self.sources = tuple(sources)
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        GCCollector(registry=registry)
        by_source = ["source"]
        self.cycles = Counter("goals_sync_cycles", "Sync cycles by status (success, partial, failed, "
                              "skipped, dry_run)", [*by_source, "status"], registry=registry)
        self.cycle_seconds = Histogram("goals_sync_cycle_seconds", "Duration of a sync cycle", by_source,
                                       buckets=CYCLE_BUCKETS, registry=registry)
        self.rows_read = Counter("goals_sync_rows_read", "Input rows read from the spreadsheet", by_source,
                                 registry=registry)
        self.rows_stored = Counter("goals_sync_rows_stored", "Rows inserted or changed in the database",
                                   by_source, registry=registry)
        self.problems = Gauge("goals_sync_problems", "Rejected cells, rows or tabs found by the last finished "
                              "cycle (the rows of the Sync Errors tab)", by_source, registry=registry)
        self.requests = Counter("goals_sync_sheets_requests", "Spreadsheet API requests sent (every attempt; "
                                "file reads and writes with the xlsx backend)", by_source, registry=registry)
        self.retries = Counter("goals_sync_sheets_retries", "Spreadsheet API requests repeated after a "
                               "transient failure (429, 5xx, timeout)", by_source, registry=registry)
        self.job_runs = Counter("goals_sync_job_runs", "Scheduled job runs by job and status (success, "
                                "failed, skipped)", [*by_source, "job", "status"], registry=registry)
        self.last_success = Gauge("goals_sync_last_success_timestamp_seconds", "Unix time at which the "
                                  "last successful sync cycle finished", by_source, registry=registry)
        for source in self.sources:  # every series exists from the start, so rate() works at once
            for status in CYCLE_STATUSES:
                self.cycles.labels(source, status)
            for metric in (self.cycle_seconds, self.rows_read, self.rows_stored, self.problems, self.requests,
                           self.retries, self.last_success):
                metric.labels(source)
        self._seen_requests: dict[str, int] = dict.fromkeys(self.sources, 0)
        self._seen_retries: dict[str, int] = dict.fromkeys(self.sources, 0)

    def record(self, turn: TurnResult, *, requests: int, retries: int, source: str = DEFAULT_SOURCE,
               now: Callable[[], float] = time.time) -> None:
        """Count one turn of ``source``; ``requests``/``retries`` are its backend's running totals."""
        cycle = turn.cycle
        self.cycles.labels(source, cycle.status).inc()
        self.cycle_seconds.labels(source).observe(cycle.seconds)
        self.rows_read.labels(source).inc(cycle.rows_read)
        self.rows_stored.labels(source).inc(cycle.rows_upserted)
        if cycle.status in SUCCEEDED:
            # A failed or skipped cycle rewrote no Sync Errors tab: the last count still stands.
            self.problems.labels(source).set(cycle.problem_count)
            self.last_success.labels(source).set(now())
        for job in turn.jobs:
            self.job_runs.labels(source, job.job, job.status).inc()
        self.requests.labels(source).inc(_growth(requests, self._seen_requests.get(source, 0)))
        self.retries.labels(source).inc(_growth(retries, self._seen_retries.get(source, 0)))
        self._seen_requests[source], self._seen_retries[source] = requests, retries


def _growth(total: int, seen: int) -> int:
    """How much a running total grew; a total that went down came from a new backend counting from 0."""
    return total - seen if total >= seen else total


def health_and_metrics_app(metrics: DaemonMetrics, health: Health) -> WsgiApp:
    """``/metrics`` (Prometheus text format) and ``/healthz`` (200 or 503, the reason as text)."""
    metrics_app = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return metrics_app(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            verdict = health.verdict()
            start_response("200 OK" if verdict.healthy else "503 Service Unavailable",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return [verdict.reason.encode() + b"\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: try /metrics or /healthz\n"]

    return app


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never holds up the daemon's exit


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class MetricsServer:
    """The HTTP server thread; ``close()`` stops it."""

    def __init__(self, app: WsgiApp, host: str, port: int) -> None:
        try:
            self._server = make_server(host, port, app, server_class=_ThreadingServer,
                                       handler_class=_QuietHandler)
        except OSError as error:
            raise MetricsServerError(
                f"cannot serve metrics on {host}:{port}: {error.strerror or error}; choose another port "
                "(metrics.port or --metrics-port) or stop what is using it"
            ) from None
        self.address = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
