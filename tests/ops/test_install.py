"""Installed as a tool: the wheel builds, installs into a fresh virtual environment, and its
``goals-sync`` command answers ``--help`` and runs the demo from an empty directory.

The wheel is built by the project's build backend (setuptools, as ``pip wheel`` and ``python -m
build`` call it) and installed by pip. The fresh environment gets its third-party libraries from
the environment running the tests (a ``.pth`` file) so the test costs about a second, not the
minute a download-and-install of pandas, PostgreSQL and friends takes; a test checks that every
dependency the wheel declares is installed at a version it allows (what pip's resolver would
check), and ``test_dependencies.py`` that each import is declared. Set
``GOALS_TEST_ISOLATED_INSTALL=1`` to let pip build the wheel, then resolve and install every
dependency from the package index into the new environment instead (about a minute).
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sync", "sheets", "models", "jobs")
ISOLATED = os.environ.get("GOALS_TEST_ISOLATED_INSTALL") == "1"


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment with the project's wheel installed."""

    venv: Path
    wheel: Path

    @property
    def script(self) -> Path:
        return self.venv / "bin" / "goals-sync"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def _env() -> dict[str, str]:
    """The environment without anything that would let the checkout leak into the new one."""
    return {k: v for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "GOALS_DATABASE_URL", "VIRTUAL_ENV", "PYTHONHOME"}}


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _source_copy(target: Path) -> Path:
    """What a checkout ships to the builder (so the build leaves nothing in the working tree)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a copy of the sources and install it into a new virtual environment."""
    base = tmp_path_factory.mktemp("install")
    source = _source_copy(base / "src")
    if ISOLATED:
        built = _run(sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps",
                     "--wheel-dir", base / "dist", source, cwd=base)
    else:
        # The build backend (setuptools, wheel: requirements.txt) from the test environment, called
        # as pip calls it, so the build never downloads it (tests talk to 127.0.0.1 only).
        built = _run(sys.executable, "-c", "import sys; from setuptools import build_meta; "
                     "build_meta.build_wheel(sys.argv[1])", base / "dist", cwd=source)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((base / "dist").glob("goals_sync-*.whl"))

    venv = base / "venv"
    made = _run(sys.executable, "-m", "venv", *([] if ISOLATED else ["--without-pip"]), venv, cwd=base)
    assert made.returncode == 0, made.stderr
    if ISOLATED:
        install = _run(venv / "bin" / "python", "-m", "pip", "install", wheel, cwd=base, timeout=900)
    else:
        # The test environment's libraries (pip among them) become visible to the new one.
        site_dir = next((venv / "lib").glob("python3*/site-packages"))
        (site_dir / "_test_libraries.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
        # Dependencies: test_every_declared_dependency_is_installed_at_an_allowed_version.
        install = _run(venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--no-index",
                       "--no-deps", wheel, cwd=base)
    assert install.returncode == 0, install.stdout + install.stderr
    return Installed(venv=venv, wheel=wheel)


def test_the_wheel_holds_the_packages_and_the_migrations(installed: Installed) -> None:
    import zipfile

    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names
    assert "models/migrations/env.py" in names
    assert "models/migrations/script.py.mako" in names
    assert any(name.startswith("models/migrations/versions/0001_") for name in names)
    assert "models/rules/pace.py" in names
    assert not any(name.startswith("tests/") for name in names)


def test_every_declared_dependency_is_installed_at_an_allowed_version(installed: Installed) -> None:
    import zipfile
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    with zipfile.ZipFile(installed.wheel) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        lines = wheel.read(metadata).decode().splitlines()
    declared = [Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")]
    assert any(r.name == "gspread" for r in declared)
    for requirement in declared:
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            installed_version = version(requirement.name)
        except PackageNotFoundError:
            pytest.fail(f"the wheel needs {requirement}, which is not installed")
        assert requirement.specifier.contains(installed_version, prereleases=True), \
            f"the wheel needs {requirement}; {installed_version} is installed"


def test_goals_sync_help_lists_the_commands(installed: Installed, tmp_path: Path) -> None:
    result = _run(installed.script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: goals-sync")
    for command in ("run", "demo", "check", "status", "jobs", "db"):
        assert f"    {command}" in result.stdout
    # The command runs the installed package, not a checkout that happens to be nearby.
    where = _run(installed.python, "-c", "import sync, models.migrate as m; print(sync.__file__, m.MIGRATIONS_DIR)",
                 cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert all(Path(path).is_relative_to(installed.venv) for path in where.stdout.split())


@pytest.fixture
def empty_dir(tmp_path: Path) -> Iterator[Path]:
    """An empty working directory; the embedded PostgreSQL the demo starts there is stopped after."""
    work = tmp_path / "work"
    work.mkdir()
    yield work
    _stop_postgres(work / "var" / "pgdata")


def _stop_postgres(data_dir: Path) -> None:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.db  # the demo starts the embedded server under ./var
def test_goals_sync_demo_runs_from_an_empty_directory(installed: Installed, empty_dir: Path) -> None:
    result = _run(installed.script, "demo", "--now", "2026-11-17T10:00", cwd=empty_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Summary for November 2026 (day 17)" in result.stdout
    assert "Emily Nakamura" in result.stdout
    assert "Sync cycle: success" in result.stdout
    assert (empty_dir / "var" / "demo-goals.xlsx").is_file()
    assert (empty_dir / "var" / "pgdata" / "PG_VERSION").is_file()
