"""Closing accounting periods. A closed month takes no more GL rows: ingest quarantines them.

Closed periods live in the system table `closed_periods` (period = first day of the month).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from .. import warehouse
from ..canonical import table
from ..core.periods import parse_month
from ..errors import UserError


def closed_periods(con: duckdb.DuckDBPyConnection) -> set[dt.date]:
    return {row[0] for row in con.execute("SELECT period FROM closed_periods").fetchall()}


def close_period(con: duckdb.DuckDBPyConnection, period: str, closed_by: str) -> dict:
    """Close one month. Closing a month that is already closed is a `UserError`."""
    first = parse_month(period)
    if not closed_by.strip():
        raise UserError("say who closes the period (--by NAME)")
    with warehouse.transaction(con):
        rows = con.execute("SELECT closed_at, closed_by FROM closed_periods WHERE period = ?", [first]).fetchall()
        if rows:
            at, by = rows[0]
            raise UserError(f"period {first:%Y-%m} is already closed (by {by} at {at:%Y-%m-%d %H:%M} UTC)")
        closed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        record = {"period": first, "closed_at": closed_at, "closed_by": closed_by.strip()}
        decl = table("closed_periods")
        warehouse.insert_arrow(con, decl, pa.Table.from_pylist([record], schema=decl.arrow_schema()))
    return {"period": f"{first:%Y-%m}", "closed_at": closed_at, "closed_by": record["closed_by"]}


def list_periods(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Closed periods, oldest first: period (YYYY-MM), closed_at (UTC), closed_by."""
    rows = con.execute("SELECT period, closed_at, closed_by FROM closed_periods ORDER BY period").fetchall()
    return [{"period": f"{p:%Y-%m}", "closed_at": at, "closed_by": by} for p, at, by in rows]
