"""Activity-based costing and cost-to-serve (docs/abc.md).

Stage 1 (resource drivers): the GL cost of each cost centre a rule of `model/activities.yaml` matches
goes to activity pools, by the centre's timesheet hours per activity or a fixed split.
Stage 2 (activity drivers): each pool goes to products or customers by its driver's quantity.
Beside it, the traditional volume-based figure spreads the same total by units (or revenue, ...).
Every split is exact to the cent (largest remainder), so Σ objects = Σ pools = Σ pooled GL cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb
import polars as pl

from ..errors import UserError
from .allocations import ALLOC_PREFIX
from .costing_config import AbcConfig, split_cents, to_cents

OBJECTS = ("product", "customer")
UNASSIGNED = "(unassigned)"
ZERO = Decimal(0)
MONEY = pl.Decimal(18, 2)

Key = tuple[
    str | None, str | None
]  # (customer_id, product_id); None = not carried by the driver's rows


@dataclass
class AbcInputs:
    start: dt.date | None
    end: dt.date | None
    centres: dict[str, dict[str, Any]]
    cost: dict[
        str, Decimal
    ]  # cost_center_id -> pooled GL amount (configured roles, no allocation journals)
    hours: dict[tuple[str, str], float]  # (cost_center_id, activity_id) -> timesheet hours
    quantities: dict[str, dict[Key, float]]  # driver -> (customer, product) -> quantity
    revenue: dict[Key, Decimal] = field(default_factory=dict)
    cogs: dict[Key, Decimal] = field(default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # object -> id -> name


def _range(col: str, start: dt.date | None, end: dt.date | None, params: list) -> str:
    conds = []
    if start is not None:
        conds.append(f"CAST({col} AS DATE) >= ?")
        params.append(start)
    if end is not None:
        conds.append(f"CAST({col} AS DATE) <= ?")
        params.append(end)
    return " AND ".join(conds) or "TRUE"


def abc_inputs(
    con: duckdb.DuckDBPyConnection,
    config: AbcConfig,
    start: dt.date | None,
    end: dt.date | None,
    base_currency: str = "EUR",
) -> AbcInputs:
    """Read everything the ABC engine needs for [start, end] (inclusive days; None = open)."""

    def q(sql: str, col: str, extra: list | None = None) -> list[tuple]:
        params: list = list(extra or [])
        return con.execute(
            sql.replace("{RANGE}", _range(col, start, end, params)), params
        ).fetchall()

    centres = {
        r[0]: {"cost_center_id": r[0], "kind": r[1], "site_id": r[2], "site_kind": r[3]}
        for r in con.execute(
            "SELECT c.cost_center_id, c.kind, c.site_id, s.kind FROM cost_centers c "
            "LEFT JOIN sites s ON s.site_id = c.site_id ORDER BY 1"
        ).fetchall()
    }
    roles = list(config.roles)
    marks = ", ".join("?" for _ in roles)
    params: list = [*roles]
    rng = _range("g.posting_date", start, end, params)
    cost = {
        cc: Decimal(a)
        for cc, a in con.execute(
            f"""
        SELECT g.cost_center_id, sum(g.amount) FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
        WHERE a.role IN ({marks}) AND g.cost_center_id IS NOT NULL AND g.source_doc NOT LIKE '{ALLOC_PREFIX}%'
          AND {rng} GROUP BY 1""",
            params,
        ).fetchall()
        if a
    }
    hours = {
        (cc, a): float(h)
        for cc, a, h in q(
            "SELECT cost_center_id, activity_id, sum(regular_hours + overtime_hours) FROM timesheets "
            "WHERE activity_id IS NOT NULL AND {RANGE} GROUP BY 1, 2",
            "work_date",
        )
        if h
    }

    quantities: dict[str, dict[Key, float]] = {}

    def put(driver: str, rows: list[tuple]) -> None:
        quantities[driver] = {(c, p): float(v) for c, p, v in rows if v}

    ops = """SELECT NULL, po.product_id, {AGG} FROM operations o JOIN production_orders po ON po.order_id = o.order_id
             WHERE o.end_at IS NOT NULL AND {RANGE} GROUP BY 2"""
    put("machine_hours", q(ops.replace("{AGG}", "sum(o.run_minutes) / 60"), "o.end_at"))
    put("labor_hours", q(ops.replace("{AGG}", "sum(o.labor_minutes) / 60"), "o.end_at"))
    put(
        "setups", q(ops.replace("{AGG}", "count(*) FILTER (WHERE o.setup_minutes > 0)"), "o.end_at")
    )
    put("setup_minutes", q(ops.replace("{AGG}", "sum(o.setup_minutes)"), "o.end_at"))
    put(
        "inspections",
        q(
            """SELECT NULL, po.product_id, count(*) FROM quality_inspections i
        JOIN production_orders po ON po.order_id = i.order_id WHERE {RANGE} GROUP BY 2""",
            "i.inspected_at",
        ),
    )
    put(
        "production_orders",
        q(
            """SELECT NULL, product_id, count(*) FROM production_orders
        WHERE completed_at IS NOT NULL AND {RANGE} GROUP BY 2""",
            "completed_at",
        ),
    )
    put(
        "sales_orders",
        q(
            """SELECT customer_id, product_id, count(*) FROM sales_orders
        WHERE {RANGE} GROUP BY 1, 2""",
            "ordered_date",
        ),
    )
    shipped = """SELECT so.customer_id, so.product_id, {AGG} FROM shipments sh
        JOIN sales_orders so ON so.so_id = sh.so_id AND so.line = sh.line WHERE {RANGE} GROUP BY 1, 2"""
    put("shipments", q(shipped.replace("{AGG}", "count(*)"), "sh.shipped_date"))
    put("units", q(shipped.replace("{AGG}", "sum(sh.qty)"), "sh.shipped_date"))
    put(
        "tickets",
        q(
            """SELECT customer_id, NULL, count(*) FROM support_tickets
        WHERE customer_id IS NOT NULL AND closed_at IS NOT NULL AND {RANGE} GROUP BY 1""",
            "closed_at",
        ),
    )

    # revenue: invoice lines in base currency, converted once per invoice (rounded half-even) and split
    # back to the lines by largest remainder; cogs: qty × standard unit cost rounded half-even per line
    # (document-line rounding, as the GL books it). Both tie to the GL revenue and cogs postings.
    lines = q(
        """SELECT i.invoice_id, i.customer_id, l.product_id, l.amount, l.qty, p.std_unit_cost,
            CASE WHEN i.currency = ? THEN 1 ELSE (SELECT arg_max(f.rate_to_base, f.rate_date) FROM fx_rates f
                 WHERE f.currency = i.currency AND f.rate_date <= i.invoice_date) END
        FROM ar_invoices i JOIN ar_invoice_lines l ON l.invoice_id = i.invoice_id
        JOIN products p ON p.product_id = l.product_id WHERE {RANGE} ORDER BY 1, l.line""",
        "i.invoice_date",
        [base_currency],
    )
    revenue: dict[Key, Decimal] = {}
    cogs: dict[Key, Decimal] = {}
    by_invoice: dict[str, list[tuple]] = {}
    for row in lines:
        by_invoice.setdefault(row[0], []).append(row)
    for inv, rows in by_invoice.items():
        rate = rows[0][6]
        if rate is None:
            raise UserError(
                f"ar_invoices {inv}: no fx_rates row for {rows[0][1]}'s currency on or before its date"
            )
        net = sum((Decimal(r[3]) for r in rows), ZERO)
        base = to_cents(net * Decimal(rate))
        weights = {i: abs(Decimal(r[3])) for i, r in enumerate(rows)}
        if base and sum(weights.values()) and all((Decimal(r[3]) >= 0) == (net >= 0) for r in rows):
            parts = split_cents(base, weights)
        else:
            parts = {i: to_cents(Decimal(r[3]) * Decimal(rate)) for i, r in enumerate(rows)}
        cparts = {
            i: to_cents(Decimal(repr(float(r[4]))) * Decimal(r[5])) for i, r in enumerate(rows)
        }
        for i, r in enumerate(rows):
            k = (r[1], r[2])
            revenue[k] = revenue.get(k, ZERO) + parts[i]
            cogs[k] = cogs.get(k, ZERO) + cparts[i]
    quantities["revenue"] = {k: float(v) for k, v in revenue.items() if v}
    names = {
        "product": dict(con.execute("SELECT product_id, name FROM products").fetchall()),
        "customer": dict(con.execute("SELECT customer_id, name FROM customers").fetchall()),
    }
    return AbcInputs(start, end, centres, cost, hours, quantities, revenue, cogs, names)


# ------------------------------------------------------------------ the engine (pure)


def object_quantities(inputs: AbcInputs, driver: str, obj: str) -> dict[str, Fraction]:
    """Driver quantity per product or customer. Rows that do not carry the object (tickets → product,
    product drivers → customer) are bridged by the units shipped between customers and products in the
    range; what cannot be bridged goes to `(unassigned)`."""
    pos = 1 if obj == "product" else 0
    units = inputs.quantities.get("units", {})
    out: dict[str, Fraction] = {}
    for key, q in inputs.quantities.get(driver, {}).items():
        if q <= 0:
            continue  # credit notes and the like cannot carry cost
        qf = Fraction(q)
        own = key[pos]
        if own is not None:
            out[own] = out.get(own, Fraction(0)) + qf
            continue
        other = 1 - pos
        # shipped units always name both customer and product (sales_orders requires them)
        via = {
            o: Fraction(u)
            for k, u in units.items()
            if (o := k[pos]) is not None and k[other] == key[other] and u > 0
        }
        tot = sum(via.values(), Fraction(0))
        if not tot:
            out[UNASSIGNED] = out.get(UNASSIGNED, Fraction(0)) + qf
            continue
        for o, u in via.items():
            out[o] = out.get(o, Fraction(0)) + qf * u / tot
    return out


@dataclass
class AbcResult:
    object: str
    objects: pl.DataFrame  # object_id, name, revenue, cogs, gross_margin, abc_cost, abc_profit, traditional_cost, traditional_profit, difference
    pools: pl.DataFrame  # cost_center_id, kind, activity_id, resource_driver, amount
    activities: pl.DataFrame  # activity_id, driver, pool, driver_qty, rate
    assignments: pl.DataFrame  # activity_id, object_id, driver_qty, cost


def _assign(total: Decimal, qty: dict[str, Fraction]) -> dict[str, Decimal]:
    if total == 0:
        return {}
    if not qty or sum(qty.values()) == 0:
        return {UNASSIGNED: total}
    return split_cents(total, qty)


def run_abc(inputs: AbcInputs, config: AbcConfig, obj: str) -> AbcResult:
    if obj not in OBJECTS:
        raise UserError(f"--object {obj!r}: use product or customer")
    # stage 1: cost centres -> activities
    pool_rows = []
    pools: dict[str, Decimal] = dict.fromkeys(config.activities, ZERO)
    for cc_id, amount in sorted(inputs.cost.items()):
        cc = inputs.centres.get(cc_id, {"cost_center_id": cc_id, "kind": None, "site_id": None})
        rule = next((r for r in config.resources if r.match.matches(cc)), None)
        if rule is None:
            continue
        if rule.driver == "split":
            parts = split_cents(amount, {a: p for a, p in rule.split})
            how = "split"
        else:
            hrs = {a: Fraction(h) for (c, a), h in inputs.hours.items() if c == cc_id and h > 0}
            unknown = sorted(a for a in hrs if a not in config.activities)
            if unknown:
                raise UserError(
                    f"{config.source}: cost centre {cc_id} books timesheet hours to activity "
                    f"{', '.join(unknown)}, which has no driver under activities:"
                )
            if hrs:
                parts, how = split_cents(amount, hrs), "timesheet_hours"
            elif rule.fallback:
                parts, how = {rule.fallback: to_cents(amount)}, "fallback"
            else:
                raise UserError(
                    f"{config.source}: cost centre {cc_id} has {amount} of cost but no timesheet hours "
                    f"by activity in the range; give its rule a `fallback:` activity"
                )
        for a, amt in parts.items():
            if amt:
                pools[a] += amt
                pool_rows.append(
                    {
                        "cost_center_id": cc_id,
                        "kind": cc.get("kind"),
                        "activity_id": a,
                        "resource_driver": how,
                        "amount": amt,
                    }
                )
    # stage 2: activities -> objects
    abc: dict[str, Decimal] = {}
    act_rows, asg_rows = [], []
    for a, driver in config.activities.items():
        qty = object_quantities(inputs, driver, obj)
        total_q = sum(qty.values(), Fraction(0))
        parts = _assign(pools[a], qty)
        act_rows.append(
            {
                "activity_id": a,
                "driver": driver,
                "pool": pools[a],
                "driver_qty": float(total_q),
                "rate": float(pools[a]) / float(total_q) if total_q else None,
            }
        )
        for o, amt in sorted(parts.items()):
            abc[o] = abc.get(o, ZERO) + amt
            asg_rows.append(
                {"activity_id": a, "object_id": o, "driver_qty": float(qty.get(o, 0)), "cost": amt}
            )
    # traditional: the same total by a volume basis
    total = sum(pools.values(), ZERO)
    trad = _assign(total, object_quantities(inputs, config.traditional, obj))
    pos = 1 if obj == "product" else 0
    rev: dict[str, Decimal] = {}
    cogs: dict[str, Decimal] = {}
    for k, v in inputs.revenue.items():
        o = k[pos] or UNASSIGNED
        rev[o] = rev.get(o, ZERO) + v
    for k, v in inputs.cogs.items():
        o = k[pos] or UNASSIGNED
        cogs[o] = cogs.get(o, ZERO) + v
    ids = sorted(set(abc) | set(trad) | set(rev) | set(cogs), key=lambda o: (o == UNASSIGNED, o))
    names = inputs.names.get(obj, {})
    rows = []
    for o in ids:
        r, c, ac, tc = rev.get(o, ZERO), cogs.get(o, ZERO), abc.get(o, ZERO), trad.get(o, ZERO)
        rows.append(
            {
                "object_id": o,
                "name": names.get(o, ""),
                "revenue": r,
                "cogs": c,
                "gross_margin": r - c,
                "abc_cost": ac,
                "abc_profit": r - c - ac,
                "traditional_cost": tc,
                "traditional_profit": r - c - tc,
                "difference": ac - tc,
            }
        )
    objects = pl.DataFrame(
        rows,
        schema={
            "object_id": pl.Utf8,
            "name": pl.Utf8,
            "revenue": MONEY,
            "cogs": MONEY,
            "gross_margin": MONEY,
            "abc_cost": MONEY,
            "abc_profit": MONEY,
            "traditional_cost": MONEY,
            "traditional_profit": MONEY,
            "difference": MONEY,
        },
    )
    return AbcResult(
        obj,
        objects,
        pl.DataFrame(
            pool_rows,
            schema={
                "cost_center_id": pl.Utf8,
                "kind": pl.Utf8,
                "activity_id": pl.Utf8,
                "resource_driver": pl.Utf8,
                "amount": MONEY,
            },
        ),
        pl.DataFrame(
            act_rows,
            schema={
                "activity_id": pl.Utf8,
                "driver": pl.Utf8,
                "pool": MONEY,
                "driver_qty": pl.Float64,
                "rate": pl.Float64,
            },
        ),
        pl.DataFrame(
            asg_rows,
            schema={
                "activity_id": pl.Utf8,
                "object_id": pl.Utf8,
                "driver_qty": pl.Float64,
                "cost": MONEY,
            },
        ),
    )


VIEWS = ("objects", "pools", "activities", "assignments")
