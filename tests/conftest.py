"""Shared test fixtures: a real PostgreSQL, migrated once per session.

Where the database comes from: ``GOALS_TEST_DATABASE_URL`` if set (a server on
which that role may CREATE DATABASE; e.g.
``postgresql://postgres@127.0.0.1:5432/test``), else the embedded server under
``var/test-pgdata`` (started on first use and left running, so later runs reuse
it). Each session builds a template database with the migrations applied and
clones it; databases are named ``goals_t<pid>_*`` so concurrent sessions (pytest-xdist's
workers among them) do not meet, and leftovers of dead sessions are dropped (embedded server
only).

Fixtures:

``database_server_url`` (session) -> str
    Admin URL (``postgresql+psycopg://``) of a maintenance database on the test server.
``test_database_url`` (session) -> str
    URL of the session's migrated database (cloned from the template).
``engine`` (session) -> sqlalchemy.Engine
    ``models.engine.make_engine(test_database_url)``.
``db_connection`` (function) -> sqlalchemy.Connection
    A connection inside an outer transaction that is rolled back after the test.
    Nothing a test does through it is ever committed. Wrap a statement that is
    expected to fail in ``db_connection.begin_nested()`` to keep the transaction usable.
``db`` (function) -> sqlalchemy.orm.Session
    An ORM session on ``db_connection`` with ``join_transaction_mode="create_savepoint"``
    (warehouse-style): ``db.commit()`` only releases a savepoint and ``db.rollback()``
    only rolls back to it; everything disappears after the test.
``fresh_db_url`` (function) -> str
    A brand-new migrated database cloned from the template, for tests that commit,
    open several connections or run subprocesses (CLI, two cycles at once). Dropped
    (``WITH (FORCE)``) after the test.
``settings_factory`` (function) -> Callable[..., models.settings.Settings]
    ``settings_factory(**overrides)`` builds a ``Settings``: nested dicts are merged
    into the defaults, e.g. ``settings_factory(timezone="America/New_York",
    goals={"pace": {"calendar": "business"}}, database={"url": fresh_db_url})``.
    Defaults: ``database.url`` = ``test_database_url`` (fine for code that does not
    commit; pass ``fresh_db_url`` otherwise) and ``sheets.xlsx_path`` in ``tmp_path``.

An autouse fixture removes ``GOALS_DATABASE_URL`` from the environment so a
developer's own setting never redirects tests.

Marker ``db``: set on every test that reaches PostgreSQL, by the fixtures it uses (all of the
above lead to ``database_server_url``) or by hand (``@pytest.mark.db``) on a test that starts
the embedded server itself (the ``demo`` command, ``models.embedded``). ``pytest -m "not db"``
runs the rest, which never starts or connects to a database.

Marker ``process``: set by hand (``@pytest.mark.process``) on a test that starts another process
(the command line, a wheel build, a writer it kills), or by a fixture that does (``installed``).
A test marked neither ``db`` nor ``process`` that starts one fails, naming the marker, so
``pytest -m "not db and not process"`` -- the pure suite -- runs in this process alone.

How many examples the property tests draw: ``tests/profiles.py`` (``GOALS_TEST_PROFILE``).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# google-auth must never probe Google's metadata address (169.254.169.254) or find the
# developer's own credentials: it reads these once, at import, so they are set before any
# import of google.auth. Tests that need a metadata server start their own on 127.0.0.1.
os.environ["NO_GCE_CHECK"] = "true"
os.environ["GCE_METADATA_HOST"] = os.environ["GCE_METADATA_IP"] = "127.0.0.1:1"  # a closed port
os.environ["CLOUDSDK_CONFIG"] = tempfile.mkdtemp(prefix="goals-test-gcloud-")  # no gcloud ADC file
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)

# Plain `pytest` (not only `python -m pytest`) must find the project packages.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import Connection, Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from models.engine import ENV_URL, make_engine, normalise_url, url_for_database  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.settings import Settings  # noqa: E402
from tests import profiles  # noqa: E402

pytest_plugins = ["tests.sheets_api.fixtures", "tests.jobs.mailbox"]

TEST_URL_ENV = "GOALS_TEST_DATABASE_URL"
DATABASE_FIXTURE = "database_server_url"
"""Every database fixture depends on this one: a test that (transitively) uses it needs PostgreSQL."""
PROCESS_FIXTURES = frozenset({"installed"})
"""Fixtures that start processes: a test using one is marked ``process``."""
TEST_PGDATA = ROOT / "var" / "test-pgdata"
_PREFIX = f"goals_t{os.getpid()}_"
_counter = itertools.count(1)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _admin(server_url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(_libpq(server_url), autocommit=True, connect_timeout=10)


def _create_database(server_url: str, name: str, template: str | None = None) -> None:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    with _admin(server_url) as conn:
        conn.execute(statement)


def _drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_databases(server_url: str) -> None:
    """Drop ``goals_t<pid>_*`` databases whose session process has died (crashed or killed runs)."""
    with _admin(server_url) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'goals_t%'")]
    for name in names:
        pid_text = name.removeprefix("goals_t").split("_", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            _drop_database(server_url, name)


profiles.load()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``db`` every test whose fixtures (directly or through others) reach the test server,
    ``process`` every test whose fixtures start processes."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if DATABASE_FIXTURE in fixtures:
            item.add_marker(pytest.mark.db)
        if PROCESS_FIXTURES.intersection(fixtures):
            item.add_marker(pytest.mark.process)


@pytest.fixture(autouse=True)
def _no_process_unless_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    """In a test marked neither ``db`` nor ``process``, starting a process fails the test: the
    pure suite's promise is kept by a check, not by care."""
    if request.node.get_closest_marker("db") or request.node.get_closest_marker("process"):
        yield
        return

    def refuse(*args: object, **kwargs: object) -> None:
        # pytest.fail raises a BaseException: code under test that catches errors does not hide it
        pytest.fail(f"{request.node.nodeid} starts a process: mark it @pytest.mark.process")

    with pytest.MonkeyPatch.context() as patch:  # its own: a test's monkeypatch.undo() keeps this
        patch.setattr(subprocess.Popen, "_execute_child", refuse)
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            patch.setattr(os, name, refuse)
        yield


@pytest.fixture(autouse=True)
def _no_user_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)


@pytest.fixture(scope="session")
def database_server_url() -> str:
    """Admin URL of the test server (GOALS_TEST_DATABASE_URL, else the embedded one)."""
    configured = os.environ.get(TEST_URL_ENV, "").strip()
    if configured:
        return normalise_url(configured)
    from models.embedded import start_server

    url = start_server(TEST_PGDATA)
    _drop_stale_databases(url)
    return url


@pytest.fixture(scope="session")
def _template_database(database_server_url: str) -> Iterator[str]:
    name = f"{_PREFIX}template"
    _drop_database(database_server_url, name)
    _create_database(database_server_url, name)
    engine = make_engine(url_for_database(database_server_url, name))
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the template without connections
    yield name
    _drop_database(database_server_url, name)


def _clone(server_url: str, template: str, name: str) -> str:
    _create_database(server_url, name, template=template)
    return url_for_database(server_url, name)


@pytest.fixture(scope="session")
def test_database_url(database_server_url: str, _template_database: str) -> Iterator[str]:
    """The session's migrated database."""
    name = f"{_PREFIX}main"
    url = _clone(database_server_url, _template_database, name)
    yield url
    _drop_database(database_server_url, name)


@pytest.fixture(scope="session")
def engine(test_database_url: str) -> Iterator[Engine]:
    """A pooled engine on the session's migrated database."""
    engine = make_engine(test_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in an outer transaction, rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def db(db_connection: Connection) -> Iterator[Session]:
    """An ORM session whose commits are savepoints inside the rolled-back outer transaction."""
    session = Session(bind=db_connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def fresh_db_url(database_server_url: str, _template_database: str) -> Iterator[str]:
    """A new migrated database for this test alone (commits allowed); dropped afterwards."""
    name = f"{_PREFIX}{next(_counter)}"
    url = _clone(database_server_url, _template_database, name)
    yield url
    _drop_database(database_server_url, name)


@pytest.fixture
def empty_db_url(database_server_url: str) -> Iterator[str]:
    """A new database without any schema (what a first run migrates); dropped afterwards."""
    name = f"{_PREFIX}{next(_counter)}"
    _create_database(database_server_url, name)
    yield url_for_database(database_server_url, name)
    _drop_database(database_server_url, name)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture
def settings_factory(test_database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Build ``Settings`` from defaults merged with keyword overrides (nested dicts merge)."""

    def build(**overrides: Any) -> Settings:
        defaults: dict[str, Any] = {
            "database": {"url": test_database_url},
            "sheets": {"xlsx_path": str(tmp_path / "goals.xlsx")},
        }
        return Settings.model_validate(_merge(defaults, overrides))

    return build


def write_config_file(directory: Path, database_url: str, **sections: object) -> Path:
    """A config file ``config.yaml`` in ``directory`` (workbook there too); each section is merged
    into the defaults (what ``write_config`` writes, for fixtures wider than one test)."""
    config: dict[str, object] = {
        "timezone": "UTC",
        "database": {"url": database_url},
        "sheets": {"backend": "xlsx", "xlsx_path": str(directory / "goals.xlsx")},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}  # type: ignore[dict-item]
        else:
            config[key] = value
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """``write_config(database_url, **sections)`` → a config file in tmp_path (workbook in tmp_path
    too); each section is merged into the defaults."""

    def write(database_url: str, **sections: object) -> Path:
        return write_config_file(tmp_path, database_url, **sections)

    return write
