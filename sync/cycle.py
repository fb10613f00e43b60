"""One sync cycle, top to bottom: lock → read → validate → store → derive → log → write → commit.

The clock is read once; the database work is one transaction that holds the
cycle lock and also covers the write to the spreadsheet, which comes last: a
failed write leaves the database unchanged and the next cycle simply tries
again, and a failed statement leaves the spreadsheet untouched.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from models.errors import GoalsSyncError, LockHeld
from models.ports import CycleStore, CycleTransaction, OutputState
from models.redact import mask_secrets, secrets_of
from models.rules.periods import local_date
from models.settings import Settings
from models.values import CycleResult, CycleStatus, Problem
from sheets.backend import SpreadsheetBackend
from sheets.budget import CellBudget
from sheets.factory import output_target
from sheets.inputs import INPUT_KINDS, InputKind, ParsedInputs
from sheets.outputs import OutputTable, TabWrite
from sheets.reads import read_input
from sync.chart_tables import charts_table
from sync.history_tables import history_table
from sync.output_tables import (
    BUDGET_ROWS,
    BUDGET_STEP,
    content_fingerprint,
    errors_table,
    kept_budget,
    leaderboard_table,
    same_content,
    summary_table,
    with_cell_budget,
)
from sync.reuse import (
    CycleMemo,
    StoredRows,
    collector_paused,
    input_fingerprint,
    pack_hashes,
    row_hashes,
    rows_to_store,
    unpack_hashes,
)
from sync.team_tables import team_table

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from models.fingerprints import LastCycle

log = logging.getLogger("sync.cycle")


def input_titles(settings: Settings) -> dict[InputKind, str]:
    """Tab title of each input tab, from config."""
    tabs = settings.sheets.tabs
    return {kind: getattr(tabs, kind) for kind in INPUT_KINDS}


def run_cycle(settings: Settings, store: CycleStore, backend: SpreadsheetBackend, now: datetime, *,
              dry_run: bool = False, memo: CycleMemo | None = None) -> CycleResult:
    """Run one cycle at ``now``; a failure is returned as status ``failed``, never raised.

    ``memo``: pass the same one to every cycle of a process to reuse unchanged work.
    """
    with collector_paused():
        return _Cycle(settings, store, backend, now, dry_run=dry_run, memo=memo or CycleMemo()).run()


class _Cycle:
    """The state of one cycle: inputs, counters, and the clock reading it shares."""

    def __init__(self, settings: Settings, store: CycleStore, backend: SpreadsheetBackend, now: datetime,
                 *, dry_run: bool, memo: CycleMemo) -> None:
        self.settings, self.store, self.backend, self.now, self.dry_run = settings, store, backend, now, dry_run
        self.memo = memo
        self.target = output_target(settings.sheets)
        self.started = time.monotonic()
        self.statements_before = store.statement_count
        self.requests_before = backend.request_count

    def run(self) -> CycleResult:
        try:
            return self._locked()
        except LockHeld as error:
            return self._finish("skipped", error=str(error))
        except GoalsSyncError as error:
            return self._failed(str(error))
        except Exception as error:  # a bug, not a fault: keep the daemon alive and say so
            log.exception("unexpected error in the sync cycle")
            return self._failed(f"unexpected error ({type(error).__name__}); see the log for details")

    def _locked(self) -> CycleResult:
        """The cycle inside one transaction that holds the cycle lock from the first read to the commit.

        Order matters: everything that can fail in the database (the stores, the output
        state, the sync log row, the pruning) happens *before* the spreadsheet is written,
        and the commit comes right after the write. A failing statement therefore leaves the
        sheet untouched; a failing write rolls the database back (the output state with it,
        so the next cycle rewrites every tab that did not match). Only a commit failing in
        the instant after the write can leave the sheet ahead of the database, and the next
        cycle then stores the same input and rewrites the same tabs.
        """
        settings, now = self.settings, self.now
        titles = input_titles(settings)
        today = local_date(now, settings.tz)

        with self.store.transaction(now, commit=not self.dry_run, cycle_lock=True) as tx:
            read = read_input(self.backend, list(titles.values()))
            reads = self.backend.request_count - self.requests_before
            fingerprint = input_fingerprint(read.digest, settings, today)
            context, kept, self.memo.stored = input_fingerprint("", settings, today), self.memo.stored, None
            in_database = None
            if not self.dry_run:
                last, version = tx.last_cycle_fingerprint(self.target)
                if last is not None and last.fingerprint == fingerprint and last.data_version == version:
                    self.memo.stored = kept
                    return self._logged(self._unchanged(tx, last, reads))
                # Nothing but this process's last committed cycle wrote since, on the same day with the
                # same settings: the database holds what that cycle stored, so unchanged rows can stay.
                if last is not None and version == last.data_version:
                    if kept is not None and (kept.fingerprint, kept.context) == (last.fingerprint, context):
                        in_database = kept.hashes
                    else:  # a new process (cron): the database kept them
                        blob = tx.stored_rows(self.target, fingerprint=last.fingerprint, context=context)
                        in_database = unpack_hashes(blob) if blob is not None else None
                start = tx.start_data_version(version)
            from sheets.parse import parse_inputs  # pandas and numpy: only for a cycle that parses

            grids = read.grids()
            tx.write_settings(settings)
            user = tx.system_user()
            parsed = parse_inputs({kind: grids.get(title) for kind, title in titles.items()}, titles,
                                  known_emails=tx.known_emails(), header_aliases=settings.sheets.headers,
                                  memo=self.memo.parse, max_problems=settings.sheets.max_error_rows)
            stored = _store_inputs(tx, parsed, settings, now, user, in_database=in_database)
            stored.add("derived values (tiers, yearly totals, month close, roll-ups)",
                       tx.refresh_derived(settings, now=now, year=today.year, month=today.month))
            # Only the first max_error_rows problems are kept (Sync Errors, the log, the result); a
            # sheet of 100,000 garbage rows must not make a tab or a log row Google or PostgreSQL refuses.
            limit, upserted = settings.sheets.max_error_rows, sum(stored.written.values())
            problems = [problem.made_printable() for problem in stored.problems[:limit]]
            more = max(len(stored.problems) + parsed.more_problems - limit, 0)
            status = "partial" if problems else "success"
            cycle_status = CycleStatus(finished_at=now, rows_read=parsed.rows_read, problems=len(problems) + more,
                                       status=status)
            plain = _output_tables(tx, settings, now, problems, cycle_status, more=more, memo=self.memo)
            budget = self.backend.cell_budget(plain)
            protect = settings.sheets.protect_output_tabs
            previous = tx.output_state(self.target)
            states = _States(protect=protect)
            writes = _plan_writes(_with_budget(plain, budget), previous, protect=protect, states=states)
            figures = {"problems": tuple(problems), "more_problems": more, "rows_read": parsed.rows_read,
                       "rows_upserted": upserted,
                       "rows_unchanged": max(stored.staged - upserted, 0), "api_reads": reads}
            if self.dry_run:
                result = self._result("dry_run", changes=_dry_run_changes(stored, writes), **figures)
            else:
                tx.save_output_state(self.target, {w.table.tab: _written_state(w, previous.get(w.table.tab),
                                                                               protect=protect, states=states)
                                                   for w in writes}, now)
                tx.prune_cycle_log(now, keep_days=settings.sync.log_retention_days)
                result = self._result(status, tabs_written=tuple(w.table.tab for w in writes), **figures,
                                      sql_statements=self.store.statement_count - self.statements_before + 1)
                log_id = tx.log_cycle(result, spreadsheet=self.target)
                hashes = pack_hashes(stored.hashes) if stored.hashes and not stored.locked else None
                tx.save_fingerprint(self.target, fingerprint, start=start, result=result, context=context,
                                    stored_rows=hashes)
                if writes:  # the last step before the commit
                    before = self.backend.request_count
                    sent = _BudgetFinish(self.backend, plain, budget, writes).write()
                    if sent is not writes:  # the cell budget became known during the write
                        tx.save_output_state(self.target, {w.table.tab: _written_state(
                            w, previous.get(w.table.tab), protect=protect, states=states) for w in sent}, now)
                    # Every request the writes sent: metadata, retries and token refreshes included.
                    result = replace(result, api_writes=self.backend.request_count - before,
                                     seconds=time.monotonic() - self.started,
                                     sql_statements=self.store.statement_count - self.statements_before + 1)
                    tx.amend_cycle_log(log_id, result)
        if not self.dry_run and not stored.locked and self.memo.remember:  # committed: the database holds them
            self.memo.stored = StoredRows(fingerprint, context, stored.hashes)
        return self._logged(result)

    def _unchanged(self, tx: CycleTransaction, last: LastCycle, reads: int) -> CycleResult:
        """The sheet answered what it did last time, and nothing the output reads changed since:
        report the last successful cycle's figures (status, rows read, problems, so the exit code
        is the same) and write nothing but this cycle's log row. An output tab a person deleted or
        edited is rewritten by the next cycle that has something to write, as before."""
        tx.prune_cycle_log(self.now, keep_days=self.settings.sync.log_retention_days)
        result = self._result(last.status, problems=last.problems, more_problems=last.problem_count - len(
            last.problems), rows_read=last.rows_read, api_reads=reads, unchanged=True,
            sql_statements=self.store.statement_count - self.statements_before + 1)
        tx.log_cycle(result, spreadsheet=self.target)
        return result

    def _failed(self, error: str) -> CycleResult:
        """The database work was rolled back: record the failure in its own transaction."""
        result = self._result("failed", error=error, api_reads=self.backend.request_count - self.requests_before)
        if not self.dry_run:
            try:
                self.store.record_cycle(result, spreadsheet=self.target)
            except GoalsSyncError as log_error:  # the database itself may be the fault
                log.error("could not record the failed cycle: %s", log_error)
        return self._logged(result)

    def _finish(self, status: str, **values: object) -> CycleResult:
        return self._logged(self._result(status, **values))

    def _result(self, status: str, **values: object) -> CycleResult:
        values.setdefault("sql_statements", self.store.statement_count - self.statements_before)
        if isinstance(values.get("error"), str):  # printed, logged and stored in sheets_sync_log
            values["error"] = mask_secrets(str(values["error"]), secrets_of(self.settings))
        return CycleResult(status=status, now=self.now, seconds=time.monotonic() - self.started,
                           **values)  # type: ignore[arg-type]

    def _logged(self, result: CycleResult) -> CycleResult:
        """One log line per cycle, with its counts and duration."""
        status = result.status
        log.info("cycle %s in %.2fs: %d rows read, %d upserted, %d problems, %d API calls, "
                 "%d SQL statements%s", status, result.seconds, result.rows_read, result.rows_upserted,
                 result.problem_count, result.api_reads + result.api_writes, result.sql_statements,
                 f"; {result.error}" if result.error else "", extra=result.log_fields())
        return result


def _with_budget(tables: list[OutputTable], budget: CellBudget | None) -> list[OutputTable]:
    """The tables with the cell budget in the Summary's side block (the only one with a side block)."""
    return [with_cell_budget(table, budget) for table in tables]


@dataclass
class _BudgetFinish:
    """Writes ``writes``; if the cell budget became known or moved during the write (the formatting
    call answers with the tabs' sizes), the Summary is sent with the new figure, in the same request."""

    backend: SpreadsheetBackend
    plain: list[OutputTable]
    budget: CellBudget | None
    writes: list[TabWrite]

    def write(self) -> list[TabWrite]:
        """Send the writes; returns the ones sent (their tables are what the sheet now shows)."""
        self.backend.write_tabs(self.writes, finish=self._finish)
        return self.writes

    def _finish(self) -> list[TabWrite]:
        budget = self.backend.cell_budget(self.plain)
        if _shown(budget) != _shown(self.budget):
            tables = {table.tab: table for table in _with_budget(self.plain, budget)}
            # Known now: the budget rows are written, not left as they were.
            self.writes = [dataclasses.replace(w, table=tables[w.table.tab],
                                               keep_side_rows=w.keep_side_rows if budget is None else 0)
                           for w in self.writes]
            self.budget = budget
        return self.writes


def _shown(budget: CellBudget | None) -> CellBudget | None:
    """The figure as the side block shows it."""
    return budget.rounded(BUDGET_STEP) if budget is not None else None


@dataclass
class _Stored:
    """What storing the inputs did: rows written per part, rows staged, problems found."""

    written: dict[str, int] = field(default_factory=dict)
    staged: int = 0
    problems: list[Problem] = field(default_factory=list)
    hashes: dict[str, np.ndarray] = field(default_factory=dict)
    """Each input frame's row hashes (``sync.reuse.row_hashes``)."""
    locked: bool = False
    """Some edit was refused (``goals.lock_after_deadline``): it must be refused, and said, again (or
    a frame could not be hashed): the next cycle stores every row."""

    def add(self, part: str, written: int, staged: int = 0) -> None:
        self.written[part] = self.written.get(part, 0) + written
        self.staged += staged


def _store_inputs(tx: CycleTransaction, parsed: ParsedInputs, settings: Settings, now: datetime,
                  user: uuid.UUID, *, in_database: Mapping[str, np.ndarray] | None = None) -> _Stored:
    """Upsert every usable input tab; with ``in_database`` (the row hashes the database holds as stored,
    ``sync.reuse.StoredRows``), only the rows that differ from them. Every row is hashed (about 20 ms
    at 100,000 rows), also by ``run --once``: the database keeps the hashes for the next process."""
    from models.upserts import month_frame

    stored = _Stored(problems=list(parsed.problems))

    def changed(part: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        try:
            stored.hashes[part] = hashes = row_hashes(frame)
        except (TypeError, ValueError):  # a value pandas cannot hash: store every row, now and next time
            stored.locked = True
            return frame, 0
        rows = rows_to_store(frame, hashes, (in_database or {}).get(part))
        return rows, len(frame) - len(rows)

    reps = parsed.tabs.get("reps")
    if reps is not None:
        rows, same = changed("reps", reps.frame)
        counts = tx.upsert_reps(rows)
        stored.add("reps", counts.written, counts.staged + same)
    # Default rows first, so a blank or rejected Signup Goal keeps the rep's default.
    today = local_date(now, settings.tz)
    stored.add("default month and year rows", tx.ensure_period_rows(settings, year=today.year, month=today.month))
    monthly, actuals = parsed.tabs.get("monthly_goals"), parsed.tabs.get("actuals")
    if monthly is not None or actuals is not None:
        rows, same = changed("months", month_frame(monthly.frame if monthly else None,
                                                   actuals.frame if actuals else None))
        counts, locked = tx.upsert_months(
            rows, now=now, deadline_day=settings.goals.deadline_day, timezone=settings.timezone,
            system_user=user, lock_after_deadline=settings.goals.lock_after_deadline,
            bonus=settings.goals.bonus,
        )
        stored.add("monthly goals and actuals", counts.written, counts.staged + same)
        stored.locked = stored.locked or bool(locked)
        if monthly is not None:
            stored.problems += [
                Problem(monthly.title, monthly.cell(edit.goal_row, edit.field), edit.email, edit.value,
                        f"the goals for {edit.year}-{edit.month:02d} are locked after the deadline "
                        f"(goals.lock_after_deadline); the stored goal {edit.stored} was kept; "
                        f"ask a manager to change it")
                for edit in locked
            ]
    yearly = parsed.tabs.get("yearly_goals")
    if yearly is not None:
        rows, same = changed("years", yearly.frame)
        counts = tx.upsert_years(rows, now=now, timezone=settings.timezone, system_user=user)
        stored.add("yearly goals", counts.written, counts.staged + same)
    return stored


def _dry_run_changes(stored: _Stored, writes: list[TabWrite]) -> tuple[str, ...]:
    """What a dry run would have changed, one line per table part and per output tab."""
    lines = [f"database, {part}: {count} rows would be inserted or changed"
             for part, count in stored.written.items() if count]
    if not lines:
        lines.append("database: nothing would change")
    lines += [f"{w.table.tab}: would be rewritten ({len(w.table.rows)} rows)" for w in writes]
    if not writes:
        lines.append("output tabs: unchanged, nothing would be written")
    return tuple(lines)


def _output_tables(tx: CycleTransaction, settings: Settings, now: datetime, problems: list[Problem],
                   cycle_status: CycleStatus, *, more: int, memo: CycleMemo) -> list[OutputTable]:
    """Every output tab as it should look now: Summary, Leaderboard, Sync Errors, Team, History, Charts."""
    today = local_date(now, settings.tz)
    standings = tx.standings(settings, year=today.year, month=today.month)
    history = tx.manager_history(year=today.year, month=today.month, previous=memo.manager_history)
    memo.manager_history = history
    tabs, goals = settings.sheets.tabs, settings.goals
    return [
        summary_table(standings, now=now, goals=goals, status=cycle_status, tab=tabs.summary,
                      tz=settings.tz, memo=memo.summary),
        leaderboard_table(standings, goals=goals, tab=tabs.leaderboard, memo=memo.leaderboard),
        errors_table(problems, tab=tabs.errors, more=more),
        team_table(standings, now=now, goals=goals, tab=tabs.team, tz=settings.tz, memo=memo.team),
        history_table(standings, history, goals=goals, tab=tabs.history, memo=memo.history),
        charts_table(standings, history, goals=goals, tab=tabs.charts, today=today, memo=memo.charts),
    ]


def _state_of(table: OutputTable, *, protect: bool = False) -> OutputState:
    side_width = max((len(row) for row in table.side_block), default=0)
    side_start = table.layout.side_block_column or 0
    return OutputState(
        content_hash=content_fingerprint(table),
        # Protection is applied by the formatting call: switching it on must count as a layout change.
        layout_hash=table.layout.fingerprint() + ("+protected" if protect else ""),
        row_count=max(len(table.rows) + 1, len(table.side_block)),
        column_count=max(len(table.layout.columns), side_start + side_width if side_width else 0),
    )


class _States:
    """Each table's output state, worked out once per cycle: its fingerprint encodes the whole table,
    and the plan and the saved state after the write both need it."""

    def __init__(self, *, protect: bool) -> None:
        self.protect = protect
        self._known: dict[int, tuple[OutputTable, OutputState]] = {}

    def of(self, table: OutputTable) -> OutputState:
        known = self._known.get(id(table))
        if known is None or known[0] is not table:  # the table is held, so its id is not reused
            known = self._known[id(table)] = (table, _state_of(table, protect=self.protect))
        return known[1]


def _written_state(write: TabWrite, before: OutputState | None, *, protect: bool,
                   states: _States | None = None) -> OutputState:
    """What a tab holds after ``write``: cell budget rows it left in place still count."""
    state = (states or _States(protect=protect)).of(write.table)
    if not write.keep_side_rows:
        return state
    return dataclasses.replace(
        state, content_hash=kept_budget(before.content_hash if before else None, state.content_hash),
        row_count=max(state.row_count, len(write.table.side_block) + write.keep_side_rows))


def _plan_writes(tables: list[OutputTable], previous: dict[str, OutputState], *,
                 protect: bool = False, states: _States | None = None) -> list[TabWrite]:
    """Only tabs whose content or layout (protection included) changed since the last successful write."""
    states = states or _States(protect=protect)
    writes = []
    for table in tables:
        state, before = states.of(table), previous.get(table.tab)
        if before is not None and same_content(before.content_hash, state.content_hash) \
                and before.layout_hash == state.layout_hash:
            continue
        keep = before is not None and table.side_block and kept_budget(before.content_hash, state.content_hash) \
            != state.content_hash
        writes.append(TabWrite(
            table=table,
            clear_rows=before.row_count if before else 0,
            clear_columns=before.column_count if before else 0,
            apply_layout=before is None or before.layout_hash != state.layout_hash,
            first_write=before is None,
            keep_side_rows=BUDGET_ROWS if keep else 0,
        ))
    return writes
