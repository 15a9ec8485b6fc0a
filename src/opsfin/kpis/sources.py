"""Fact rows with their date and the dimensions they reach, as Ibis expressions.

Each builder returns a table with `_date` (DATE: the day the row belongs to, docs/kpis.md "dating
rows"), the requested dimension columns (VARCHAR, named without `_id`), and the raw measures the
KPI definitions use. Dimensions are joined only when asked for, by the hops core/dimensions.py
declares once (`REACH`; docs/kpis.md "Dimensions and how rows reach them" lists the same paths).
Every builder names its date and columns once (`_fact`: a dimension's id column becomes the dimension)
and calls `reach` (core/dimension_joins.py, which costing uses too), which joins the master data;
deliveries reach their order line through `with_order_line`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from ..core.dimension_joins import reach
from ..core.dimensions import DIMENSIONS, dims_of
from ..errors import UserError

Tables = Callable[[str], ir.Table]


@dataclass(frozen=True)
class Source:
    """A fact table as the KPI engine sees it: which dimensions its rows reach."""

    name: str
    dims: frozenset[str]
    build: Callable[[Tables, frozenset[str]], ir.Table]


def _fact(rel: ir.Table, day: ir.Value, *columns: str, **computed: ir.Value) -> ir.Table:
    """`rel` as a source's rows: `_date` (= `day`), then `columns`, a dimension's id column named as the
    dimension (`site_id` → `site`; any other column as it is), then the `computed` columns."""
    named = [rel[c].name(c.removesuffix("_id")) if c.removesuffix("_id") in DIMENSIONS else c for c in columns]
    return rel.select(day.name("_date"), *named, **computed)


def with_order_line(t: Tables, rel: ir.Table, orders: str, order_id: str, *columns: str) -> ir.Table:
    """`rel` (deliveries against order lines: shipments, goods receipts) joined to the line of `orders` it
    delivers (the same `order_id` and `line`), gaining that order line's `columns`."""
    o = t(orders).select(*columns, _order=order_id, _line="line")
    return rel.join(o, (rel[order_id] == o._order) & (rel.line == o._line)).drop("_order", "_line")


def machine_readings(t: Tables, dims: frozenset[str]) -> ir.Table:
    r = t("machine_readings")
    m = t("machines").select(_m="machine_id", ideal_cycle_seconds="ideal_cycle_seconds")
    r = r.join(m, r.machine_id == m._m).mutate(_ts=r.hour_start)
    measures = ("planned_minutes", "run_minutes", "units_total", "units_good", "kwh", "ideal_cycle_seconds")
    return reach(t, _fact(r, r.hour_start.date(), "_ts", "machine_id", *measures), "machine_readings", dims)


def operations(t: Tables, dims: frozenset[str]) -> ir.Table:
    o = t("operations")
    measures = ("setup_minutes", "run_minutes", "labor_minutes", "qty_good", "qty_scrap", "wait_minutes")
    rel = _fact(o, o.end_at.date(), "work_center_id", "machine_id", "shift_id", "order_id", *measures)
    return reach(t, rel, "operations", dims)


def production_output(t: Tables, dims: frozenset[str]) -> ir.Table:
    m = t("inventory_movements")
    m = m.filter(m.kind == "production")
    return reach(t, _fact(m, m.moved_at.date(), "site_id", "product_id", "qty"), "production_output", dims)


def quality_inspections(t: Tables, dims: frozenset[str]) -> ir.Table:
    q = t("quality_inspections")
    rel = _fact(q, q.inspected_at.date(), "order_id", "operation_id", "qty_inspected", "qty_defective")
    return reach(t, rel, "quality_inspections", dims)


def timesheets(t: Tables, dims: frozenset[str]) -> ir.Table:
    ts = t("timesheets")
    members = ("employee_id", "cost_center_id", "work_center_id", "shift_id")
    rel = _fact(ts, ts.work_date, *members, "regular_hours", "overtime_hours")
    return reach(t, rel, "timesheets", dims)


def cost_center_kind(t: Tables, rel: ir.Table, kind: str) -> ir.Table:
    """Keep rows booked to cost centres of one kind (e.g. 'production' timesheets)."""
    cc = t("cost_centers")
    cc = cc.filter(cc.kind == kind).select(_k="cost_center_id")
    return rel.semi_join(cc, rel.cost_center == cc._k)


def support_tickets(t: Tables, dims: frozenset[str]) -> ir.Table:
    s = t("support_tickets")
    s = s.filter(s.closed_at.notnull())  # a ticket still open counts nowhere
    rel = _fact(s, s.closed_at.date(), "cost_center_id", "customer_id", "handling_minutes", "csat")
    return reach(t, rel, "support_tickets", dims)


def warehouse_tasks(t: Tables, dims: frozenset[str]) -> ir.Table:
    w = t("warehouse_tasks")
    hours = (w.finished_at.epoch_seconds() - w.started_at.epoch_seconds()).cast("float64") / 3600
    rel = _fact(w, w.finished_at.date(), "site_id", "kind", lines=w.lines.cast("float64"), hours=hours)
    return reach(t, rel, "warehouse_tasks", dims)


def shipments(t: Tables, dims: frozenset[str]) -> ir.Table:
    line = ("site_id", "customer_id", "product_id", "promised_date", "unit_price", "currency")
    sh = with_order_line(t, t("shipments"), "sales_orders", "so_id", *line)
    return reach(t, _fact(sh, sh.shipped_date, "qty", *line), "shipments", dims)


def gl_entries(t: Tables, dims: frozenset[str]) -> ir.Table:
    g = t("gl_entries")
    a = t("accounts").select(_a="account_id", role="role", account_type="type")
    g = g.join(a, g.account_id == a._a)
    rel = _fact(g, g.posting_date, "cost_center_id", "role", "account_type", amount=g.amount.cast("decimal(38, 2)"))
    if dims & {"site", "cost_center"}:
        rel = rel.filter(rel.cost_center.notnull())  # rows without a cost centre count only at company level
    return reach(t, rel, "gl_entries", dims)


def maintenance_events(t: Tables, dims: frozenset[str]) -> ir.Table:
    m = t("maintenance_events")
    rel = _fact(m, m.end_at.date(), "machine_id", parts_cost=m.parts_cost.cast("decimal(38, 2)"))
    return reach(t, rel, "maintenance_events", dims)


def fx_to_base(t: Tables, rel: ir.Table, currency: str, day: str, base_currency: str) -> ir.Table:
    """Add `_rate`: the latest fx_rates row with rate_date ≤ the document's date (1 for the base currency).
    Looked up once per distinct (currency, date) with a join and a max, which every backend runs."""
    fx = t("fx_rates").select(_ccy="currency", _rd="rate_date", _rate="rate_to_base")
    keys = rel.select(_kc=rel[currency], _kd=rel[day]).distinct()
    cand = keys.join(fx, (keys._kc == fx._ccy) & (fx._rd <= keys._kd))
    latest = cand.group_by(["_kc", "_kd"]).aggregate(_rd=cand._rd.max())
    rates = latest.join(fx, (latest._kc == fx._ccy) & (latest._rd == fx._rd)).select("_kc", "_kd", "_rate")
    out = rel.left_join(rates, (rel[currency] == rates._kc) & (rel[day] == rates._kd)).drop("_kc", "_kd")
    one = ibis.literal(1, type="decimal(18, 8)")
    return out.mutate(_rate=ibis.ifelse(out[currency] == base_currency, one, out._rate))


def goods_receipts(t: Tables, dims: frozenset[str], base_currency: str = "EUR") -> ir.Table:
    line = ("supplier_id", "site_id", "product_id", "unit_price", "currency", "expected_date")
    gr = with_order_line(t, t("goods_receipts"), "purchase_orders", "po_id", *line)
    return reach(t, _fact(gr, gr.received_date, "qty", *line), "goods_receipts", dims)


def receipt_allocations(t: Tables, dims: frozenset[str]) -> ir.Table:
    al = t("ar_receipt_allocations")
    rc = t("ar_receipts").select("customer_id", "received_date", "currency", _r="receipt_id")
    inv = t("ar_invoices").select(_i="invoice_id", invoice_date="invoice_date")
    rel = al.join(rc, al.receipt_id == rc._r).join(inv, al.invoice_id == inv._i)
    amount = rel.amount.cast("decimal(38, 2)")
    rel = _fact(rel, rel.received_date, "customer_id", "currency", "received_date", "invoice_date", amount=amount)
    return reach(t, rel, "receipt_allocations", dims)


#: the builder of each source; the dimensions each reaches are core/dimensions.py's `REACH`
SOURCES: dict[str, Source] = {
    name: Source(name, dims_of(name), build)
    for name, build in {
        "machine_readings": machine_readings,
        "operations": operations,
        "production_output": production_output,
        "quality_inspections": quality_inspections,
        "timesheets": timesheets,
        "support_tickets": support_tickets,
        "warehouse_tasks": warehouse_tasks,
        "shipments": shipments,
        "gl_entries": gl_entries,
        "maintenance_events": maintenance_events,
        "goods_receipts": goods_receipts,
        "receipt_allocations": receipt_allocations,
    }.items()
}


def check_by(by: Iterable[str]) -> None:
    """A dimension named twice in `by` is a mistake (it would be one column twice)."""
    seen: set[str] = set()
    for d in by:
        if d in seen:
            raise UserError(f"by: {d} is named twice")
        seen.add(d)


def check_dims(kpi: str, allowed: frozenset[str], asked: set[str]) -> None:
    unknown = sorted(d for d in asked if d not in DIMENSIONS)
    if unknown:
        raise UserError(f"unknown dimension {', '.join(unknown)}; dimensions are: {', '.join(DIMENSIONS)}")
    missing = sorted(asked - allowed)
    if missing:
        carried = ", ".join(sorted(allowed)) or "none (company level only)"
        raise UserError(f"KPI {kpi!r} cannot be split by {', '.join(missing)}: its rows carry {carried}")
