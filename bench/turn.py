"""``python -m bench --turn``: one worker turn where nothing changed, jobs included, beside its cycle.

A worker's turn of a source is two Procrastinate tasks: ``goals.turn`` (the midnight
snapshot if due, then the sync cycle) and ``goals.jobs`` (achievements, notify, reminders,
pace alerts, digest when due). This module runs exactly those task bodies
(``sync.worker._Sources``: what the tasks call, without Procrastinate's fetch and finish of
the job) in a long-lived child process — a worker serving one source — on a generated
spreadsheet (default 2,000 reps × 24 months) on the local Sheets API server, and times,
alternately and back to back so that the machine's load hits both alike:

- the **cycle alone** (``run_cycle``, as the daemon and ``bench.worker`` time it);
- the **turn**: ``goals.turn`` then ``goals.jobs``, as a worker runs them.

Both after two warm-up turns (the first loads the history and runs every job once, the
second sees its own writes), so nothing changed in the sheet or the database. Figures are
medians of ``rounds`` of each: wall and CPU seconds, SQL statements, Sheets requests.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bench import database
from bench.processes import _Child, write_config
from bench.sheet import Sheet
from bench.workbook import Spec, cycle_time, generate

STEPS = ("cycle", "turn")


@dataclass(frozen=True)
class Step:
    """The median cost of one step over the measured rounds."""

    step: str
    seconds: float
    cpu_seconds: float
    sql_statements: int
    sheets_requests: int
    jobs_seconds: float
    """Of ``seconds``, the ``goals.jobs`` task (0 for the cycle alone)."""
    jobs_run: str
    """The jobs that ran in the last round (``-``: none was due)."""


def run_turn_bench(reps: int = 2000, months: int = 24, rounds: int = 7, *,
                   progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Build the spreadsheet and database, run the child, return the figures."""
    from bench.sheets_server import start

    now = cycle_time(months)
    progress(f"generating {reps:,} reps × {months} months")
    tabs = generate(Spec(reps=reps, months=months), now)
    server = start()
    try:
        with tempfile.TemporaryDirectory(prefix="goals-bench-turn-") as tmp, \
                database.fresh_database(database.server_url(), "turn") as url:
            sheet = Sheet(tabs, "bench-turn", Path(tmp), server)
            config = write_config(Path(tmp) / "turn.yaml", url, sheet.settings())
            with (Path(tmp) / "turn.log").open("w", encoding="utf-8") as log:
                child = _Child([sys.executable, "-m", "bench.turn", str(config), now.isoformat()], stderr=log)
                try:
                    child.ask(None)  # ready
                    for label in ("first turn (cold: history loaded, every job once)", "second turn (warm-up)"):
                        answer = child.ask({"step": "turn"})
                        progress(f"{label}: {answer['seconds']:.2f} s, jobs {answer['jobs_run'] or '-'}")
                    answers: dict[str, list[dict[str, Any]]] = {step: [] for step in STEPS}
                    for index in range(rounds):
                        for step in STEPS if index % 2 == 0 else reversed(STEPS):  # ABBA: load hits both alike
                            server.clear_requests()
                            answer = child.ask({"step": step})
                            answer["sheets_requests"] = sum(server.calls().values())
                            answers[step].append(answer)
                            progress(f"{step}: {answer['seconds']:.3f} s ({answer['status']})")
                finally:
                    child.close()
    finally:
        server.stop()
    steps = [Step(step, _median(a, "seconds"), _median(a, "cpu_seconds"), int(_median(a, "sql_statements")),
                  int(_median(a, "sheets_requests")), _median(a, "jobs_seconds"), a[-1]["jobs_run"] or "-")
             for step, a in answers.items()]
    return {"reps": reps, "months": months, "rounds": rounds, "steps": steps,
            "load": os.getloadavg(), "cores": os.cpu_count()}


def _median(answers: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(a[key]) for a in answers))


def report(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table, with the load they were measured under."""
    steps = {s.step: s for s in figures["steps"]}
    lines = [f"One unchanged turn, {figures['reps']:,} reps × {figures['months']} months "
             f"(medians of {figures['rounds']}, load average {figures['load'][0]:.1f} on {figures['cores']} cores)",
             "",
             "| step | wall s | CPU s | SQL statements | Sheets requests | of which jobs task s | jobs run |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    names = {"cycle": "cycle alone (`run_cycle`)", "turn": "worker turn: `goals.turn` + `goals.jobs`"}
    for step in STEPS:
        s = steps[step]
        lines.append(f"| {names[step]} | {s.seconds:.3f} | {s.cpu_seconds:.3f} | {s.sql_statements} | "
                     f"{s.sheets_requests} | {s.jobs_seconds:.3f} | {s.jobs_run} |")
    cycle, turn = steps["cycle"], steps["turn"]
    lines += ["", f"turn − cycle: {turn.seconds - cycle.seconds:+.3f} s wall, "
                  f"{turn.cpu_seconds - cycle.cpu_seconds:+.3f} s CPU, "
                  f"{turn.sql_statements - cycle.sql_statements:+d} SQL statements"]
    return "\n".join(lines)


# --- the child: a worker serving one source -----------------------------------------------


def serve(config: Path, now: str, commands: TextIO, out: TextIO) -> None:
    """Load the deployment (clock from ``now``), then answer one JSON line per command line."""
    from sync.context import Deployment
    from sync.cycle import run_cycle
    from sync.worker import _Sources

    deployment = Deployment.load(config, now)
    sources = _Sources(deployment)
    context = deployment.contexts[0]
    store = context.store()
    backend = context.backend()
    _send(out, {"ready": True})
    import jobs.runner

    ran: list[str] = []
    run_job = jobs.runner.run_job

    def counted(*args: Any, **kwargs: Any) -> Any:  # which jobs ran (``run_due`` calls it by name)
        outcome = run_job(*args, **kwargs)
        ran.append(f"{outcome.job}:{outcome.status}")
        return outcome

    jobs.runner.run_job = counted  # type: ignore[assignment]
    try:
        for line in commands:
            if not line.strip():
                continue
            step = json.loads(line)["step"]
            ran.clear()
            statements = store.statement_count
            began, cpu = time.perf_counter(), time.process_time()
            jobs_seconds = 0.0
            if step == "cycle":
                status = run_cycle(context.settings, store, backend, context.clock.now(),
                                   memo=context.cycle_memo()).status
            else:
                status = sources.turn(context.source)
                if status not in {"failed", "skipped"}:  # as the goals.turn task defers goals.jobs
                    jobs_began = time.perf_counter()
                    sources.jobs(context.source)
                    jobs_seconds = time.perf_counter() - jobs_began
            _send(out, {"seconds": time.perf_counter() - began, "cpu_seconds": time.process_time() - cpu,
                        "sql_statements": store.statement_count - statements, "status": status,
                        "jobs_seconds": jobs_seconds, "jobs_run": " ".join(dict.fromkeys(ran))})
    finally:
        deployment.close()


def _send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main() -> None:
    """The child's entry point: protocol on stdout, logs on stderr."""
    out = sys.stdout
    sys.stdout = sys.stderr
    serve(Path(sys.argv[1]), sys.argv[2], sys.stdin, out)


if __name__ == "__main__":
    main()
