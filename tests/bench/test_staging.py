"""The COPY that stages every input tab keeps each value exactly, whatever the text holds."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from models import staging
from models.staging import stage_frame

COLUMNS = {"email": "text", "name": "text", "active": "boolean", "goal": "integer",
           "revenue": "numeric(14,2)", "signups": "numeric(8,1)"}
EMAILS = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]


@pytest.mark.parametrize("chunk_rows", [20_000, 3, 1])
def test_staged_values_come_back_exactly(db_connection: Connection, monkeypatch: pytest.MonkeyPatch,
                                         chunk_rows: int) -> None:
    monkeypatch.setattr(staging, "CHUNK_ROWS", chunk_rows)
    frame = pd.DataFrame({
        "email": pd.array(EMAILS, dtype="string"),
        "name": pd.array(['Smith, "Jo"', "line\nbreak", None, "\\. and \\N"], dtype="string"),
        "active": pd.array([True, False, None, True], dtype="boolean"),
        "goal": pd.array([12, None, 0, 100_000], dtype="Int64"),
        "revenue": pd.array([1234.5, 0.01, None, 999_999_999.99], dtype="Float64"),
        "signups": pd.array([14.5, None, 0.0, 3.0], dtype="Float64"),
    })
    assert stage_frame(db_connection, "stage_test", COLUMNS, frame) == 4
    rows = db_connection.execute(text(
        "SELECT email, name, active, goal, revenue::text, signups::text FROM stage_test ORDER BY email"
    )).all()
    assert [tuple(row) for row in rows] == [
        ("a@example.com", 'Smith, "Jo"', True, 12, "1234.50", "14.5"),
        ("b@example.com", "line\nbreak", False, None, "0.01", None),
        ("c@example.com", None, None, 0, None, "0.0"),
        ("d@example.com", "\\. and \\N", True, 100_000, "999999999.99", "3.0"),
    ]


def test_all_missing_columns_stage_as_null(db_connection: Connection) -> None:
    frame = pd.DataFrame({"email": pd.array(["a@example.com"], dtype="string"), "name": [pd.NA],
                          "active": [pd.NA], "goal": [pd.NA], "revenue": [pd.NA], "signups": [None]})
    stage_frame(db_connection, "stage_test", COLUMNS, frame)
    row = db_connection.execute(text("SELECT * FROM stage_test")).one()
    assert tuple(row) == ("a@example.com", None, None, None, None, None)
