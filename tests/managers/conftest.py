"""Fixtures for the managers' tabs, digest and alerts (the job fixtures, shared)."""

from __future__ import annotations

from tests.jobs.conftest import jobs_settings, store, workbook_path

__all__ = ["jobs_settings", "store", "workbook_path"]
