"""Opening the warehouse as Ibis tables on a backend: DuckDB (default) or Spark (the scale path)."""

from __future__ import annotations

from ..errors import UserError
from .engine import Tables


def open_tables(ws, engine: str = "duckdb") -> Tables:
    if engine == "duckdb":
        import ibis

        return Tables(ibis.duckdb.connect(str(ws.warehouse_path), read_only=True), ws.settings.base_currency)
    if engine == "spark":
        from .spark import spark_tables

        return spark_tables(ws)
    raise UserError(f"unknown engine {engine!r}; choose duckdb or spark")
