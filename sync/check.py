"""``python -m sync check``: config, database, spreadsheet, tabs and headers, in plain language.

Each line is ``OK`` or ``FIX`` with what to do. Nothing is written anywhere
(the database is migrated only if it is behind, as on every start).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from models.errors import ExitCode, GoalsSyncError
from sync.commands import say
from sync.context import Context

_Line = tuple[bool | None, str]
"""(True: OK, False: FIX, None: WARN, a warning that does not fail the check; the text)."""


def _config_lines(context: Context) -> list[_Line]:
    settings = context.settings
    sheets = settings.sheets
    where = sheets.xlsx_path if sheets.backend == "xlsx" else f"spreadsheet {sheets.spreadsheet_id}"
    lines: list[_Line] = [(True, f"config {context.config_path}: valid (time zone {settings.timezone}, "
                                 f"backend {sheets.backend}: {where})")]
    if not (settings.notifications.email_url.get_secret_value() or settings.notifications.all_team_urls()):
        lines.append((True, "notifications: none configured (reminders and achievements are recorded, not sent)"))
    return lines


def _database_lines(context: Context) -> list[_Line]:
    from models.engine import safe_url

    store = context.store()
    with store.transaction(context.clock.now(), commit=False) as tx:
        version, reps = tx.database_summary()
    return [(True, f"database {safe_url(store.engine.url)}: reachable (PostgreSQL {version}), "
                   f"schema up to date, {reps} reps stored")]


def _spreadsheet_lines(context: Context) -> list[_Line]:
    from sheets.headers import REQUIRED_FIELDS, match_headers
    from sync.cycle import input_titles

    settings = context.settings
    backend = context.backend()
    titles = input_titles(settings)
    grids = backend.read_tabs(list(titles.values()))
    lines: list[_Line] = [(True, f"spreadsheet {backend.describe()}: readable")]
    for kind, title in titles.items():
        grid = grids.get(title)
        if grid is None:
            optional = kind == "reps"
            lines.append((optional, f"tab '{title}': missing" + (
                " (optional: reps are then managed in the database only)" if optional
                else f" — add a tab named '{title}' (or set sheets.tabs.{kind} in the config)")))
            continue
        match = match_headers(grid, kind, title, settings.sheets.headers)
        if match is None:
            lines.append((False, f"tab '{title}': empty — put the header row in row 1"))
            continue
        # A header twice, a renamed optional header ("did you mean Signups?"), a merged header cell:
        # the cycle reports these on Sync Errors; check says them too rather than "OK".
        lines += [(False, f"tab '{title}': {problem.cell}: {problem.problem}") for problem in match.problems]
        missing = [field for field in REQUIRED_FIELDS[kind] if field not in match.columns]
        if missing:
            lines.append((False, f"tab '{title}': header row {match.row_index + 1} lacks "
                                 f"{', '.join(missing)} — add these columns (or aliases in sheets.headers)"))
        else:
            rows = sum(1 for row in grid[match.row_index + 1:] if any(v not in (None, "") for v in row))
            lines.append((True, f"tab '{title}': headers found in row {match.row_index + 1}, {rows} rows"))
    return lines


def _google_lines(context: Context) -> list[_Line]:
    """Credentials, write access to the output spreadsheet and the cell budget (Google backend only)."""
    from sheets.budget import CellBudget
    from sheets.google import GoogleSheetsBackend

    backend = context.backend()
    if not isinstance(backend, GoogleSheetsBackend):
        return []
    lines: list[_Line] = [(True, f"credentials: {backend.credentials_source}")]
    try:
        found = backend.check_access()
    except GoalsSyncError as error:
        return [*lines, (False, f"spreadsheet access: {error}")]
    if backend.account_email:
        lines[0] = (True, f"{lines[0][1]}, acting as {backend.account_email}")
    for access in found:
        name = f"{access.purpose} spreadsheet {access.spreadsheet_id} ('{access.title}')"
        if "output" in access.purpose:
            lines.append((access.write_error is None, f"{name}: writable" if access.write_error is None
                          else f"{name}: not writable — {access.write_error}"))
        budget = CellBudget(access.cells)
        warning = budget.warning()
        text = f"{name}: cells used {budget.figure()}"
        lines.append((None, f"{text} — {warning}") if warning else (True, text))
    return lines


def run_check(context: Context, _args: argparse.Namespace) -> int:
    """Print one OK/FIX line per thing checked; exit 0 when everything is OK, else 1."""
    lines: list[_Line] = []
    steps: list[tuple[str, Callable[[Context], list[_Line]]]] = [
        ("config", _config_lines), ("database", _database_lines), ("spreadsheet", _spreadsheet_lines),
        ("google", _google_lines),
    ]
    for name, step in steps:
        try:
            lines += step(context)
        except GoalsSyncError as error:
            lines.append((False, f"{name}: {error}"))
    context.close()
    for ok, text in lines:
        label = "WARN" if ok is None else "OK  " if ok else "FIX "
        say(context, f"{label} {text}")
    failed = sum(ok is False for ok, _ in lines)
    print(f"\n{'All checks passed.' if not failed else f'{failed} thing(s) to fix.'}")
    return ExitCode.FAILED if failed else ExitCode.OK
