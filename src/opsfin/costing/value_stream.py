"""Value streams: lead time, value-added time, waiting, process cycle efficiency and the cost of the
non-value-added steps, by product family or product (docs/value-streams.md).

Pure functions of the warehouse tables (`Tables` on DuckDB or Spark, or a DuckDB connection; the reads are
Ibis expressions in reads.py); they return Polars tables. The operations are summed on Polars frames; a float
sum depends on the order it adds in, so minutes and units are added one row after the other in operation_id
(or order_id) order, as a loop would (`_in_order`), and only the few groups are handled in Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.frames import ColumnTypes
from ..core.money import round_per_unit
from ..core.periods import range_error
from ..errors import UserError
from . import reads
from .conversion import money
from .order_costs import MONEY, ZERO, order_costs_with_assignments
from .reads import costing_tables

GROUPS = {"family": "family", "product": "product_id"}
MINUTES = ("run_minutes", "setup_minutes", "wait_minutes")


def _group_key(by: str) -> str:
    if by not in GROUPS:
        raise UserError(f"value streams group by {' or '.join(GROUPS)}", param="by", value=by)
    return GROUPS[by]


def _in_order(value: pl.Expr) -> pl.Expr:
    """Σ `value` over a group, added one row after the other in row order from 0.0 (a running total's last
    value; `+ 0.0` as a loop starting at 0.0 never ends at -0.0)."""
    return value.cum_sum().last() + 0.0


def _inputs(t: Any, key: str, start: dt.date | None, end: dt.date | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The orders completed in [start, end] with their actual cost, and their operations (routing step, minutes,
    value added) with the order's group `key` and the conversion cost assigned to each (`cents`), in
    operation_id order."""
    if start is not None and end is not None and start > end:
        raise range_error(start, end)
    t = costing_tables(t)
    orders, parts = order_costs_with_assignments(t, start, end or dt.date.max, unit_cost=False)
    selected = reads.order_selection(t, start, end or dt.date.max, completed_only=True)
    ops = reads.routed_operations(t, selected) if orders.height else pl.DataFrame(schema=reads.ROUTED_COLUMNS)
    per_op = parts.group_by("operation_id").agg(pl.col("cents").sum())
    ops = ops.join(per_op, on="operation_id", how="left", maintain_order="left")
    ops = ops.join(orders.select("order_id", key), on="order_id", how="left", maintain_order="left")
    return orders, ops.with_columns(pl.col("cents").fill_null(0))


def _units(orders: pl.DataFrame, key: str) -> dict[Any, float]:
    """Good units per group, added order after order (order_id order)."""
    sums = orders.group_by(key).agg(_in_order(pl.col("qty_good").fill_null(0.0)))
    return dict(sums.iter_rows())


def value_stream_steps(
    t: Any,
    by: str = "family",
    start: dt.date | None = None,
    end: dt.date | None = None,
    value_added: bool | None = False,
) -> pl.DataFrame:
    """Routing steps of the orders completed in [start, end], per group, largest conversion cost first:
    <group>, step, work_center_id, value_added, operations, run_hours, setup_hours, wait_hours, cost.
    `value_added=False` (default) keeps only the non-value-added steps; None keeps all.
    `t`: warehouse Tables (or a DuckDB connection)."""
    key = _group_key(by)
    orders, ops = _inputs(t, key, start, end)
    return _steps(key, orders, ops, value_added)


def _steps(key: str, orders: pl.DataFrame, ops: pl.DataFrame, value_added: bool | None) -> pl.DataFrame:
    """`value_stream_steps` of inputs already read (`_inputs`)."""
    units = _units(orders, key)
    if value_added is not None:
        ops = ops.filter(pl.col("value_added") == value_added)
    # groups in the order their first operation comes (a stable sort keeps it among equal keys)
    sums = ops.group_by([key, "step", "work_center_id", "value_added"], maintain_order=True).agg(
        pl.len().alias("operations"), *[_in_order(pl.col(m)) for m in MINUTES], pl.col("cents").sum()
    )
    rows = [
        {
            key: g,
            "step": step,
            "work_center_id": wc,
            "value_added": va,
            "operations": n,
            "run_hours": run / 60,
            "setup_hours": setup / 60,
            "wait_hours": wait / 60,
            "cost": money(c),
            "cost_per_unit": round_per_unit(money(c) / Decimal(str(units[g]))) if units.get(g) else None,
        }
        for g, step, wc, va, n, run, setup, wait, c in sums.iter_rows()
    ]
    rows.sort(key=lambda r: (-r["cost"], str(r[key]), r["step"]))
    schema: ColumnTypes = {
        key: pl.Utf8,
        "step": pl.Int64,
        "work_center_id": pl.Utf8,
        "value_added": pl.Boolean,
        "operations": pl.Int64,
        "run_hours": pl.Float64,
        "setup_hours": pl.Float64,
        "wait_hours": pl.Float64,
        "cost": MONEY,
        "cost_per_unit": pl.Decimal(18, 4),
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _per_group(key: str, orders: pl.DataFrame, ops: pl.DataFrame) -> pl.DataFrame:
    """Per group: orders, units, and lead / value-added / wait / setup minutes summed order after order (each
    order's own minutes summed operation after operation first), and the actual full cost."""
    va = pl.when(pl.col("value_added")).then(pl.col("run_minutes")).otherwise(0.0)
    per_order = ops.group_by("order_id").agg(
        _in_order(va).alias("va"),
        _in_order(pl.col("wait_minutes")).alias("wait"),
        _in_order(pl.col("setup_minutes")).alias("setup"),
    )
    # minutes as timedelta.total_seconds() / 60 gives them (Polars divides a column by a number through its
    # reciprocal, which can differ in the last bit)
    lead = [
        (done - released).total_seconds() / 60
        for done, released in zip(orders["completed_at"].to_list(), orders["released_at"].to_list(), strict=True)
    ]
    frame = orders.select("order_id", key, "qty_good", "total_cost").with_columns(
        lead=pl.Series(lead, dtype=pl.Float64)
    )
    frame = frame.join(per_order, on="order_id", how="left", maintain_order="left")
    frame = frame.with_columns(pl.col("va", "wait", "setup").fill_null(0.0), pl.col("qty_good").fill_null(0.0))
    return frame.group_by(key).agg(
        pl.len().alias("orders"),
        _in_order(pl.col("qty_good")).alias("units"),
        *[_in_order(pl.col(c)).alias(c) for c in ("lead", "va", "wait", "setup")],
        pl.col("total_cost").sum().alias("cost"),
    )


def value_stream(t: Any, by: str = "family", start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Per family or product, over the orders completed in [start, end]:
    orders, units, lead_time_hours / value_added_hours / wait_hours / setup_hours (means per order),
    pce = Σ value-added time / Σ lead time, cost_per_unit (actual full cost / good units), nva_cost (conversion
    cost of the non-value-added steps) and the largest non-value-added step with its cost.
    `t`: warehouse Tables (or a DuckDB connection)."""
    key = _group_key(by)
    orders, ops = _inputs(t, key, start, end)
    groups = _per_group(key, orders, ops).rows(named=True) if orders.height else []
    steps = _steps(key, orders, ops, False) if groups else None
    rows = []
    for a in sorted(groups, key=lambda a: str(a[key])):
        g, n = a[key], a["orders"]
        mine = steps.filter(pl.col(key) == g) if steps is not None else None
        top = mine.row(0, named=True) if mine is not None and mine.height else None
        rows.append(
            {
                key: g,
                "orders": n,
                "units": a["units"],
                "lead_time_hours": a["lead"] / n / 60,
                "value_added_hours": a["va"] / n / 60,
                "wait_hours": a["wait"] / n / 60,
                "setup_hours": a["setup"] / n / 60,
                "pce": a["va"] / a["lead"] if a["lead"] else None,
                "cost_per_unit": round_per_unit(a["cost"] / Decimal(str(a["units"]))) if a["units"] else None,
                "nva_cost": sum(mine["cost"].to_list(), ZERO) if mine is not None else ZERO,
                "largest_nva_step": f"{top['step']} {top['work_center_id']}" if top else None,
                "largest_nva_cost": top["cost"] if top else None,
            }
        )
    schema: ColumnTypes = {
        key: pl.Utf8,
        "orders": pl.Int64,
        "units": pl.Float64,
        "lead_time_hours": pl.Float64,
        "value_added_hours": pl.Float64,
        "wait_hours": pl.Float64,
        "setup_hours": pl.Float64,
        "pce": pl.Float64,
        "cost_per_unit": pl.Decimal(18, 4),
        "nva_cost": MONEY,
        "largest_nva_step": pl.Utf8,
        "largest_nva_cost": MONEY,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
