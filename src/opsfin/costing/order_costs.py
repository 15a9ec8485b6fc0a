"""Actual cost of every production order (docs/unit-economics.md).

Pure functions of the warehouse tables (`Tables` on DuckDB or Spark, or a DuckDB connection; the reads are
Ibis expressions in reads.py) returning Polars tables.

- material: issued quantity (inventory_movements kind 'issue', ref_doc = order_id) × standard price,
  rounded half-even per movement line;
- labor: each work centre's actual pay of the month (timesheets booked to it, regular h × rate + overtime
  h × rate × multiplier, rounded per timesheet row) assigned to the operations of that work centre that
  ended in the month, by labor minutes;
- energy: the month's energy bill of a work centre's cost centre (GL role `energy`) split over its
  machines by kWh (machine_readings), then over each machine's operations by run minutes; with no bill,
  the machine's kWh × the site's standard energy price;
- variable and fixed overhead: the month's GL role `variable_overhead` / `fixed_overhead` of each
  production cost centre, assigned to the operations of its work centres by run minutes (machine hours).

Every pool is split to the cent by largest remainder, so Σ assigned = pool exactly. A pool whose month has
no operation to carry it stays `unassigned` (see `cost_pools`). GL rows of journals that also post to
`inventory_wip` (the month-end "conversion applied" clearing journals) are not actual cost and are left out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.frames import ColumnTypes
from ..core.money import round_cents, round_per_unit, split_cents, timesheet_pay
from . import reads
from .conversion import conversion, money
from .reads import costing_tables

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
COMPONENTS = ("material", "labor", "energy", "variable_overhead", "fixed_overhead")
CONVERSION = ("labor", "energy", "variable_overhead", "fixed_overhead")
MONEY = pl.Decimal(18, 2)


cents = round_cents  # half-even to the cent (core/money); unit_economics imports it from here
pay = timesheet_pay  # pay of one timesheet row: the hours as booked, rounded once (core/money)


def allocate(amount: Decimal, keys: list[tuple[Any, float]]) -> dict[Any, Decimal]:
    """Split `amount` over `keys` [(id, weight)] in proportion to the weights, to the cent, by core/money's
    `split_cents` (largest remainder; ties: the larger weight, then the order of `keys`). Weights ≤ 0 (or
    None) get nothing; empty if no weight is positive."""
    positive = [(k, w) for k, w in keys if w is not None and w > 0]
    return split_cents(amount, positive) if positive else {}


# ------------------------------------------------------------------------------------------------ engine
def assign_conversion(t: Any, months: list[dt.date] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Assign the actual conversion pools of `months` (all months if None) to operations.
    `t`: warehouse Tables (or a DuckDB connection).

    Returns (assignments, pools): assignments are {operation_id, order_id, month, component, amount};
    pools are {month, component, pool_type, pool_id, amount, assigned, unassigned, basis}."""
    parts, pools = conversion(costing_tables(t), months)
    assignments = [
        {"operation_id": op, "order_id": order, "month": month, "component": component, "amount": money(c)}
        for component, op, c, order, month in parts.select(
            "component", "operation_id", "cents", "order_id", "month"
        ).iter_rows()
    ]
    return assignments, pools


def order_costs(
    t: Any, start: dt.date | None = None, end: dt.date | None = None, unit_cost: bool = True
) -> pl.DataFrame:
    """Actual cost per production order. With `start`/`end`, only orders completed in [start, end];
    without either, every order (open ones carry the cost assigned so far). `t`: warehouse Tables (or a
    DuckDB connection).

    Columns: order_id, site_id, product_id, family, status, released_at, completed_at, completion_shift_id,
    qty_good, material, labor, energy, variable_overhead, fixed_overhead, total_cost, unit_cost (left empty
    with `unit_cost=False`, for a caller that divides sums itself: one Decimal division per order saved)."""
    return order_costs_with_assignments(costing_tables(t), start, end, unit_cost)[0]


def order_costs_with_assignments(
    t: Any, start: dt.date | None, end: dt.date | None, unit_cost: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`order_costs` and the conversion cost of the months it needed, one row per pool and operation:
    component, operation_id, order_id, month, cents (see `conversion.conversion`)."""
    t = costing_tables(t)
    completed_only = start is not None or end is not None
    selected = reads.order_selection(t, start, end, completed_only)
    orders = reads.orders_frame(t, selected)
    # months in which these orders have operations: only those pools are needed. Every order completed so far
    # has operations in nearly every month: all months then cost less than finding and filtering by them (each
    # month's pools go to that month's operations alone, so the other months change no order's cost)
    every_completed = start is None and end in (None, dt.date.max)
    months = reads.operation_months(t, selected) if completed_only and not every_completed else None
    parts, _ = conversion(t, months)
    return _order_frame(orders, parts, reads.material_issues(t, selected), unit_cost), parts


def _order_frame(orders: pl.DataFrame, parts: pl.DataFrame, issues: pl.DataFrame, unit_cost: bool) -> pl.DataFrame:
    """The orders with their cost by component (conversion `parts` and material `issues`), total and unit cost."""
    conv = parts.group_by("order_id").agg(
        [pl.col("cents").filter(pl.col("component") == c).sum().alias(c) for c in CONVERSION]
    )
    # issue lines alike (same quantity and standard price) cost the same: each shape priced once, × its count
    shapes = issues.select("qty", "std_unit_cost").unique(maintain_order=True)
    priced = shapes.with_columns(
        _cents=pl.Series(
            [
                int(cents(Decimal(str(-q)) * price).scaleb(2))
                for q, price in zip(shapes["qty"].to_list(), shapes["std_unit_cost"].to_list(), strict=True)
            ],
            dtype=pl.Int64,
        )
    )
    material = issues.join(priced, on=["qty", "std_unit_cost"], how="left", nulls_equal=True)
    material = material.group_by("order_id").agg(material=(pl.col("_cents") * pl.col("n")).sum())
    frame = orders.join(material, on="order_id", how="left").join(conv, on="order_id", how="left")
    frame = frame.with_columns(pl.col(c).fill_null(0) for c in COMPONENTS)
    frame = frame.with_columns(total_cost=pl.sum_horizontal(COMPONENTS))
    unit = [
        round_per_unit(Decimal(total).scaleb(-2) / Decimal(str(q))) if q and unit_cost else None
        for total, q in zip(frame["total_cost"].to_list(), frame["qty_good"].to_list(), strict=True)
    ]
    money_columns = [(pl.col(c).cast(pl.Decimal(38, 2)) / 100).cast(MONEY) for c in (*COMPONENTS, "total_cost")]
    frame = frame.with_columns(money_columns).with_columns(unit_cost=pl.Series(unit, dtype=pl.Decimal(18, 4)))
    return frame.select([pl.col(c).cast(dtype) for c, dtype in ORDER_SCHEMA.items()])


ORDER_SCHEMA: ColumnTypes = {
    "order_id": pl.Utf8,
    "site_id": pl.Utf8,
    "product_id": pl.Utf8,
    "family": pl.Utf8,
    "status": pl.Utf8,
    "released_at": pl.Datetime,
    "completed_at": pl.Datetime,
    "qty_good": pl.Float64,
    "completion_shift_id": pl.Utf8,
    **{c: MONEY for c in COMPONENTS},
    "total_cost": MONEY,
    "unit_cost": pl.Decimal(18, 4),
}


def cost_pools(t: Any, months: list[dt.date] | None = None) -> pl.DataFrame:
    """The actual conversion pools of each month and how much of each was assigned to operations."""
    _, pools = conversion(costing_tables(t), months)
    schema: ColumnTypes = {
        "month": pl.Date,
        "component": pl.Utf8,
        "pool_type": pl.Utf8,
        "pool_id": pl.Utf8,
        "amount": MONEY,
        "assigned": MONEY,
        "unassigned": MONEY,
        "basis": pl.Utf8,
    }
    return pl.DataFrame(pools, schema=schema, orient="row") if pools else pl.DataFrame(schema=schema)


def operation_costs(t: Any, months: list[dt.date] | None = None) -> pl.DataFrame:
    """Conversion cost assigned to each operation: operation_id, order_id, month, labor, energy, overheads."""
    parts, _ = conversion(costing_tables(t), months)
    per: dict[str, dict[str, Any]] = {}
    for component, op, c, order, month in parts.select(
        "component", "operation_id", "cents", "order_id", "month"
    ).iter_rows():
        row = per.setdefault(
            op, {"operation_id": op, "order_id": order, "month": month, **dict.fromkeys(CONVERSION, ZERO)}
        )
        row[component] += money(c)
    schema: ColumnTypes = {
        "operation_id": pl.Utf8,
        "order_id": pl.Utf8,
        "month": pl.Date,
        **{c: MONEY for c in CONVERSION},
    }
    rows = sorted(per.values(), key=lambda r: r["operation_id"])
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
