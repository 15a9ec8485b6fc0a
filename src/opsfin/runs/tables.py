"""Opening the warehouse as Ibis tables for the engines: DuckDB (default) or Spark (the scale path,
`spark.py`). The engines receive the `Tables` and never open anything themselves (docs/scale.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UserError
from ..kpis.engine import Tables

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

ENGINES = ("duckdb", "spark")


def open_tables(ws: WorkspaceFolder, engine: str = "duckdb") -> Tables:
    """The workspace's warehouse tables on `engine` ("duckdb" or "spark")."""
    if engine == "duckdb":
        import ibis

        return Tables(ibis.duckdb.connect(str(ws.warehouse_path), read_only=True), ws.settings.base_currency)
    if engine == "spark":
        from .spark import spark_tables

        return spark_tables(ws)
    raise UserError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}")
