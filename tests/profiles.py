"""How hard the randomised and stress tests try: the ``dev`` profile (the default) or ``ci``.

``GOALS_TEST_PROFILE=ci`` (``.ci/run`` sets it) runs every property test with its full number of
examples (hypothesis's 100, or the number the test names through ``scaled``) and every stress
test at its full size. The default, ``dev``, runs a tenth of each (at least 10), so the pure suite
takes seconds while a rule still meets random inputs on every run; a failing example is kept in
``.hypothesis/`` and tried first on the next run, whichever the profile.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

ENV = "GOALS_TEST_PROFILE"
PROFILES = ("dev", "ci")
PROFILE = os.environ.get(ENV, "").strip() or "dev"
if PROFILE not in PROFILES:
    raise RuntimeError(f"{ENV}={PROFILE!r}: expected one of {', '.join(PROFILES)}")
DEV_SHARE = 10
"""``dev`` runs 1/DEV_SHARE of each count."""
FLOOR = 10


def _dev_share(full: int) -> int:
    return min(full, max(FLOOR, full // DEV_SHARE))


def scaled(full: int) -> int:
    """``full`` under the ``ci`` profile; a tenth of it (at least 10, at most ``full``) under ``dev``."""
    return full if PROFILE == "ci" else _dev_share(full)


def load() -> None:
    """Register both profiles with hypothesis and load the one ``GOALS_TEST_PROFILE`` names."""
    settings.register_profile("ci", max_examples=100)  # hypothesis's own default
    settings.register_profile("dev", max_examples=_dev_share(100))
    settings.load_profile(PROFILE)


def ci_only(*values: object) -> object:
    """A ``pytest.param`` that runs under the ``ci`` profile only (a stress case the ``dev`` suite
    leaves to CI, where it always runs); shown as skipped under ``dev``."""
    return pytest.param(*values, marks=pytest.mark.skipif(
        PROFILE != "ci", reason=f"a stress case run by {ENV}=ci (.ci/run) only"))
