"""Fixtures of the fake Sheets API server for the sheets tests.

Until the root conftest registers ``pytest_plugins = ["tests.sheets_api.fixtures"]``,
they are imported here; once it does, this import is skipped.
"""

import sys

if "tests.sheets_api.fixtures" not in sys.modules:
    from tests.sheets_api.fixtures import (  # noqa: F401
        _fake_sheets_server,
        _rsa_private_key_pem,
        fake_time,
        google_backend,
        google_sheets_settings,
        sheets_server,
        sheets_service_account,
    )
