"""The costing engines on a workspace: activity-based costing (docs/abc.md) and service cost
allocations (docs/allocations.md) read `model/activities.yaml` / `model/allocations.yaml` and the
warehouse, and an allocation run's journals are posted here: the engine (opsfin.costing.allocations)
returns the balanced journal rows, this module writes them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pyarrow as pa

from .. import warehouse
from ..canonical import table
from ..core.periods import parse_day, parse_month, range_error
from ..costing.abc import OBJECTS, VIEWS, abc_inputs, run_abc
from ..costing.allocations import (
    ALLOC_PREFIX,
    ALLOCATION_VIEWS,
    AllocationResult,
    allocation_inputs,
    journal_rows,
    month_bounds,
    run_allocation,
)
from ..costing.costing_config import METHODS
from ..costing.reads import costing_tables
from ..errors import UserError
from .model import load_abc_config, load_allocation_config

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def abc_result(
    ws: WorkspaceFolder,
    obj: str = "product",
    start: Any = None,
    end: Any = None,
    view: str = "objects",
    engine: str | None = None,
) -> pl.DataFrame:
    """ABC against traditional costing on a workspace: read config and warehouse (Ibis `Tables` on
    `engine`: DuckDB by default, or Spark), run, pick the view."""
    if obj not in OBJECTS:
        raise UserError(f"--object {obj!r}: use product or customer")
    if view not in VIEWS:
        raise UserError(f"use {', '.join(VIEWS)}", param="view", value=view)
    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise range_error(lo, hi)
    config = load_abc_config(ws.model_dir)
    with ws.engine_tables(engine) as t:
        inputs = abc_inputs(t, config, lo, hi, ws.settings.base_currency)
    return getattr(run_abc(inputs, config, obj), view)


def allocation_result(
    ws: WorkspaceFolder,
    method: str,
    period: str,
    post: bool = False,
    view: str = "flows",
    actor: str = "python",
    engine: str | None = None,
) -> tuple[pl.DataFrame, AllocationResult, dict[str, Any] | None]:
    """Service cost allocation of one month on a workspace: (chosen view, full result, post status or
    None). A preview reads the warehouse as Ibis `Tables` on `engine` (DuckDB by default, or Spark).
    `post=True` also posts the run's journals (`post_allocation`) and records the post in the audit log
    as `actor`: it reads and writes through one DuckDB connection, so a post is DuckDB only."""
    if method not in METHODS:
        raise UserError(f"--method {method!r}: use {', '.join(METHODS)}")
    if view not in ALLOCATION_VIEWS:
        raise UserError(f"--view {view!r}: use {', '.join(ALLOCATION_VIEWS)}")
    first = parse_month(period, "--period")
    config = load_allocation_config(ws.model_dir)
    status = None
    if not post:
        with ws.engine_tables(engine) as t:
            result = run_allocation(allocation_inputs(t, first, config.roles), config, method)
    else:
        if engine not in (None, "duckdb"):
            raise UserError(f"--post writes through DuckDB; drop --engine {engine} to post")
        with ws.connect(read_only=False) as con:
            tables = costing_tables(con, ws.settings.base_currency)
            result = run_allocation(allocation_inputs(tables, first, config.roles), config, method)
            status = post_allocation(con, result, ws.settings.base_currency)
    if status is not None:
        from .audit_trail import record_write

        record_write(
            ws,
            actor,
            "allocation.post",
            "allocation",
            result.run_id,
            {
                "method": method,
                "period": f"{first:%Y-%m}",
                "journals": status["journals"],
                "entries": status["entries"],
            },
            landed=status["status"] != "posted",  # a killed post's entry
        )
    return (result.flows if view == "flows" else result.summary), result, status


def post_allocation(con: duckdb.DuckDBPyConnection, result: AllocationResult, currency: str) -> dict[str, Any]:
    """Write the run's journals (`journal_rows`: one balanced journal per sender) and a `loads` row, in
    one transaction. Returns {run_id, status: 'posted'|'already posted', journals, entries}. Refused
    into a closed period, and when the month already holds another allocation run."""
    period = result.period
    with warehouse.transaction(con):
        if con.execute("SELECT 1 FROM closed_periods WHERE period = ?", [period]).fetchone():
            raise UserError(
                f"period {period:%Y-%m} is closed; nothing can be posted into it "
                f"(allocation run {result.run_id} not posted)"
            )
        if con.execute("SELECT 1 FROM loads WHERE load_id = ? AND status = 'loaded'", [result.run_id]).fetchone():
            n = con.execute(
                "SELECT count(*), count(DISTINCT journal_id) FROM gl_entries WHERE _load_id = ?",
                [result.run_id],
            ).fetchone()
            return {
                "run_id": result.run_id,
                "status": "already posted",
                "journals": n[1],
                "entries": n[0],
            }  # type: ignore[index]
        lo, hi = month_bounds(period)
        other = con.execute(
            f"SELECT DISTINCT source_doc FROM gl_entries WHERE source_doc LIKE '{ALLOC_PREFIX}%' "
            "AND posting_date >= ? AND posting_date < ? ORDER BY 1",
            [lo, hi],
        ).fetchall()
        if other:
            raise UserError(
                f"period {period:%Y-%m} already holds allocation run {other[0][0]}; "
                f"one allocation run per period (run {result.run_id} not posted)"
            )
        rows = journal_rows(result, currency)
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if rows:
            decl = table("gl_entries")
            warehouse.insert_arrow(con, decl, pa.Table.from_pylist(rows, schema=decl.arrow_schema()))
        decl = table("loads")
        command = f"opsfin allocate --method {result.method} --period {period:%Y-%m}"
        digest = result.run_id.rsplit("-", 1)[-1]
        load = warehouse.written_load(result.run_id, "gl_entries", command, digest, len(rows), started)
        warehouse.insert_arrow(con, decl, pa.Table.from_pylist([load], schema=decl.arrow_schema()))
    return {
        "run_id": result.run_id,
        "status": "posted",
        "journals": len({r["journal_id"] for r in rows}),
        "entries": len(rows),
    }
