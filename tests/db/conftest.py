"""Helpers for the database tests: plain SQL through the rolled-back ``db`` session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

Sql = Callable[..., Any]


@pytest.fixture
def sql(db: Session) -> Sql:
    """``sql(statement, **params)`` runs SQL text on ``db`` and returns the Result."""

    def run(statement: str, **params: Any) -> Any:
        return db.execute(text(statement), params)

    return run


@pytest.fixture
def set_now(sql: Sql) -> Callable[[str], None]:
    """Pretend the clock reads ``iso`` (what the cycle does for ``--now``)."""

    def apply(iso: str) -> None:
        sql("SELECT set_config('goals.now', :now, true)", now=iso)

    return apply


@pytest.fixture
def configure(sql: Sql) -> Callable[..., None]:
    """Update columns of the ``app_settings`` row."""

    def apply(**values: Any) -> None:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        sql(f"UPDATE app_settings SET {assignments} WHERE id = 1", **values)

    return apply


@pytest.fixture
def add_rep(sql: Sql) -> Callable[..., int]:
    """Insert a rep (``email`` derived from ``name``) and return its id."""

    def insert(name: str = "Ana", **values: Any) -> int:
        row = {"name": name, "email": f"{name.lower()}@example.com", **values}
        columns = ", ".join(row)
        params = ", ".join(f":{column}" for column in row)
        return int(sql(f"INSERT INTO sales_reps ({columns}) VALUES ({params}) RETURNING id", **row).scalar_one())

    return insert


@pytest.fixture
def add_month(sql: Sql) -> Callable[..., RowMapping]:
    """Insert a monthly goal row (deadline from ``goals_deadline``) and return it as stored."""

    def insert(rep_id: int, year: int = 2026, month: int = 11, **values: Any) -> RowMapping:
        row = {"sales_rep_id": rep_id, "goal_year": year, "goal_month": month, **values}
        columns = ", ".join([*row, "deadline"])
        params = ", ".join([*(f":{column}" for column in row), "goals_deadline(:goal_year, :goal_month)"])
        return sql(f"INSERT INTO rep_monthly_goals ({columns}) VALUES ({params}) RETURNING *", **row).mappings().one()

    return insert
