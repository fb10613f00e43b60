"""Shared pieces of the fault suite: a clean workbook, canonical database dumps, an
in-memory spreadsheet, and a TCP proxy that plays a database server going down.

Nothing here is a mock of the product: the cycle runs against a real PostgreSQL
and real gspread (through the fake Sheets server) or a fake that implements the
``SpreadsheetBackend`` protocol the cycle depends on.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import json
import os
import select
import socket
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from sheets.outputs import Finish, OutputTable, RawGrid, TabWrite, WriteReport
from tests.sheets_api.server import FakeSheetsServer

SHEET_ID = "fault-sheet"
NOW = "2026-11-03T09:00"

REPS = [
    ["Email", "Name", "Team", "Title", "Active", "Monthly Signup Goal", "Yearly Signup Goal"],
    ["ann@example.com", "Ann Archer", "East", "AE", True, 10, 120],
    ["ben@example.com", "Ben Booth", "West", "AE", True, 12, 144],
    ["cat@example.com", "Cat Cole", "West", "SDR", True, 8, 96],
]
MONTHLY = [
    ["Email", "Year", "Month", "Signup Goal", "Revenue Goal", "Bonus Tier Goal"],
    ["ann@example.com", 2026, 11, 10, 20000, 2],
    ["ben@example.com", 2026, 11, 12, 25000, 3],
    ["cat@example.com", 2026, 11, 8, 9000, 1],
]
YEARLY = [
    ["Email", "Year", "Signup Goal", "Revenue Goal"],
    ["ann@example.com", 2026, 120, 240000],
    ["ben@example.com", 2026, 144, 300000],
]
ACTUALS = [
    ["Email", "Year", "Month", "Signups", "Revenue"],
    ["ann@example.com", 2026, 11, 4, 8000],
    ["ben@example.com", 2026, 11, 6.5, 12500.25],
    ["cat@example.com", 2026, 11, 9, 9100],
]
INPUT_TABS = ("Reps", "Monthly Goals", "Yearly Goals", "Actuals")
CYCLE_TABLES = ("users", "sales_reps", "rep_monthly_goals", "rep_yearly_goals", "app_settings",
                "sheet_output_state")
"""What a sync cycle writes (besides its sheets_sync_log row). ``run --once`` also runs the
jobs, each in its own transaction: the midnight snapshot before the cycle, the rest after."""
OUTPUT_TABS = ("Summary", "Leaderboard", "Sync Errors", "Team", "History", "Charts")


def workbook() -> dict[str, list[list[Any]]]:
    """A deep copy of the clean input tabs (every cell valid: a cycle on it exits 0)."""
    return copy.deepcopy({"Reps": REPS, "Monthly Goals": MONTHLY, "Yearly Goals": YEARLY, "Actuals": ACTUALS})


def edited_workbook() -> dict[str, list[list[Any]]]:
    """The clean workbook after a day of typing: new actuals, a changed goal, a new rep."""
    tabs = workbook()
    tabs["Reps"].append(["dan@example.com", "Dan Drew", "East", "AE", True, 9, 108])
    tabs["Monthly Goals"][1][3] = 11
    tabs["Monthly Goals"].append(["dan@example.com", 2026, 11, 9, 15000, 1])
    tabs["Actuals"][1][3:5] = [7, 14000]
    tabs["Actuals"].append(["dan@example.com", 2026, 11, 2, 3000])
    return tabs


# --- the database --------------------------------------------------------------

def libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq understands it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def query(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one statement, on a short-lived connection."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]  # type: ignore[arg-type]


def execute(url: str, statements: str) -> None:
    """Run SQL that returns no rows (several statements allowed), committed at once."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(statements.encode())


REFUSE_SYNC_LOG = """
    CREATE FUNCTION refuse_sync_log() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.status <> 'failed' THEN RAISE EXCEPTION 'the sync log refuses new rows'; END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_sync_log BEFORE INSERT ON sheets_sync_log
        FOR EACH ROW EXECUTE FUNCTION refuse_sync_log();
"""
"""A fault to inject with ``execute``: every sync log insert but a ``failed`` row's fails, as a
full disk, a broken trigger or a constraint would make the last statement of a cycle fail."""


def sync_log(url: str) -> list[tuple[str, str | None]]:
    """(status, error) of every sheets_sync_log row, oldest first."""
    return [(status, error) for status, error in query(url, "SELECT status, error FROM sheets_sync_log ORDER BY id")]


def goal_tables(url: str) -> list[str]:
    """Every table of the product except the sync log (which records failures by design) and the
    record of what the last cycle saw (transaction ids, the time it was recorded)."""
    rows = query(url, """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
          AND table_name NOT IN ('alembic_version', 'sheets_sync_log', 'data_changes', 'sync_fingerprints')
        ORDER BY table_name
    """)
    return [name for (name,) in rows]


# Columns that differ between two databases holding the same facts: surrogate keys,
# wall-clock stamps and foreign keys (replaced by the rep's / user's email).
_VOLATILE = ["id", "created_at", "updated_at", "sales_rep_id", "user_id", "goal_set_by", "monthly_goal_id",
             "yearly_goal_id", "written_at", "started_at", "finished_at"]


def dump(url: str, tables: Sequence[str] | None = None, *, exact: bool = True) -> dict[str, list[str]]:
    """Every row of ``tables`` (default: all but the sync log) as sorted JSON text.

    ``exact``: the rows as stored, ids and timestamps included (for "nothing
    changed in this database"). Otherwise canonical: surrogate keys and wall-clock
    stamps dropped, reps and users named by email, so two databases that went
    through the same sheets compare equal.
    """
    names = list(tables) if tables is not None else goal_tables(url)
    result: dict[str, list[str]] = {}
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for name in names:
            if exact:
                sql = f"SELECT to_jsonb(t)::text FROM {name} t"
            else:
                drop = ", ".join(f"'{c}'" for c in _VOLATILE)
                sql = f"""
                    SELECT ((to_jsonb(t) - ARRAY[{drop}]) || jsonb_build_object(
                        'rep', (SELECT email FROM sales_reps r WHERE r.id = (to_jsonb(t)->>'sales_rep_id')::int),
                        'set_by', (SELECT email FROM users u WHERE u.id = (to_jsonb(t)->>'goal_set_by')::uuid),
                        'user', (SELECT email FROM users u WHERE u.id = (to_jsonb(t)->>'user_id')::uuid)
                    ))::text FROM {name} t
                """
            result[name] = sorted(row[0] for row in conn.execute(sql).fetchall())  # type: ignore[arg-type]
    return result


def diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Per table, rows only in ``before`` (gone) and only in ``after`` (new); empty when equal."""
    changes: dict[str, dict[str, list[str]]] = {}
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            changes[table] = {"gone": sorted(old - new)[:3], "new": sorted(new - old)[:3]}
    return changes


def monthly(url: str, year: int = 2026, month: int = 11) -> dict[str, dict[str, Any]]:
    """email → that month's goal row (the columns a manager would look at)."""
    rows = query(url, """
        SELECT r.email, g.signup_goal, g.revenue_goal, g.signups_actual, g.revenue_actual
        FROM rep_monthly_goals g JOIN sales_reps r ON r.id = g.sales_rep_id
        WHERE g.goal_year = %s AND g.goal_month = %s
    """, (year, month))
    return {email: {"signup_goal": sg, "revenue_goal": rg, "signups": s, "revenue": r}
            for email, sg, rg, s, r in rows}


class Databases:
    """Clones of one database on the test server (names carry the session's prefix so a
    crashed run's leftovers are dropped by the root conftest). Dropping forces a checkpoint,
    so it happens in the background while the next round runs."""

    def __init__(self, server_url: str, template_url: str) -> None:
        self.server_url = server_url
        self.template = make_url(template_url).database
        self.prefix = f"{self.template}_k"
        self.made: list[str] = []
        self._dropper = ThreadPoolExecutor(max_workers=1)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(libpq(self.server_url), autocommit=True)

    def _drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def clone(self, index: int) -> str:
        """A new copy of the template; its URL."""
        name = f"{self.prefix}{index}"
        self._drop(name)
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                          sql.Identifier(self.template)))
        self.made.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_later(self, url: str) -> None:
        """Drop a clone in the background."""
        name = make_url(url).database
        self.made.remove(name)
        self._dropper.submit(self._drop, name)

    def drop_all(self) -> None:
        """Drop what is left and wait for the background drops."""
        for name in self.made:
            self._dropper.submit(self._drop, name)
        self._dropper.shutdown(wait=True)


# --- spreadsheets --------------------------------------------------------------

class GoogleSheet:
    """The input spreadsheet on the fake Sheets server, and the config that points at it."""

    def __init__(self, server: FakeSheetsServer, spreadsheet_id: str = SHEET_ID) -> None:
        self.server, self.id = server, spreadsheet_id
        server.create_spreadsheet(spreadsheet_id, {})

    def put(self, tabs: dict[str, list[list[Any]]]) -> None:
        """Replace the input tabs' contents (a tab absent from ``tabs`` is left alone)."""
        titles = self.server.tab_titles(self.id)
        for title, grid in tabs.items():
            if title in titles:
                self.server.delete_tab(self.id, title)
            self.server.add_tab(self.id, title, grid)

    def output(self, tab: str) -> list[list[Any]]:
        """An output tab's values as Sheets would return them."""
        return self.server.get_values(self.id, tab)

    def sheets_config(self, **overrides: Any) -> dict[str, Any]:
        """The ``sheets:`` section for this spreadsheet with a small, fast retry budget."""
        config: dict[str, Any] = {
            "backend": "google", "spreadsheet_id": self.id, "api_endpoint": self.server.url,
            "retry": {"timeout_seconds": 1.0, "max_attempts": 3, "max_total_seconds": 4,
                      "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2},
        }
        config.update(overrides)
        return config


class MemoryBackend:
    """A ``SpreadsheetBackend`` held in memory: input grids in, output tables out."""

    def __init__(self, grids: dict[str, RawGrid]) -> None:
        self.grids = grids
        self.written: dict[str, TabWrite] = {}
        self._requests = 0

    def read_tabs(self, tabs: Sequence[str]) -> dict[str, RawGrid | None]:
        """The named grids (None when absent), as one request."""
        self._requests += 1
        return {name: copy.deepcopy(self.grids.get(name)) for name in tabs}

    def cell_budget(self, tables: Sequence[OutputTable] = ()) -> None:
        """No cell limit in memory."""
        return None

    def write_tabs(self, writes: Sequence[TabWrite], *, finish: Finish | None = None) -> WriteReport:
        """Keep what was written."""
        self._requests += 1
        writes = finish() if finish else writes
        for write in writes:
            self.written[write.table.tab] = write
        return WriteReport(value_calls=1, format_calls=0)

    def describe(self) -> str:
        """For logs."""
        return "memory"

    @property
    def request_count(self) -> int:
        """Reads and writes so far."""
        return self._requests

    @property
    def retry_count(self) -> int:
        """Never retried."""
        return 0


# --- a database server that goes away -------------------------------------------

def server_address(url: str) -> tuple[str, Any]:
    """Where the server of ``url`` listens: ("unix", socket path) or ("tcp", (host, port))."""
    parsed = make_url(url)
    host = parsed.host or ""
    query_host = parsed.query.get("host")
    if isinstance(query_host, tuple):
        query_host = query_host[0]
    if not host and query_host:
        host = query_host
    port = parsed.port or 5432
    if host.startswith("/"):
        candidates = sorted(glob.glob(os.path.join(host, f".s.PGSQL.{parsed.port or '*'}")))
        if not candidates:
            raise RuntimeError(f"no PostgreSQL socket in {host}")
        return "unix", candidates[0]
    return "tcp", (host or "127.0.0.1", port)


class DatabaseProxy:
    """A TCP proxy in front of a PostgreSQL server; ``down()`` plays the server dying.

    ``down()`` cuts every open connection at once and refuses new ones (the port
    is closed), as clients see a crashed or stopped server; ``up()`` serves again
    on the same port.
    """

    def __init__(self, target_url: str) -> None:
        self._kind, self._target = server_address(target_url)
        self._database = make_url(target_url).database
        self._user = make_url(target_url).username or "postgres"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        """A URL to the same database through the proxy."""
        return f"postgresql+psycopg://{self._user}@127.0.0.1:{self.port}/{self._database}"

    def up(self) -> None:
        """Accept connections (on the port used before, if any)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Cut every connection and stop listening."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _connect_target(self) -> socket.socket:
        if self._kind == "unix":
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        upstream.connect(self._target)
        return upstream

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:
                client.close()
                return
            try:
                upstream = self._connect_target()
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        raise OSError("closed")
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


def sent_values(server: FakeSheetsServer) -> list[dict[str, Any]]:
    """Bodies of every values.batchUpdate the server answered with 200."""
    return [r.body for r in server.requests if r.kind == "values.batchUpdate" and r.status == 200]


def format_requests(server: FakeSheetsServer) -> list[dict[str, Any]]:
    """Every request inside the spreadsheets.batchUpdate calls the server accepted."""
    return [item for r in server.requests if r.kind == "spreadsheets.batchUpdate" and r.status == 200
            for item in (r.body or {}).get("requests", [])]


def as_json(value: Any) -> str:
    """Stable text of a value, for messages."""
    return json.dumps(value, sort_keys=True, default=str)


def repo_root() -> Path:
    """The repository root."""
    return Path(__file__).resolve().parents[2]

