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

import polars as pl

from ..core.frames import ColumnTypes
from ..errors import UserError
from ..kpis.engine import Tables
from ..kpis.sources import fx_to_base
from .allocations import ALLOC_PREFIX
from .costing_config import AbcConfig, split_cents, to_cents
from .reads import (
    MONEY_SUM_T,
    MONEY_T,
    PRICE_T,
    RATE_T,
    cost_centres,
    costing_tables,
    fetch,
    in_range,
)

OBJECTS = ("product", "customer")
UNASSIGNED = "(unassigned)"
ZERO = Decimal(0)
MONEY = pl.Decimal(18, 2)

Key = tuple[str | None, str | None]  # (customer_id, product_id); None = not carried by the driver's rows


@dataclass
class AbcInputs:
    start: dt.date | None
    end: dt.date | None
    centres: dict[str, dict[str, Any]]
    cost: dict[str, Decimal]  # cost_center_id -> pooled GL amount (configured roles, no allocation journals)
    hours: dict[tuple[str, str], float]  # (cost_center_id, activity_id) -> timesheet hours
    quantities: dict[str, dict[Key, float]]  # driver -> (customer, product) -> quantity
    revenue: dict[Key, Decimal] = field(default_factory=dict)
    cogs: dict[Key, Decimal] = field(default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # object -> id -> name


def _by_key(rows: list[dict[str, Any]], col: str) -> dict[Key, float]:
    """{(customer, product): value} of the rows with a non-zero `col` (a missing side is None)."""
    return {(r.get("customer_id"), r.get("product_id")): float(r[col]) for r in rows if r[col]}


def _operation_drivers(t: Tables, start: dt.date | None, end: dt.date | None) -> dict[str, dict]:
    """machine_hours, labor_hours, setups and setup_minutes per product, from ended operations."""
    o = t("operations")
    po = t("production_orders").select(_oid="order_id", product_id="product_id")
    j = o.join(po, o.order_id == po._oid)
    j = j.filter(j.end_at.notnull() & in_range(j.end_at, start, end))
    rows = fetch(
        j.group_by("product_id").aggregate(
            machine_hours=j.run_minutes.sum() / 60,
            labor_hours=j.labor_minutes.sum() / 60,
            setups=j.count(where=j.setup_minutes > 0),
            setup_minutes=j.setup_minutes.sum(),
        )
    )
    return {d: _by_key(rows, d) for d in ("machine_hours", "labor_hours", "setups", "setup_minutes")}


def _order_drivers(t: Tables, start: dt.date | None, end: dt.date | None) -> dict[str, dict]:
    """inspections and production_orders per product; sales_orders, shipments, units per (customer,
    product); tickets per customer."""
    qi = t("quality_inspections")
    po = t("production_orders")
    pp = po.select(_oid="order_id", product_id="product_id")
    i = qi.join(pp, qi.order_id == pp._oid)
    i = i.filter(in_range(i.inspected_at, start, end))
    done = po.filter(po.completed_at.notnull() & in_range(po.completed_at, start, end))
    so = t("sales_orders")
    placed = so.filter(in_range(so.ordered_date, start, end))
    sh = t("shipments")
    lines = so.select(_so="so_id", _line="line", customer_id="customer_id", product_id="product_id")
    s = sh.join(lines, (sh.so_id == lines._so) & (sh.line == lines._line))
    s = s.filter(in_range(s.shipped_date, start, end))
    st = t("support_tickets")
    st = st.filter(st.customer_id.notnull() & st.closed_at.notnull() & in_range(st.closed_at, start, end))
    cp = ["customer_id", "product_id"]
    shipped = fetch(s.group_by(cp).aggregate(shipments=s.count(), units=s.qty.sum()))
    return {
        "inspections": _by_key(fetch(i.group_by("product_id").aggregate(n=i.count())), "n"),
        "production_orders": _by_key(fetch(done.group_by("product_id").aggregate(n=done.count())), "n"),
        "sales_orders": _by_key(fetch(placed.group_by(cp).aggregate(n=placed.count())), "n"),
        "shipments": _by_key(shipped, "shipments"),
        "units": _by_key(shipped, "units"),
        "tickets": _by_key(fetch(st.group_by("customer_id").aggregate(n=st.count())), "n"),
    }


def _invoice_lines(t: Tables, base_currency: str, start: dt.date | None, end: dt.date | None) -> list[tuple]:
    """(invoice, customer, product, amount, qty, std unit cost, rate to base) per AR invoice line dated
    in [start, end], in (invoice, line) order; the rate is None when fx_rates has none."""
    inv = t("ar_invoices").select("invoice_id", "customer_id", "invoice_date", "currency")
    inv = fx_to_base(
        t,
        inv.filter(in_range(inv.invoice_date, start, end)),
        "currency",
        "invoice_date",
        base_currency,
    )
    il = t("ar_invoice_lines")
    il = il.select(
        _iid="invoice_id",
        line="line",
        product_id="product_id",
        amount=il.amount.cast(MONEY_T),
        qty=il.qty.cast("float64"),
    )
    p = t("products").select(_pid="product_id", std_unit_cost=t("products").std_unit_cost.cast(PRICE_T))
    j = inv.join(il, inv.invoice_id == il._iid).join(p, il.product_id == p._pid)
    cols = ("invoice_id", "customer_id", "product_id", "amount", "qty", "std_unit_cost", "rate")
    rows = fetch(j.mutate(rate=j._rate.cast(RATE_T)))
    rows.sort(key=lambda r: (r["invoice_id"], r["line"]))
    return [tuple(r[c] for c in cols) for r in rows]


def _pooled_cost(t: Tables, roles: list[str], start: dt.date | None, end: dt.date | None) -> dict[str, Decimal]:
    """GL amount per cost centre on accounts of `roles`, allocation journals left out (non-zero only)."""
    g = t("gl_entries").select("account_id", "cost_center_id", "posting_date", "source_doc", "amount")
    a = t("accounts").select("account_id", "role")
    j = g.join(a, "account_id")
    j = j.filter(
        j.role.isin(roles)
        & j.cost_center_id.notnull()
        & ~j.source_doc.startswith(ALLOC_PREFIX)
        & in_range(j.posting_date, start, end)
    )
    rows = fetch(j.group_by("cost_center_id").aggregate(a=j.amount.sum().cast(MONEY_SUM_T)))
    return {r["cost_center_id"]: Decimal(r["a"]) for r in rows if r["a"]}


def _activity_hours(t: Tables, start: dt.date | None, end: dt.date | None) -> dict[tuple[str, str], float]:
    """Timesheet hours (regular + overtime) per (cost centre, activity)."""
    ts = t("timesheets")
    ts = ts.filter(ts.activity_id.notnull() & in_range(ts.work_date, start, end))
    expr = ts.group_by(["cost_center_id", "activity_id"]).aggregate(h=(ts.regular_hours + ts.overtime_hours).sum())
    return {(r["cost_center_id"], r["activity_id"]): float(r["h"]) for r in fetch(expr) if r["h"]}


def _names(t: Tables, table_name: str, key: str) -> dict[str, str]:
    rows = fetch(t(table_name).select(key, "name"))
    return {r[key]: r["name"] for r in rows}


def abc_inputs(
    source: Any,
    config: AbcConfig,
    start: dt.date | None,
    end: dt.date | None,
    base_currency: str = "EUR",
) -> AbcInputs:
    """Read everything the ABC engine needs for [start, end] (inclusive days; None = open) from the
    warehouse `Tables` (DuckDB or Spark) or a DuckDB connection."""
    t = costing_tables(source, base_currency)
    centres = cost_centres(t)
    cost = _pooled_cost(t, list(config.roles), start, end)
    hours = _activity_hours(t, start, end)
    quantities: dict[str, dict[Key, float]] = {
        **_operation_drivers(t, start, end),
        **_order_drivers(t, start, end),
    }
    # revenue: invoice lines in base currency, converted once per invoice (rounded half-even) and split
    # back to the lines by largest remainder; cogs: qty × standard unit cost rounded half-even per line
    # (document-line rounding, as the GL books it). Both tie to the GL revenue and cogs postings.
    lines = _invoice_lines(t, base_currency, start, end)
    revenue: dict[Key, Decimal] = {}
    cogs: dict[Key, Decimal] = {}
    by_invoice: dict[str, list[tuple]] = {}
    for row in lines:
        by_invoice.setdefault(row[0], []).append(row)
    for inv, rows in by_invoice.items():
        rate = rows[0][6]
        if rate is None:
            raise UserError(f"ar_invoices {inv}: no fx_rates row for {rows[0][1]}'s currency on or before its date")
        net = sum((Decimal(r[3]) for r in rows), ZERO)
        base = to_cents(net * Decimal(rate))
        weights = {i: abs(Decimal(r[3])) for i, r in enumerate(rows)}
        if base and sum(weights.values()) and all((Decimal(r[3]) >= 0) == (net >= 0) for r in rows):
            parts = split_cents(base, weights)
        else:
            parts = {i: to_cents(Decimal(r[3]) * Decimal(rate)) for i, r in enumerate(rows)}
        cparts = {i: to_cents(Decimal(repr(float(r[4]))) * Decimal(r[5])) for i, r in enumerate(rows)}
        for i, r in enumerate(rows):
            k = (r[1], r[2])
            revenue[k] = revenue.get(k, ZERO) + parts[i]
            cogs[k] = cogs.get(k, ZERO) + cparts[i]
    quantities["revenue"] = {k: float(v) for k, v in revenue.items() if v}
    names = {
        "product": _names(t, "products", "product_id"),
        "customer": _names(t, "customers", "customer_id"),
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
            o: Fraction(u) for k, u in units.items() if (o := k[pos]) is not None and k[other] == key[other] and u > 0
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


OBJECT_SCHEMA: ColumnTypes = {
    "object_id": pl.Utf8,
    "name": pl.Utf8,
    **{
        c: MONEY
        for c in (
            "revenue",
            "cogs",
            "gross_margin",
            "abc_cost",
            "abc_profit",
            "traditional_cost",
            "traditional_profit",
            "difference",
        )
    },
}
POOL_SCHEMA: ColumnTypes = {
    "cost_center_id": pl.Utf8,
    "kind": pl.Utf8,
    "activity_id": pl.Utf8,
    "resource_driver": pl.Utf8,
    "amount": MONEY,
}
ACTIVITY_SCHEMA: ColumnTypes = {
    "activity_id": pl.Utf8,
    "driver": pl.Utf8,
    "pool": MONEY,
    "driver_qty": pl.Float64,
    "rate": pl.Float64,
}
ASSIGNMENT_SCHEMA: ColumnTypes = {
    "activity_id": pl.Utf8,
    "object_id": pl.Utf8,
    "driver_qty": pl.Float64,
    "cost": MONEY,
}


def _activity_pools(inputs: AbcInputs, config: AbcConfig) -> tuple[dict[str, Decimal], list[dict[str, Any]]]:
    """Stage 1: each matched cost centre's pooled cost to activities. Returns (pool per activity, rows)."""
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
    return pools, pool_rows


def run_abc(inputs: AbcInputs, config: AbcConfig, obj: str) -> AbcResult:
    if obj not in OBJECTS:
        raise UserError(f"--object {obj!r}: use product or customer")
    pools, pool_rows = _activity_pools(inputs, config)
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
            asg_rows.append({"activity_id": a, "object_id": o, "driver_qty": float(qty.get(o, 0)), "cost": amt})
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
    return AbcResult(
        obj,
        pl.DataFrame(rows, schema=OBJECT_SCHEMA),
        pl.DataFrame(pool_rows, schema=POOL_SCHEMA),
        pl.DataFrame(act_rows, schema=ACTIVITY_SCHEMA),
        pl.DataFrame(asg_rows, schema=ASSIGNMENT_SCHEMA),
    )


VIEWS = ("objects", "pools", "activities", "assignments")
