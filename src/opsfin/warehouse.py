"""The DuckDB warehouse: connection, schema creation and atomic writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .canonical import SYSTEM_TABLES, TABLES, Table
from .errors import UserError


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every canonical and system table that does not exist yet, and add to an existing table the
    nullable columns a newer model gave it (an upgrade keeps every row; the new columns start empty)."""
    for t in TABLES + SYSTEM_TABLES:
        con.execute(t.ddl())
        add_missing_columns(con, t)


def add_missing_columns(con: duckdb.DuckDBPyConnection, table: Table) -> list[str]:
    """`ALTER TABLE … ADD COLUMN` for each nullable column of `table` the warehouse's table lacks; the names
    added. A missing column that may not be null cannot be added to rows that exist: that is refused."""
    have = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table.name]
        ).fetchall()
    }
    added = []
    for c in table.columns:
        if c.name in have:
            continue
        if not c.nullable:
            raise UserError(f"warehouse table {table.name} lacks the required column {c.name}; rebuild the warehouse")
        con.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{c.name}" {c.type}')
        added.append(c.name)
    return added


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: an exception (or a killed process) leaves the warehouse as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def insert_arrow(con: duckdb.DuckDBPyConnection, table: Table, data: pa.Table) -> int:
    """Append an Arrow table whose columns are the table's (by name; `_load_id` included)."""
    names = [n for n in table.all_column_names if n in data.column_names]
    con.register("_opsfin_insert", data.select(names))
    try:
        cols = ", ".join(f'"{n}"' for n in names)
        con.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM _opsfin_insert')
    finally:
        con.unregister("_opsfin_insert")
    return data.num_rows


def written_load(
    load_id: str, table_name: str, source: str, digest: str, rows: int, started: dt.datetime
) -> dict[str, Any]:
    """The `loads` row of `rows` rows an opsfin command wrote itself into `table_name` (a plan, a forecast,
    a posting): every row read is accepted, none quarantined; finished now (UTC, naive as the table)."""
    return {
        "load_id": load_id,
        "table_name": table_name,
        "source": source,
        "sha256": digest,
        "rows_read": rows,
        "rows_accepted": rows,
        "rows_quarantined": 0,
        "started_at": started,
        "finished_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "status": "loaded",
    }
