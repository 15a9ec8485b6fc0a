"""Actual cost of every production order (docs/unit-economics.md).

Pure functions of the warehouse tables (read through a DuckDB connection) returning Polars tables.

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
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import duckdb
import polars as pl

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
COMPONENTS = ("material", "labor", "energy", "variable_overhead", "fixed_overhead")
CONVERSION = ("labor", "energy", "variable_overhead", "fixed_overhead")
MONEY = pl.Decimal(18, 2)


def cents(x: Decimal) -> Decimal:
    """Round half-even to the cent."""
    return x.quantize(CENT, rounding=ROUND_HALF_EVEN)


def allocate(amount: Decimal, keys: list[tuple[Any, float]]) -> dict[Any, Decimal]:
    """Split `amount` (whole cents) over `keys` [(id, weight)] in proportion to the weights, to the cent,
    by largest remainder (ties: the order of `keys`). Weights ≤ 0 get nothing. Empty if Σ weight = 0."""
    pos = [(k, Fraction(w)) for k, w in keys if w is not None and w > 0]
    total = sum((w for _, w in pos), Fraction(0))
    if not pos or total == 0:
        return {}
    sign = -1 if amount < 0 else 1
    units = int((abs(amount) * 100).to_integral_value())
    shares = []
    for i, (k, w) in enumerate(pos):
        exact = units * w / total
        floor = exact.numerator // exact.denominator
        shares.append([k, floor, exact - floor, i])
    left = units - sum(s[1] for s in shares)
    for s in sorted(shares, key=lambda s: (-s[2], s[3]))[:left]:
        s[1] += 1
    return {k: Decimal(sign * n) / 100 for k, n, _, _ in shares}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


# ------------------------------------------------------------------------------------------------ inputs
_OPS_SQL = """
SELECT o.operation_id, o.order_id, o.step, o.work_center_id, o.machine_id, o.shift_id,
       date_trunc('month', o.end_at)::DATE AS month, w.cost_center_id,
       coalesce(o.run_minutes, 0) AS run_minutes, coalesce(o.labor_minutes, 0) AS labor_minutes
FROM operations o JOIN work_centers w ON w.work_center_id = o.work_center_id
WHERE o.end_at IS NOT NULL {where}
ORDER BY o.operation_id
"""

# GL actual cost of a role per cost centre and month, clearing journals (those touching inventory_wip) excluded.
_GL_POOL_SQL = """
SELECT g.cost_center_id, date_trunc('month', g.posting_date)::DATE AS month, a.role, sum(g.amount) AS amount
FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
JOIN cost_centers c ON c.cost_center_id = g.cost_center_id
WHERE a.role IN ('energy', 'variable_overhead', 'fixed_overhead') AND c.kind = 'production'
  AND g.journal_id NOT IN (SELECT g2.journal_id FROM gl_entries g2 JOIN accounts a2 ON a2.account_id = g2.account_id
                           WHERE a2.role = 'inventory_wip')
  {where}
GROUP BY ALL ORDER BY ALL
"""

_LABOR_SQL = """
SELECT t.work_center_id, date_trunc('month', t.work_date)::DATE AS month,
       coalesce(t.regular_hours, 0) AS regular_hours, coalesce(t.overtime_hours, 0) AS overtime_hours,
       e.hourly_rate, coalesce(e.overtime_multiplier, 1.0) AS overtime_multiplier
FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id
WHERE t.work_center_id IS NOT NULL {where}
"""

_KWH_SQL = """
SELECT r.machine_id, m.work_center_id, w.cost_center_id, s.std_energy_price,
       date_trunc('month', r.hour_start)::DATE AS month, sum(coalesce(r.kwh, 0)) AS kwh
FROM machine_readings r JOIN machines m ON m.machine_id = r.machine_id
JOIN work_centers w ON w.work_center_id = m.work_center_id JOIN sites s ON s.site_id = w.site_id
WHERE TRUE {where}
GROUP BY ALL ORDER BY r.machine_id, month
"""


def _month_filter(col: str, months: list[dt.date] | None) -> tuple[str, list]:
    if months is None:
        return "", []
    if not months:
        return "AND FALSE", []
    return f"AND date_trunc('month', {col})::DATE IN ({', '.join('?' for _ in months)})", list(months)


def pay(regular_hours: float, overtime_hours: float, rate: Decimal, multiplier: float) -> Decimal:
    """Pay of one timesheet row, rounded half-even (docs/demo-company.md rounding)."""
    r = Decimal(str(regular_hours)) * rate + Decimal(str(overtime_hours)) * rate * Decimal(str(multiplier))
    return cents(r)


# ------------------------------------------------------------------------------------------------ engine
def assign_conversion(con: duckdb.DuckDBPyConnection, months: list[dt.date] | None = None
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Assign the actual conversion pools of `months` (all months if None) to operations.

    Returns (assignments, pools): assignments are {operation_id, order_id, month, component, amount};
    pools are {month, component, pool_type, pool_id, amount, assigned, unassigned, basis}."""
    w, p = _month_filter("o.end_at", months)
    ops = _rows(con, _OPS_SQL.format(where=w), p)
    by_wc: dict[tuple, list] = defaultdict(list)
    by_cc: dict[tuple, list] = defaultdict(list)
    by_machine: dict[tuple, list] = defaultdict(list)
    op_order = {}
    for o in ops:
        by_wc[(o["work_center_id"], o["month"])].append(o)
        by_cc[(o["cost_center_id"], o["month"])].append(o)
        if o["machine_id"] is not None:
            by_machine[(o["machine_id"], o["month"])].append(o)
        op_order[o["operation_id"]] = (o["order_id"], o["month"])

    out: list[dict[str, Any]] = []
    pools: list[dict[str, Any]] = []

    def emit(component, month, pool_type, pool_id, amount, parts: dict, basis: str) -> None:
        assigned = sum(parts.values(), ZERO)
        pools.append({"month": month, "component": component, "pool_type": pool_type, "pool_id": pool_id,
                      "amount": amount, "assigned": assigned, "unassigned": amount - assigned, "basis": basis})
        for op_id, amt in parts.items():
            order_id, m = op_order[op_id]
            out.append({"operation_id": op_id, "order_id": order_id, "month": m, "component": component,
                        "amount": amt})

    # labor: timesheets booked to each work centre → its operations by labor minutes (run minutes if none)
    w, p = _month_filter("t.work_date", months)
    labor: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for r in _rows(con, _LABOR_SQL.format(where=w), p):
        labor[(r["work_center_id"], r["month"])] += pay(r["regular_hours"], r["overtime_hours"], r["hourly_rate"],
                                                        r["overtime_multiplier"])
    for (wc, month), amount in sorted(labor.items()):
        carriers = by_wc.get((wc, month), [])
        parts = allocate(amount, [(o["operation_id"], o["labor_minutes"]) for o in carriers])
        basis = "labor_minutes"
        if not parts:
            parts, basis = allocate(amount, [(o["operation_id"], o["run_minutes"]) for o in carriers]), "run_minutes"
        emit("labor", month, "work_center", wc, amount, parts, basis if parts else "none")

    # GL pools of production cost centres
    w, p = _month_filter("g.posting_date", months)
    gl = {(r["cost_center_id"], r["month"], r["role"]): r["amount"] for r in _rows(con, _GL_POOL_SQL.format(where=w), p)}

    # energy: bill of the cost centre → machines by kWh → operations by run minutes
    w, p = _month_filter("r.hour_start", months)
    kwh_rows = _rows(con, _KWH_SQL.format(where=w), p)
    cc_kwh: dict[tuple, list] = defaultdict(list)
    for r in kwh_rows:
        cc_kwh[(r["cost_center_id"], r["month"])].append(r)
    billed_ccs = {(cc, m) for (cc, m, role) in gl if role == "energy"}
    for (cc, month) in sorted(set(cc_kwh) | billed_ccs):
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
            got = allocate(cost, [(o["operation_id"], o["run_minutes"]) for o in by_machine.get((m_id, month), [])])
            if not got:  # machine idle all month: its energy goes to the cost centre's operations
                left += cost
            parts.update(got)
        if left:
            extra = allocate(left, [(o["operation_id"], o["run_minutes"]) for o in by_cc.get((cc, month), [])])
            for k, v in extra.items():
                parts[k] = parts.get(k, ZERO) + v
        total = bill if basis == "bill/kwh" else sum(machine_cost.values(), ZERO)
        emit("energy", month, "cost_center", cc, total, parts, basis)

    # variable / fixed overhead: production cost centre → operations by run minutes (machine hours)
    for (cc, month, role), amount in sorted(gl.items()):
        if role == "energy":
            continue
        parts = allocate(amount, [(o["operation_id"], o["run_minutes"]) for o in by_cc.get((cc, month), [])])
        emit(role, month, "cost_center", cc, amount, parts, "run_minutes" if parts else "none")
    return out, pools


_ORDERS_SQL = """
SELECT o.order_id, o.site_id, o.product_id, p.family, o.status, o.released_at, o.completed_at,
       coalesce((SELECT sum(m.qty) FROM inventory_movements m WHERE m.kind = 'production' AND m.ref_doc = o.order_id),
                (SELECT op.qty_good FROM operations op WHERE op.order_id = o.order_id ORDER BY op.step DESC LIMIT 1))
         AS qty_good,
       (SELECT op.shift_id FROM operations op WHERE op.order_id = o.order_id ORDER BY op.step DESC, op.end_at DESC
        LIMIT 1) AS completion_shift_id
FROM production_orders o LEFT JOIN products p ON p.product_id = o.product_id
WHERE TRUE {where}
ORDER BY o.order_id
"""

_MATERIAL_SQL = """
SELECT m.ref_doc AS order_id, m.qty, p.std_unit_cost
FROM inventory_movements m JOIN products p ON p.product_id = m.product_id
WHERE m.kind = 'issue' AND m.ref_doc IN (SELECT order_id FROM production_orders o WHERE TRUE {where})
"""


def _order_filter(start: dt.date | None, end: dt.date | None, completed_only: bool) -> tuple[str, list]:
    parts, params = [], []
    if completed_only:
        parts.append("o.completed_at IS NOT NULL")
    if start is not None:
        parts.append("o.completed_at::DATE >= ?")
        params.append(start)
    if end is not None:
        parts.append("o.completed_at::DATE <= ?")
        params.append(end)
    return "".join(f" AND {x}" for x in parts), params


def order_costs(con: duckdb.DuckDBPyConnection, start: dt.date | None = None, end: dt.date | None = None
                ) -> pl.DataFrame:
    """Actual cost per production order. With `start`/`end`, only orders completed in [start, end];
    without either, every order (open ones carry the cost assigned so far).

    Columns: order_id, site_id, product_id, family, status, released_at, completed_at, completion_shift_id,
    qty_good, material, labor, energy, variable_overhead, fixed_overhead, total_cost, unit_cost."""
    where, params = _order_filter(start, end, completed_only=start is not None or end is not None)
    orders = _rows(con, _ORDERS_SQL.format(where=where), params)
    ids = {o["order_id"] for o in orders}
    # months in which these orders have operations: only those pools are needed
    months = None
    if start is not None or end is not None:
        months = [r[0] for r in con.execute(
            f"SELECT DISTINCT date_trunc('month', op.end_at)::DATE FROM operations op WHERE op.end_at IS NOT NULL "
            f"AND op.order_id IN (SELECT order_id FROM production_orders o WHERE TRUE {where}) ORDER BY 1",
            params).fetchall()]
    assignments, _ = assign_conversion(con, months)
    cost: dict[str, dict[str, Decimal]] = {i: dict.fromkeys(COMPONENTS, ZERO) for i in ids}
    for a in assignments:
        if a["order_id"] in cost:
            cost[a["order_id"]][a["component"]] += a["amount"]
    for r in _rows(con, _MATERIAL_SQL.format(where=where), params):
        cost[r["order_id"]]["material"] += cents(Decimal(str(-r["qty"])) * r["std_unit_cost"])
    rows = []
    for o in orders:
        c = cost[o["order_id"]]
        total = sum(c.values(), ZERO)
        q = o["qty_good"] or 0.0
        unit = (total / Decimal(str(q))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN) if q else None
        rows.append({**o, **c, "total_cost": total, "unit_cost": unit})
    return pl.DataFrame(rows, schema=ORDER_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ORDER_SCHEMA)


ORDER_SCHEMA = {
    "order_id": pl.Utf8, "site_id": pl.Utf8, "product_id": pl.Utf8, "family": pl.Utf8, "status": pl.Utf8,
    "released_at": pl.Datetime, "completed_at": pl.Datetime, "qty_good": pl.Float64,
    "completion_shift_id": pl.Utf8,
    **{c: MONEY for c in COMPONENTS}, "total_cost": MONEY, "unit_cost": pl.Decimal(18, 4),
}


def cost_pools(con: duckdb.DuckDBPyConnection, months: list[dt.date] | None = None) -> pl.DataFrame:
    """The actual conversion pools of each month and how much of each was assigned to operations."""
    _, pools = assign_conversion(con, months)
    schema = {"month": pl.Date, "component": pl.Utf8, "pool_type": pl.Utf8, "pool_id": pl.Utf8, "amount": MONEY,
              "assigned": MONEY, "unassigned": MONEY, "basis": pl.Utf8}
    return pl.DataFrame(pools, schema=schema, orient="row") if pools else pl.DataFrame(schema=schema)


def operation_costs(con: duckdb.DuckDBPyConnection, months: list[dt.date] | None = None) -> pl.DataFrame:
    """Conversion cost assigned to each operation: operation_id, order_id, month, labor, energy, overheads."""
    assignments, _ = assign_conversion(con, months)
    per: dict[str, dict[str, Any]] = {}
    for a in assignments:
        row = per.setdefault(a["operation_id"], {"operation_id": a["operation_id"], "order_id": a["order_id"],
                                                 "month": a["month"], **dict.fromkeys(CONVERSION, ZERO)})
        row[a["component"]] += a["amount"]
    schema = {"operation_id": pl.Utf8, "order_id": pl.Utf8, "month": pl.Date, **{c: MONEY for c in CONVERSION}}
    rows = sorted(per.values(), key=lambda r: r["operation_id"])
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
