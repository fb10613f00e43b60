"""Spreadsheet I/O: the only package that imports gspread or openpyxl.

``backend.SpreadsheetBackend`` is the interface the sync cycle uses; ``google``
and ``xlsx`` implement it; ``parse`` turns raw grids into typed DataFrames and
problems without any I/O. Nothing here connects at import time.
"""
