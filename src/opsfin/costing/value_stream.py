"""Value streams: lead time, value-added time, waiting, process cycle efficiency and the cost of the
non-value-added steps, by product family or product (docs/value-streams.md).

Pure functions of the warehouse tables (`Tables` on DuckDB or Spark, or a DuckDB connection; the reads are
Ibis expressions in reads.py); they return Polars tables."""

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
STEP_COLUMNS = ("operation_id", "order_id", "step", "work_center_id", "value_added", *MINUTES)


def _columns(frame: pl.DataFrame, names: tuple[str, ...]) -> Any:
    """The rows of `frame` as tuples of `names`, read column by column (much faster than row by row)."""
    return zip(*(frame[n].to_list() for n in names), strict=True)


def _group_key(by: str) -> str:
    if by not in GROUPS:
        raise UserError(f"value streams group by {' or '.join(GROUPS)}", param="by", value=by)
    return GROUPS[by]


def _inputs(t: Any, start: dt.date | None, end: dt.date | None) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """The orders completed in [start, end] with their actual cost, their operations (routing step, minutes,
    value added) and the conversion cost assigned to each operation, in cents."""
    if start is not None and end is not None and start > end:
        raise range_error(start, end)
    t = costing_tables(t)
    end = end or dt.date.max
    orders, parts = order_costs_with_assignments(t, start, end)
    selected = reads.order_selection(t, start, end, completed_only=True)
    ops = reads.routed_operations(t, selected) if orders.height else pl.DataFrame(schema=reads.ROUTED_COLUMNS)
    per_op = parts.group_by("operation_id").agg(pl.col("cents").sum())
    return orders, ops, dict(per_op.iter_rows())


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
    orders, ops, op_cents = _inputs(t, start, end)
    return _steps(key, orders, ops, op_cents, value_added)


def _steps(
    key: str,
    orders: pl.DataFrame,
    ops: pl.DataFrame,
    op_cents: dict[str, int],
    value_added: bool | None,
) -> pl.DataFrame:
    """`value_stream_steps` of inputs already read (`_inputs`)."""
    group_of = dict(zip(orders["order_id"].to_list(), orders[key].to_list(), strict=True))
    units: dict[Any, float] = {}
    for g, q in zip(orders[key].to_list(), orders["qty_good"].to_list(), strict=True):
        units[g] = units.get(g, 0.0) + (q or 0.0)
    acc: dict[tuple, dict[str, Any]] = {}
    for op_id, order_id, step, wc, va, run, setup, wait in _columns(ops, STEP_COLUMNS):
        if value_added is not None and bool(va) != value_added:
            continue
        k = (group_of[order_id], step, wc, bool(va))
        a = acc.setdefault(k, {"operations": 0, "run": 0.0, "setup": 0.0, "wait": 0.0, "cents": 0})
        a["operations"] += 1
        a["run"] += run
        a["setup"] += setup
        a["wait"] += wait
        a["cents"] += op_cents.get(op_id, 0)
    rows = [
        {
            key: g,
            "step": step,
            "work_center_id": wc,
            "value_added": va,
            "operations": a["operations"],
            "run_hours": a["run"] / 60,
            "setup_hours": a["setup"] / 60,
            "wait_hours": a["wait"] / 60,
            "cost": money(a["cents"]),
            "cost_per_unit": round_per_unit(money(a["cents"]) / Decimal(str(units[g]))) if units.get(g) else None,
        }
        for (g, step, wc, va), a in acc.items()
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


def value_stream(t: Any, by: str = "family", start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Per family or product, over the orders completed in [start, end]:
    orders, units, lead_time_hours / value_added_hours / wait_hours / setup_hours (means per order),
    pce = Σ value-added time / Σ lead time, cost_per_unit (actual full cost / good units), nva_cost (conversion
    cost of the non-value-added steps) and the largest non-value-added step with its cost.
    `t`: warehouse Tables (or a DuckDB connection)."""
    key = _group_key(by)
    orders, ops, op_cents = _inputs(t, start, end)
    per_order: dict[str, dict[str, float]] = {}
    for order_id, va, run, setup, wait in _columns(ops, ("order_id", "value_added", *MINUTES)):
        p = per_order.setdefault(order_id, {"va": 0.0, "wait": 0.0, "setup": 0.0})
        p["wait"] += wait
        p["setup"] += setup
        if va:
            p["va"] += run
    acc: dict[str, dict[str, Any]] = {}
    for r in orders.select("order_id", key, "qty_good", "completed_at", "released_at", "total_cost").iter_rows(
        named=True
    ):
        a = acc.setdefault(
            r[key],
            {
                "orders": 0,
                "units": 0.0,
                "lead": 0.0,
                "va": 0.0,
                "wait": 0.0,
                "setup": 0.0,
                "cost": ZERO,
            },
        )
        p = per_order.get(r["order_id"], {"va": 0.0, "wait": 0.0, "setup": 0.0})
        a["orders"] += 1
        a["units"] += r["qty_good"] or 0.0
        a["lead"] += (r["completed_at"] - r["released_at"]).total_seconds() / 60
        a["va"] += p["va"]
        a["wait"] += p["wait"]
        a["setup"] += p["setup"]
        a["cost"] += r["total_cost"]
    steps = _steps(key, orders, ops, op_cents, False) if acc else None
    rows = []
    for g, a in sorted(acc.items(), key=lambda kv: str(kv[0])):
        n = a["orders"]
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
