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
from collections import defaultdict
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.frames import ColumnTypes
from ..core.money import round_cents, round_per_unit, split_cents, timesheet_pay
from . import reads
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
    t = costing_tables(t)
    carriers = _Carriers(reads.operations(t, months))
    book = _Assignments(carriers)
    _assign_labor(reads.labor_rows(t, months), carriers, book)
    # GL pools of production cost centres
    gl = {(r["cost_center_id"], r["month"], r["role"]): r["amount"] for r in reads.gl_pools(t, months)}
    _assign_energy(reads.machine_kwh(t, months), gl, carriers, book)
    _assign_overheads(gl, carriers, book)
    return book.assignments, book.pools


class _Carriers:
    """The operations of the months, by the work centre, cost centre and machine of each month."""

    def __init__(self, ops: list[dict[str, Any]]) -> None:
        self.by_wc: dict[tuple, list] = defaultdict(list)
        self.by_cc: dict[tuple, list] = defaultdict(list)
        self.by_machine: dict[tuple, list] = defaultdict(list)
        self.order_of: dict[Any, tuple] = {}  # operation_id -> (order_id, month)
        for o in ops:
            self.by_wc[(o["work_center_id"], o["month"])].append(o)
            self.by_cc[(o["cost_center_id"], o["month"])].append(o)
            if o["machine_id"] is not None:
                self.by_machine[(o["machine_id"], o["month"])].append(o)
            self.order_of[o["operation_id"]] = (o["order_id"], o["month"])


class _Assignments:
    """The pools and their assignments to operations, in the order they are made."""

    def __init__(self, carriers: _Carriers) -> None:
        self.carriers = carriers
        self.assignments: list[dict[str, Any]] = []
        self.pools: list[dict[str, Any]] = []

    def add(
        self,
        component: str,
        month: dt.date,
        pool_type: str,
        pool_id: Any,
        amount: Decimal,
        parts: dict,
        basis: str,
    ) -> None:
        assigned = sum(parts.values(), ZERO)
        self.pools.append(
            {
                "month": month,
                "component": component,
                "pool_type": pool_type,
                "pool_id": pool_id,
                "amount": amount,
                "assigned": assigned,
                "unassigned": amount - assigned,
                "basis": basis,
            }
        )
        for op_id, amt in parts.items():
            order_id, m = self.carriers.order_of[op_id]
            self.assignments.append(
                {
                    "operation_id": op_id,
                    "order_id": order_id,
                    "month": m,
                    "component": component,
                    "amount": amt,
                }
            )


def _assign_labor(labor_rows: list[dict[str, Any]], carriers: _Carriers, book: _Assignments) -> None:
    """Timesheets booked to each work centre → its operations by labor minutes (run minutes if none)."""
    labor: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for r in labor_rows:  # timesheet rows alike, `n` of them: each pays the same
        labor[(r["work_center_id"], r["month"])] += (
            pay(r["regular_hours"], r["overtime_hours"], r["hourly_rate"], r["overtime_multiplier"]) * r["n"]
        )
    for (wc, month), amount in sorted(labor.items()):
        ops = carriers.by_wc.get((wc, month), [])
        parts = allocate(amount, [(o["operation_id"], o["labor_minutes"]) for o in ops])
        basis = "labor_minutes"
        if not parts:
            parts, basis = (
                allocate(amount, [(o["operation_id"], o["run_minutes"]) for o in ops]),
                "run_minutes",
            )
        book.add("labor", month, "work_center", wc, amount, parts, basis if parts else "none")


def _assign_energy(
    kwh_rows: list[dict[str, Any]],
    gl: dict[tuple, Decimal],
    carriers: _Carriers,
    book: _Assignments,
) -> None:
    """The energy bill of each cost centre → its machines by kWh → their operations by run minutes; with no
    bill, each machine's kWh × the site's standard price. An idle machine's share goes to the cost
    centre's operations."""
    cc_kwh: dict[tuple, list] = defaultdict(list)
    for r in kwh_rows:
        cc_kwh[(r["cost_center_id"], r["month"])].append(r)
    billed_ccs = {(cc, m) for (cc, m, role) in gl if role == "energy"}
    for cc, month in sorted(set(cc_kwh) | billed_ccs):
        machines = cc_kwh.get((cc, month), [])
        if (cc, month) in billed_ccs:
            bill = gl[(cc, month, "energy")]
            machine_cost = allocate(bill, [(r["machine_id"], r["kwh"]) for r in machines])
            left = bill - sum(machine_cost.values(), ZERO)
            basis = "bill/kwh"
        else:  # no bill: kWh × the site's standard price
            machine_cost = {r["machine_id"]: cents(Decimal(str(r["kwh"])) * r["std_energy_price"]) for r in machines}
            left = ZERO
            basis = "std_price"
        parts: dict[str, Decimal] = {}
        for m_id, cost in machine_cost.items():
            got = allocate(
                cost,
                [(o["operation_id"], o["run_minutes"]) for o in carriers.by_machine.get((m_id, month), [])],
            )
            if not got:  # machine idle all month: its energy goes to the cost centre's operations
                left += cost
            parts.update(got)
        if left:
            extra = allocate(
                left,
                [(o["operation_id"], o["run_minutes"]) for o in carriers.by_cc.get((cc, month), [])],
            )
            for k, v in extra.items():
                parts[k] = parts.get(k, ZERO) + v
        total = bill if basis == "bill/kwh" else sum(machine_cost.values(), ZERO)
        book.add("energy", month, "cost_center", cc, total, parts, basis)


def _assign_overheads(gl: dict[tuple, Decimal], carriers: _Carriers, book: _Assignments) -> None:
    """Variable / fixed overhead of each production cost centre → its operations by run minutes (machine
    hours)."""
    for (cc, month, role), amount in sorted(gl.items()):
        if role == "energy":
            continue
        parts = allocate(
            amount,
            [(o["operation_id"], o["run_minutes"]) for o in carriers.by_cc.get((cc, month), [])],
        )
        book.add(role, month, "cost_center", cc, amount, parts, "run_minutes" if parts else "none")


def order_costs(t: Any, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Actual cost per production order. With `start`/`end`, only orders completed in [start, end];
    without either, every order (open ones carry the cost assigned so far). `t`: warehouse Tables (or a
    DuckDB connection).

    Columns: order_id, site_id, product_id, family, status, released_at, completed_at, completion_shift_id,
    qty_good, material, labor, energy, variable_overhead, fixed_overhead, total_cost, unit_cost."""
    return order_costs_with_assignments(costing_tables(t), start, end)[0]


def order_costs_with_assignments(
    t: Any, start: dt.date | None, end: dt.date | None
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """`order_costs` and the conversion assignments of the months it needed (see `assign_conversion`)."""
    t = costing_tables(t)
    completed_only = start is not None or end is not None
    selected = reads.order_selection(t, start, end, completed_only)
    orders = reads.orders(t, selected)
    ids = {o["order_id"] for o in orders}
    # months in which these orders have operations: only those pools are needed
    months = reads.operation_months(t, selected) if completed_only else None
    assignments, _ = assign_conversion(t, months)
    cost: dict[str, dict[str, Decimal]] = {i: dict.fromkeys(COMPONENTS, ZERO) for i in ids}
    for a in assignments:
        if a["order_id"] in cost:
            cost[a["order_id"]][a["component"]] += a["amount"]
    for r in reads.material_issues(t, selected):  # issue lines alike, `n` of them: each costs the same
        cost[r["order_id"]]["material"] += cents(Decimal(str(-r["qty"])) * r["std_unit_cost"]) * r["n"]
    rows = []
    for o in orders:
        c = cost[o["order_id"]]
        total = sum(c.values(), ZERO)
        q = o["qty_good"] or 0.0
        unit = round_per_unit(total / Decimal(str(q))) if q else None
        rows.append({**o, **c, "total_cost": total, "unit_cost": unit})
    frame = pl.DataFrame(rows, schema=ORDER_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ORDER_SCHEMA)
    return frame, assignments


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
    _, pools = assign_conversion(t, months)
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
    assignments, _ = assign_conversion(t, months)
    per: dict[str, dict[str, Any]] = {}
    for a in assignments:
        row = per.setdefault(
            a["operation_id"],
            {
                "operation_id": a["operation_id"],
                "order_id": a["order_id"],
                "month": a["month"],
                **dict.fromkeys(CONVERSION, ZERO),
            },
        )
        row[a["component"]] += a["amount"]
    schema: ColumnTypes = {
        "operation_id": pl.Utf8,
        "order_id": pl.Utf8,
        "month": pl.Date,
        **{c: MONEY for c in CONVERSION},
    }
    rows = sorted(per.values(), key=lambda r: r["operation_id"])
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
