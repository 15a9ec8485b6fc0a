"""Reads run as SQL compiled once per process (docs/unit-economics.md, "Speed").

Ibis takes some 0.1 s to compile a read to SQL. On DuckDB `to_arrow` keeps the SQL of each expression, keyed by
the expression with its tables unbound (table names and schemas, not the connection), so a second call of the
same read, on the same or a new connection, runs the SQL it already has. The Arrow result is mapped as Ibis's
DuckDB backend maps it, without the module that holds that mapper (it imports pandas)."""

from __future__ import annotations

import functools
import threading
from typing import Any

import ibis.expr.types as ir

#: compiled SQL of the DuckDB reads, by expression (unbound: table names and schemas, not the connection)
_SQL: dict[Any, str] = {}
SQL_KEPT = 256  # expressions kept (a server sees many date ranges)
_LOCK = threading.Lock()


def to_arrow(expr: ir.Table) -> Any:
    """The rows of an expression as an Arrow table, as `expr.to_pyarrow()` gives them. On DuckDB the SQL is
    compiled once per expression and process (Ibis takes some 0.1 s to compile a read; a second call of
    the same read, or the same read on a new connection, runs the SQL it already has)."""
    backend = expr._find_backend()
    if backend.name != "duckdb":
        return expr.to_pyarrow()

    key = expr.unbind().op()  # a node compares by structure (an expression does not)
    sql = _SQL.get(key)
    if sql is None:
        sql = str(backend.compile(expr))
        with _LOCK:  # the web server reads from several threads
            if len(_SQL) >= SQL_KEPT:
                _SQL.pop(next(iter(_SQL)))
            _SQL[key] = sql
    backend._run_pre_execute_hooks(expr)
    table = backend.con.sql(sql).to_arrow_table()
    return expr.__pyarrow_result__(table, data_mapper=_arrow_data())


@functools.cache
def _arrow_data() -> Any:
    """Ibis's Arrow result mapper as its DuckDB backend uses it (a column of type null stays nulls), without
    the module that holds the backend's own (it imports pandas: some 0.5 s of a cold command)."""
    import pyarrow as pa
    from ibis.formats.pyarrow import PyArrowData

    class DuckDBArrowData(PyArrowData):
        @classmethod
        def convert_column(cls, column: Any, dtype: Any) -> Any:
            return pa.nulls(len(column)) if dtype.is_null() else super().convert_column(column, dtype)

    return DuckDBArrowData
