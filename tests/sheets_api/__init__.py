"""A fake Google Sheets v4 API for tests: real gspread talks HTTP to it.

- ``server.FakeSheetsServer``: the threaded server on 127.0.0.1 and its test hooks
  (``create_spreadsheet``, ``set_cell``, ``get_values``, ``tab``, ``share``/``unshare``,
  ``delete_tab``, ``inject`` faults, ``requests``/``count`` by kind).
- ``model``: the in-memory spreadsheets and the API operations (Google's answer shapes).
- ``fixtures``: pytest fixtures (``sheets_server``, ``sheets_service_account``,
  ``google_sheets_settings``, ``fake_time``, ``google_backend``).
"""
