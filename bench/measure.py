"""The benchmark's sequences: a cold, a warm and a 1 %-changed cycle, in a daemon and as cron processes.

Each sequence gets its own empty database and its own copy of the spreadsheet.
The daemon sequence runs cycles in ``bench.worker`` (a process started once, the
database connected and migrated, the backend created: only ``run_cycle`` is
timed); the process sequence times whole ``python -m sync run --once`` commands,
start-up and due jobs included, as cron sees them, ``python -m sync --help``
(the cost of starting the command line at all) and the imports alone (what no change
to the product's start-up can remove; with the daemon's cycle, a cron cycle's floor).
Every row says how much of its time the cycle itself took, so what a process spends
around it (start-up, jobs, exit) stays visible; the daemon's start-up is a row of its
own, paid once. With ``repeat`` > 1 every sequence runs that many times and each figure
is the median.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import database
from bench.processes import (
    Launcher,
    Worker,
    compile_project,
    help_argv,
    imports_argv,
    run_once_argv,
    write_config,
)
from bench.sheet import Sheet, reads_and_writes
from bench.sheets_server import BenchSheetsServer
from bench.workbook import Spec, cycle_time, generate, row_count
from models.errors import ExitCode

CHANGED = "1% changed"
AFTER_JOBS = "2nd run"
STARTUP = "start-up"
"""The daemon's row for starting up once: imports, database connected and migrated, backend created."""
HELP = "--help"
"""The process row for ``python -m sync --help``."""
IMPORTS = "imports alone"
"""The process row for importing the libraries a changed cycle needs, in a bare interpreter."""
FLOORED = ("cold", CHANGED)
"""The process rows with a floor: the imports alone plus the daemon's cycle of the same name."""
CYCLES = ("cold", "warm", CHANGED)
CHANGED_FRACTION = 0.01
SHORT_RUNS = 5
_CYCLE_RAN = (ExitCode.OK, ExitCode.REJECTED_INPUT)  # the cycle ran: its log row holds the figures


@dataclass(frozen=True)
class Figures:
    """What one cycle cost."""

    mode: str
    """``daemon`` (a cycle in a running process) or ``process`` (a whole ``run --once``)."""
    cycle: str
    seconds: float
    api_reads: int
    api_writes: int
    sql_statements: int
    rows_upserted: int
    peak_memory_mb: float
    status: str
    server_seconds: float | None = None
    """Of ``seconds``, the time the fake Sheets server spent answering (Google's share); None for xlsx."""
    api_calls: dict[str, int] | None = None
    """API requests by kind (``values.batchGet``, ``spreadsheets.get``, …); None for xlsx."""
    exit_code: int | None = None
    problems: int = 0
    """Problems the cycle reported (every one, also those beyond sheets.max_error_rows)."""
    samples: tuple[float, ...] = ()
    """Every repetition's seconds (``seconds`` is their median)."""
    cycle_seconds: float | None = None
    """Of ``seconds``, the sync cycle's own time (``run_cycle``); None for rows that run no cycle."""
    cpu_seconds: float | None = None
    """CPU time (user + system) of the product's process over ``seconds``: a busy machine inflates it
    far less than the wall time."""
    unchanged: bool = False
    """The cycle recognised the sheet and data as the last successful cycle left them (issue 17)."""

    @property
    def is_cycle(self) -> bool:
        """False for the rows that run no sync cycle (the daemon's start-up, ``--help``, the imports alone)."""
        return self.cycle not in (STARTUP, HELP, IMPORTS)

    @property
    def value_bodies(self) -> int:
        """Requests the values write went out as (more than one over Google's 2 MB payload)."""
        return (self.api_calls or {}).get("values.batchUpdate", 0)

    @property
    def outside_seconds(self) -> float | None:
        """Of ``seconds``, what is not the cycle: start-up, due jobs and exit (``run --once``)."""
        if self.cycle_seconds is None:
            return None
        return max(self.seconds - self.cycle_seconds, 0.0)


@dataclass
class Run:
    """A whole benchmark run: its parameters and one ``Figures`` per cycle."""

    backend: str
    reps: int
    months: int
    rows: int
    now: str
    repeat: int = 1
    figures: list[Figures] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**{k: v for k, v in asdict(self).items() if k != "figures"},
                "cycles": [asdict(f) for f in self.figures]}


@dataclass(frozen=True)
class _Sequence:
    """What one sequence of cycles works on."""

    sheet: Sheet
    config: Path
    database_url: str
    now: datetime
    workdir: Path
    seed: int


@dataclass
class Bench:
    """Everything a run shares: parameters, the generated tabs, the fake server, the database server."""

    spec: Spec
    backend: str = "google"
    cycles: tuple[str, ...] = CYCLES
    modes: tuple[str, ...] = ("daemon", "process")
    repeat: int = 1
    progress: Callable[[str], None] = lambda _: None

    def run(self) -> Run:
        """Run every requested sequence ``repeat`` times; return the figures."""
        launcher = Launcher()  # before this process holds the spreadsheet (see bench.launcher)
        compile_project()
        try:
            now = cycle_time(self.spec.months)
            self.progress(f"generating {self.spec.reps:,} reps × {self.spec.months} months")
            tabs = generate(self.spec, now)
            result = Run(backend=self.backend, reps=self.spec.reps, months=self.spec.months,
                         rows=row_count(tabs), now=now.isoformat(), repeat=self.repeat)
            admin_url = database.server_url()
            rounds: list[list[Figures]] = []
            with self._server() as server, tempfile.TemporaryDirectory(prefix="goals-bench-") as tmp:
                for round_number in range(self.repeat):
                    figures: list[Figures] = []
                    for number, mode in enumerate(self.modes):
                        name = f"bench-{mode}-{round_number + 1}"
                        sheet = Sheet(_copy(tabs), name, Path(tmp), server)
                        with database.fresh_database(admin_url, mode) as url:
                            config = write_config(Path(tmp) / f"{name}.yaml", url, sheet.settings())
                            sequence = _Sequence(sheet, config, url, now, Path(tmp),
                                                 seed=100 + number)
                            if mode == "daemon":
                                figures += self._daemon(sequence)
                            else:
                                figures += self._process(sequence, launcher)
                    rounds.append(figures)
        finally:
            launcher.close()
        result.figures = _medians(rounds)
        result.notes += _notes(result, rounds)
        return result

    @contextmanager
    def _server(self) -> Iterator[BenchSheetsServer | None]:
        if self.backend != "google":
            yield None
            return
        from bench.sheets_server import start

        server = start()
        try:
            yield server
        finally:
            server.stop()

    def _daemon(self, seq: _Sequence) -> list[Figures]:
        self.progress("daemon: starting the worker (database migrated, backend created)")
        worker = Worker(seq.config, seq.workdir / "daemon.log")
        out = [Figures(mode="daemon", cycle=STARTUP, seconds=worker.startup_seconds, api_reads=0, api_writes=0,
                       sql_statements=0, rows_upserted=0, peak_memory_mb=worker.ready["peak_memory_mb"],
                       status="-", cpu_seconds=worker.ready.get("startup_cpu_seconds"))]
        self.progress(f"daemon start-up: {worker.startup_seconds:.2f} s")
        try:
            for cycle, moment in _moments(seq.now, self.cycles):
                if cycle == CHANGED:
                    seq.sheet.change(CHANGED_FRACTION, seq.seed)
                seq.sheet.start_counting()
                answer = worker.cycle(moment)
                calls = seq.sheet.calls()
                reads, writes = reads_and_writes(calls) if calls is not None else (
                    answer["api_reads"], answer["api_writes"])
                figures = Figures(
                    mode="daemon", cycle=cycle, seconds=answer["seconds"], api_reads=reads, api_writes=writes,
                    sql_statements=answer["sql_statements"], rows_upserted=answer["rows_upserted"],
                    peak_memory_mb=answer["peak_memory_mb"], status=answer["status"],
                    server_seconds=seq.sheet.server_seconds(), api_calls=calls, cycle_seconds=answer["seconds"],
                    cpu_seconds=answer.get("cpu_seconds"), problems=answer["problems"],
                    unchanged=bool(answer.get("unchanged")),
                )
                error = f": {answer['error']}" if answer.get("error") else ""
                self.progress(f"daemon {cycle}: {figures.seconds:.2f} s ({figures.status}{error})")
                out.append(figures)
        finally:
            worker.close()
        return out

    def _process(self, seq: _Sequence, launcher: Launcher) -> list[Figures]:
        log = seq.workdir / "process.log"
        out = [_short(launcher, help_argv(), HELP, log), _short(launcher, imports_argv(), IMPORTS, log)]
        self.progress(f"process --help: {out[0].seconds:.2f} s, imports alone: {out[1].seconds:.2f} s")
        cycles = self.cycles
        if len(cycles) > 1:  # the first run's jobs change what the second one shows
            cycles = (cycles[0], AFTER_JOBS, *cycles[1:])
        for cycle, moment in _moments(seq.now, cycles):
            if cycle == CHANGED:
                seq.sheet.change(CHANGED_FRACTION, seq.seed)
            seq.sheet.start_counting()
            answer = launcher.run(run_once_argv(seq.config, moment, cycle.replace(' ', '-').replace('%', 'pct')), log)
            calls = seq.sheet.calls()
            logged = database.last_cycle(seq.database_url)
            reads, writes = reads_and_writes(calls) if calls is not None else (
                int(logged.get("api_reads", 0)), int(logged.get("api_writes", 0)))
            code = answer["exit_code"]
            figures = Figures(
                mode="process", cycle=cycle, seconds=answer["seconds"], api_reads=reads, api_writes=writes,
                sql_statements=int(logged.get("sql_statements", 0)),
                rows_upserted=int(logged.get("rows_upserted", 0)), peak_memory_mb=answer["peak_memory_mb"],
                status=str(logged.get("status", "?")) if code in _CYCLE_RAN else f"exit {code}",
                server_seconds=seq.sheet.server_seconds(), api_calls=calls, exit_code=code,
                cycle_seconds=float(logged["seconds"]) if "seconds" in logged else None,
                cpu_seconds=answer.get("cpu_seconds"), problems=int(logged.get("rows_rejected", 0)),
                unchanged=bool(logged.get("unchanged")),
            )
            if code not in _CYCLE_RAN:
                self.progress(f"run --once failed; the end of its output:\n{log.read_text()[-2000:]}")
            self.progress(f"process {cycle}: {figures.seconds:.2f} s (exit {code})")
            out.append(figures)
        return out


def _short(launcher: Launcher, argv: list[str], cycle: str, log: Path) -> Figures:
    """A short command (``--help``, the imports alone), the median of a few runs: one run is noisy."""
    answers = [launcher.run(argv, log) for _ in range(SHORT_RUNS)]
    seconds = sorted(a["seconds"] for a in answers)[SHORT_RUNS // 2]
    cpu = sorted(a["cpu_seconds"] for a in answers)[SHORT_RUNS // 2]
    code = max(a["exit_code"] for a in answers)
    return Figures(mode="process", cycle=cycle, seconds=seconds, api_reads=0, api_writes=0, sql_statements=0,
                   rows_upserted=0, peak_memory_mb=max(a["peak_memory_mb"] for a in answers),
                   status="-" if code == ExitCode.OK else f"exit {code}", exit_code=code, cpu_seconds=cpu)


@dataclass(frozen=True)
class Floor:
    """The least a ``run --once`` of one cycle can take with this cycle, and its two parts."""

    imports: float
    """The imports alone (``IMPORTS``)."""
    daemon: float
    """The same cycle in a running daemon."""

    @property
    def seconds(self) -> float:
        """Both together."""
        return self.imports + self.daemon


def floors(figures: list[Figures]) -> dict[str, Floor]:
    """Each ``FLOORED`` cycle's floor: the imports alone plus the same cycle in a running daemon (a
    cron run imports what it needs first, then does at least the daemon's work, with none of the
    parse and rows a daemon keeps from its previous cycle). Only for cycles both modes ran."""
    by_name = {(f.mode, f.cycle): f.seconds for f in figures}
    imports = by_name.get(("process", IMPORTS))
    if imports is None:
        return {}
    return {cycle: Floor(imports, by_name[("daemon", cycle)]) for cycle in FLOORED if ("daemon", cycle) in by_name}


def _moments(now: datetime, cycles: tuple[str, ...]) -> list[tuple[str, datetime]]:
    """Each cycle a minute after the previous one, as a daemon polling every minute."""
    return [(cycle, now + timedelta(minutes=i)) for i, cycle in enumerate(cycles)]


def _medians(rounds: list[list[Figures]]) -> list[Figures]:
    """One ``Figures`` per cycle: the first round's counts, the median time, the highest peak memory."""
    out = []
    for same in zip(*rounds, strict=True):
        seconds = tuple(f.seconds for f in same)
        servers = [f.server_seconds for f in same if f.server_seconds is not None]
        cycles = [f.cycle_seconds for f in same if f.cycle_seconds is not None]
        cpus = [f.cpu_seconds for f in same if f.cpu_seconds is not None]
        out.append(replace(same[0], seconds=statistics.median(seconds), samples=seconds,
                           server_seconds=statistics.median(servers) if servers else None,
                           cycle_seconds=statistics.median(cycles) if cycles else None,
                           cpu_seconds=statistics.median(cpus) if cpus else None,
                           peak_memory_mb=max(f.peak_memory_mb for f in same)))
    return out


def _notes(run: Run, rounds: list[list[Figures]]) -> list[str]:
    notes = []
    if any(f.cycle == AFTER_JOBS for f in run.figures):
        notes.append(f"process '{AFTER_JOBS}': the second run --once, which also shows what the first run's "
                     "jobs (snapshot, reminders, achievements) wrote")
    if any(f.unchanged for f in run.figures):
        notes.append("'unchanged': the cycle found the read, settings, day, code and data version of the last "
                     "successful cycle in the database, reported its figures and parsed, stored and wrote nothing")
    for f in run.figures:
        if f.value_bodies > 1:
            notes.append(f"{f.mode} {f.cycle}: the values write went out as {f.value_bodies} bodies under 2 MB each "
                         "(Google's recommended maximum payload); the write target counts them as one write")
    for cycle, floor in floors(run.figures).items():
        notes.append(f"process {cycle}: floor {floor.seconds:.2f} s = the imports alone ({floor.imports:.2f} s) + "
                     f"the daemon's {cycle} cycle ({floor.daemon:.2f} s), the least a cron run of this cycle can take")
    metadata = sorted({f.cycle for f in run.figures if (f.api_calls or {}).get("spreadsheets.get")})
    if metadata:
        notes.append(f"{', '.join(metadata)}: one of the API reads is spreadsheets.get (the sheet ids of the "
                     "output tabs, for their first formatting call)")
    for same in zip(*rounds, strict=True):
        counts = {(f.api_reads, f.api_writes, f.sql_statements, f.rows_upserted) for f in same}
        if len(counts) > 1:
            notes.append(f"{same[0].mode} {same[0].cycle}: counts differ between repetitions: "
                         f"{sorted(counts)}")
    return notes


def _copy(tabs: dict[str, list[list[object]]]) -> dict[str, list[list[object]]]:
    return {title: [list(row) for row in rows] for title, rows in tabs.items()}
