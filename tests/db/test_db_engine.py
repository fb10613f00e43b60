"""Choosing and reaching the database; the app_settings row written from config."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from models.engine import ENV_URL, database_url, make_engine, normalise_url, ping, safe_url
from models.errors import ConfigError, StoreError
from models.migrate import write_app_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db.example.com:5432/goals",
        "postgresql://u:p@db.example.com:5432/goals",
        "postgresql+psycopg2://u:p@db.example.com:5432/goals",
        " postgresql+psycopg://u:p@db.example.com:5432/goals ",
    ],
)
def test_urls_are_normalised_to_psycopg3(url):
    assert normalise_url(url) == "postgresql+psycopg://u:p@db.example.com:5432/goals"


@pytest.mark.parametrize("url", ["sqlite:///goals.db", "mysql://u:p@h/db", "db.example.com/goals"])
def test_other_databases_are_refused(url):
    with pytest.raises(ConfigError):
        normalise_url(url)


def test_environment_url_wins_over_config(monkeypatch, settings_factory):
    settings = settings_factory(database={"url": "postgresql://from:config@h/cfg"})
    assert database_url(settings) == "postgresql+psycopg://from:config@h/cfg"
    monkeypatch.setenv(ENV_URL, "postgres://from:env@h/env")
    assert database_url(settings) == "postgresql+psycopg://from:env@h/env"


def test_an_unreachable_database_is_a_store_error_without_the_password():
    engine = make_engine("postgresql://goals:hunter2-secret@127.0.0.1:1/goals")
    with pytest.raises(StoreError) as raised:
        ping(engine)
    message = str(raised.value)
    assert "hunter2-secret" not in message
    assert "127.0.0.1:1/goals" in message
    assert "PostgreSQL is running" in message
    assert "hunter2" not in safe_url("postgresql://goals:hunter2@h/db")


def test_ping_a_live_database(engine):
    ping(engine)


EXTERNAL = bool(os.environ.get("GOALS_TEST_DATABASE_URL", "").strip())


@pytest.mark.skipif(EXTERNAL, reason="the tests run on an external server")
def test_without_a_url_the_embedded_server_serves_a_goals_database(settings_factory):
    settings = settings_factory(database={"url": "", "data_dir": str(ROOT / "var" / "test-pgdata")})
    url = database_url(settings)
    assert url.startswith("postgresql+psycopg://")
    assert "/goals?" in url
    engine = make_engine(url)
    try:
        ping(engine)
    finally:
        engine.dispose()


@pytest.mark.db  # starts embedded servers of its own
def test_two_processes_starting_the_embedded_server_share_it(tmp_path):
    data_dir = tmp_path / "pgdata"
    script = (
        "import sys; from pathlib import Path; from models.embedded import embedded_url; "
        "from models.engine import make_engine, ping; "
        "url = embedded_url(Path(sys.argv[1])); ping(make_engine(url)); print(url)"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-W", "error::UserWarning", "-c", script, str(data_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        outputs = [process.communicate(timeout=120) for process in processes]
        assert [process.returncode for process in processes] == [0, 0], outputs
        urls = {out.strip() for out, _err in outputs}
        assert len(urls) == 1  # one server, one goals database
        assert all(err == "" for _out, err in outputs)  # no RuntimeDirWarning noise
    finally:
        from models.embedded import _pgserver

        _pgserver().get_server(data_dir, cleanup_mode="stop").cleanup()


def test_write_app_settings_copies_config_and_skips_unchanged_writes(db, settings_factory):
    settings = settings_factory(
        timezone="America/New_York",
        goals={
            "deadline_day": 5,
            "pace": {
                "calendar": "business",
                "holidays": ["2026-12-25", "2026-11-26", "2026-11-26"],
                "min_elapsed_percent": 12.5,
                "ahead": "1.2",
                "on_track": "1.0",
                "behind": "0.7",
            },
        },
    )
    write_app_settings(db, settings)
    stored = dict(db.execute(text("SELECT * FROM app_settings WHERE id = 1")).mappings().one())
    assert stored["timezone"] == "America/New_York"
    assert (stored["deadline_day"], stored["pace_calendar"]) == (5, "business")
    assert stored["holidays"] == [date(2026, 11, 26), date(2026, 12, 25)]
    assert [str(stored[k]) for k in ("min_elapsed_percent", "pace_ahead", "pace_on_track", "pace_behind")] == [
        "12.5",
        "1.2",
        "1.0",
        "0.7",
    ]
    assert db.execute(text("SELECT goals_tz()")).scalar_one() == "America/New_York"

    location = db.execute(text("SELECT ctid FROM app_settings")).scalar_one()
    write_app_settings(db, settings)  # unchanged: no new row version is written
    assert db.execute(text("SELECT ctid FROM app_settings")).scalar_one() == location


def test_the_product_never_jit_compiles_its_queries(test_database_url):
    # PostgreSQL's JIT spent 2.6 s compiling the 2,000-rep standings read (a 0.2 s query) on every
    # cycle; every connection the product opens, in any source schema, has it off.
    for schema in (None, "goals_src_other"):
        engine = make_engine(test_database_url, schema)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SHOW jit")).scalar() == "off"
        finally:
            engine.dispose()
