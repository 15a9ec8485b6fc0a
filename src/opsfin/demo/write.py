"""Writing generated rows to the warehouse through Arrow, in batches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa

from .. import warehouse
from ..canonical import table
from .money import decimal_array


def rows_to_arrow(name: str, rows: list[tuple] | dict[str, list], load_id: str) -> pa.Table:
    """Rows whose money columns hold integer units of the column's scale -> an Arrow table."""
    decl = table(name)
    if isinstance(rows, dict):
        columns = [rows[c.name] for c in decl.columns]
        n = len(columns[0]) if columns else 0
    else:
        n = len(rows)
        columns = [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in decl.columns]
    arrays = []
    for col, values in zip(decl.columns, columns, strict=True):
        scale = col.decimal_scale
        if scale is not None and col.nullable and None in values:  # a few optional decimals (supplier discounts)
            exact = [None if v is None else Decimal(int(v)).scaleb(-scale) for v in values]
            arrays.append(pa.array(exact, type=col.arrow_type))
        elif scale is not None:
            arrays.append(decimal_array(np.asarray(values, dtype=np.int64) if n else np.zeros(0, np.int64), scale))
        else:
            arrays.append(pa.array(values, type=col.arrow_type))
    arrays.append(pa.array([load_id] * n, pa.string()))
    return pa.Table.from_arrays(arrays, schema=decl.arrow_schema())


class Writer:
    """Appends batches to warehouse tables and counts rows per table for the `loads` record."""

    def __init__(self, con: duckdb.DuckDBPyConnection, load_id: str):
        self.con = con
        self.load_id = load_id
        self.counts: dict[str, int] = {}

    def write(self, name: str, rows: list[tuple] | dict[str, list] | pa.Table) -> None:
        data = rows if isinstance(rows, pa.Table) else rows_to_arrow(name, rows, self.load_id)
        if isinstance(rows, pa.Table) and "_load_id" not in data.column_names:
            data = data.append_column("_load_id", pa.array([self.load_id] * data.num_rows, pa.string()))
        if data.num_rows:
            warehouse.insert_arrow(self.con, table(name), data)
        self.counts[name] = self.counts.get(name, 0) + data.num_rows

    def flush(self, rows: dict[str, list[tuple]], names: list[str]) -> None:
        for name in names:
            if rows.get(name):
                self.write(name, rows[name])
                rows[name] = []

    def record_loads(self, source: str, started: dt.datetime) -> None:
        finished = dt.datetime.now()
        for name, n in sorted(self.counts.items()):
            self.con.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 'loaded')",
                [self.load_id, name, source, "", n, n, started, finished],
            )
