"""The operations tests reuse the fault suite's spreadsheet fixtures and the daemon tests' config."""

from tests.faults.conftest import cli_config, google_sheet  # noqa: F401 (fixtures)
from tests.jobs.test_jobs_daemon import daemon_config  # noqa: F401 (fixture)
