"""Hand-built warehouse rows for tests that drive the real readers and engines.

`put(con, table, rows)` inserts dicts into a canonical table; a required column a row leaves out gets a
neutral filler (text 'x', zero, 2000-01-01), so a test names only the columns its case is about."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

_FILLERS = {
    "VARCHAR": "x",
    "DOUBLE": 0.0,
    "INTEGER": 0,
    "BIGINT": 0,
    "BOOLEAN": False,
    "DATE": dt.date(2000, 1, 1),
    "TIMESTAMP": dt.datetime(2000, 1, 1),
    "TIME": dt.time(0, 0),
}


def _filler(data_type: str) -> Any:
    return 0 if data_type.startswith("DECIMAL") else _FILLERS[data_type]


def put(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table`, filling the required columns a row does not name."""
    cols = con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    if not cols:
        raise KeyError(f"no table {table}")
    names = [c for c, _, _ in cols]
    unknown = {k for r in rows for k in r} - set(names)
    if unknown:
        raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
    values = [
        [r[c] if c in r else (None if nullable == "YES" else _filler(t)) for c, t, nullable in cols] for r in rows
    ]
    con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)
