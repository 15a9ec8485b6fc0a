"""Opening the warehouse as Ibis tables for the engines: DuckDB (default) or Spark (the scale path,
`spark.py`). The engines receive the `Tables` and never open anything themselves (docs/scale.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def reading_tables(ws: WorkspaceFolder, engine: str = "duckdb") -> Iterator[Tables]:
    """`open_tables` for a `with` block: a DuckDB connection is closed at its end (so that the warehouse
    can be opened for writing again in this process)."""
    t = open_tables(ws, engine)
    try:
        yield t
    finally:
        if t.backend.name == "duckdb":
            t.backend.disconnect()


@contextmanager
def warehouse_held(ws: WorkspaceFolder) -> Iterator[None]:
    """One read-only connection to the DuckDB warehouse held open over a block that reads it many times (the web
    overview): the block's connections then share one open database, its catalog and the column blocks it has
    read, instead of opening the file again for each engine call. Nothing is held when the warehouse cannot be
    opened (each call then reports its own error)."""
    try:
        con = ws.connect(read_only=True)
    except Exception:  # noqa: BLE001 - e.g. no warehouse yet, or a writer holds it
        con = None
    try:
        yield
    finally:
        if con is not None:
            con.close()
