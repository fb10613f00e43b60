"""The benchmark of issue 7: ``python -m bench`` times cold, warm and 1 %-changed sync cycles.

Modules: ``workbook`` (deterministic input tabs of N reps × M months),
``sheets_server`` (the local fake Sheets API server, faster at large reads),
``database`` (a fresh database per run), ``worker`` (a long-running process that
runs cycles as the daemon does), ``measure`` (the cold/warm/1 % sequences),
``report`` (table and JSON), ``run`` (the command line).
"""
