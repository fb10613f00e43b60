"""The benchmark's Sheets server under concurrent requests, as two workers send them."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from bench.sheets_server import BenchSheetsServer, start
from tests.profiles import scaled

RANGES = "ranges=Reps!A1:B{n}&ranges=Actuals!A1:B3&valueRenderOption=UNFORMATTED_VALUE"


@pytest.fixture
def bench_server() -> Iterator[BenchSheetsServer]:
    server = start()
    yield server
    server.stop()


def read(server: BenchSheetsServer, sheet: str, n: int = 3) -> list[list[object]]:
    url = f"{server.url}/v4/spreadsheets/{sheet}/values:batchGet?{RANGES.format(n=n)}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())["valueRanges"][1]["values"]


def write(server: BenchSheetsServer, sheet: str, value: int) -> None:
    body = json.dumps({"valueInputOption": "RAW", "data": [{"range": "Actuals!B2", "values": [[value]]}]}).encode()
    request = urllib.request.Request(f"{server.url}/v4/spreadsheets/{sheet}/values:batchUpdate", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


def test_reads_and_writes_from_many_threads_never_break_the_cache_or_serve_stale_values(
        bench_server: BenchSheetsServer) -> None:
    sheets = [f"s{i}" for i in range(8)]
    for sheet in sheets:
        bench_server.create_spreadsheet(sheet, {"Reps": [["Email", "Name"]],
                                                "Actuals": [["Email", "Signups"], ["a", 0]]})
    errors: list[BaseException] = []

    reads = scaled(200)  # 200 under the ci profile, 20 by default (tests/profiles.py)

    def reader(sheet: str) -> None:
        try:
            for n in range(3, 3 + reads):  # many cached answers: a write looks through them all
                read(bench_server, sheet, n)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=reader, args=(sheet,)) for sheet in sheets for _ in range(2)]
    for thread in threads:
        thread.start()
    writes = range(1, scaled(60))
    for value in writes:  # writes clear the cache while reads fill it
        write(bench_server, sheets[value % len(sheets)], value)
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert not any(status != 200 for status in (r.status for r in bench_server.requests))
    for index, sheet in enumerate(sheets):  # every sheet's read shows its last write
        last = max(v for v in writes if v % len(sheets) == index)
        assert read(bench_server, sheet) == [["Email", "Signups"], ["a", last]]
