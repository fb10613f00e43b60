"""The declared dependencies are the ones the code imports, and requirements.txt pins each of them
at a version its range in pyproject.toml admits (the pinned set is the one CI tests)."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"sync", "sheets", "models", "jobs"}
# Imported only to silence its warning, inside ``except ImportError`` (pgserver brings it along).
OPTIONAL_IMPORTS = {"platformdirs"}


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def _pinned_runtime() -> dict[str, str]:
    """``name -> version`` of the ``# Runtime`` block of requirements.txt."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("# Tests"):
            break
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            (version,) = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pins[canonicalize_name(requirement.name)] = version
    return pins


def _imported_top_levels() -> dict[str, str]:
    """Every absolute import's top-level module in the four packages -> one file importing it."""
    found: dict[str, str] = {}
    for package in sorted(FIRST_PARTY):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_requirements_pin_exactly_the_declared_dependencies_within_their_ranges() -> None:
    declared, pinned = _declared(), _pinned_runtime()
    assert set(declared) == set(pinned)
    for name, requirement in declared.items():
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} is outside {requirement}"


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = set(_declared())
    providers = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module in FIRST_PARTY or module in sys.stdlib_module_names or module in OPTIONAL_IMPORTS \
                or module == "__future__":
            continue
        distributions = {canonicalize_name(name) for name in providers.get(module, [])}
        if not distributions & declared:
            missing.append(f"{module} (imported in {where}; installed by {sorted(distributions) or 'nothing'})")
    assert not missing, "imports not declared in pyproject.toml dependencies: " + ", ".join(missing)
