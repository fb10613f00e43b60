"""Load a DataFrame into a temporary table with one COPY: the set-based way in."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd
from sqlalchemy import Connection, text


def stage_frame(connection: Connection, table: str, columns: Mapping[str, str], frame: pd.DataFrame) -> int:
    """Create temp ``table`` (dropped at commit) with ``columns`` (name → SQL type) and COPY ``frame`` in.

    Two statements whatever the number of rows. NA becomes NULL. Returns the row count.
    """
    definition = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    connection.execute(text(f"CREATE TEMP TABLE {table} ({definition}) ON COMMIT DROP"))
    if frame.empty:
        return 0
    buffer = io.StringIO()
    # CSV with an unquoted empty field for NA: COPY reads that as NULL, while a
    # quoted "" would be an empty string (text cells are never empty here).
    frame.loc[:, list(columns)].to_csv(buffer, header=False, index=False, na_rep="")
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        copy.write(buffer.getvalue())
    return len(frame)
