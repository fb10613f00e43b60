"""A strict fake Google Sheets v4 API for tests: real gspread talks HTTP to it.

- ``server.FakeSheetsServer``: the threaded server on 127.0.0.1 and its test hooks
  (``create_spreadsheet``, ``set_cell``, ``get_values``, ``tab``, ``share`` (Editor or
  Viewer)/``unshare``, ``delete_tab``, ``inject`` faults, ``revoke`` (OAuth errors),
  ``require_auth``, ``requests``/``count`` by kind).
- ``discovery``: Google's discovery document ``sheets.v4.json`` (from the pinned
  ``google-api-python-client``) as the rule book: routes, query parameters, body
  schemas, field masks, partial responses; anything else is a 400.
- ``model``: the in-memory spreadsheets and the API operations (Google's answer shapes
  and limits: grid bounds, 10,000,000 cells, 50,000 characters per cell).
- ``auth_servers``: local metadata server, STS token exchange and IAM Credentials API
  for keyless sign-in.
- ``fixtures``: pytest fixtures (``sheets_server``, ``sheets_service_account``,
  ``google_sheets_settings``, ``fake_time``, ``google_backend``).
"""
