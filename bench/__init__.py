"""The benchmark of issue 7: ``python -m bench`` times cold, warm and 1 %-changed sync cycles.

Modules: ``workbook`` (deterministic input tabs of N reps × M months, pure),
``sheets_server`` (the tests' fake Sheets API server, made fit for 100,000-row
reads), ``sheet`` (one sequence's spreadsheet: on that server or in an xlsx
file), ``database`` (a fresh database per sequence), ``processes`` (config and
the child processes: ``worker`` runs cycles as the daemon does, ``launcher``
starts ``run --once`` commands and measures them), ``measure`` (the sequences),
``report`` (table, JSON, targets), ``run`` (the command line).
"""
