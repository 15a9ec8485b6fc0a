"""The warehouse reads of order costing, unit economics and value streams (docs/scale.md).

Each read is an Ibis expression over the warehouse tables (`Tables`: DuckDB or Spark), so the same code
runs on both backends. The backend joins, filters and aggregates; the rows come back through Arrow and the
exact Decimal arithmetic (rounding, cent splitting) stays in the engines, in Python.

Types are explicit because Ibis rounds decimals silently otherwise: money DECIMAL(18,2) (sums
DECIMAL(38,2)), prices DECIMAL(18,4), rates DECIMAL(18,8). Quantities summed in the backend (kWh, units
shipped, units produced) are summed as DECIMAL(38,9): a sum of doubles depends on the order a backend adds
them in, an exact sum does not.

A read that splits rows by a dimension reaches it by the hops core/dimensions.py declares (`reach`, with
`keep_rows`: a row whose master data is missing keeps its cost, with an empty member).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl

from ..core.dimension_joins import reach
from ..core.periods import in_range
from ..kpis.engine import Tables
from ..kpis.sources import fx_to_base
from .compiled import to_arrow

OPERATION_COLUMNS: dict[str, Any] = {
    "operation_id": pl.Utf8,
    "order_id": pl.Utf8,
    "step": pl.Int64,
    "work_center_id": pl.Utf8,
    "machine_id": pl.Utf8,
    "shift_id": pl.Utf8,
    "month": pl.Date,
    "cost_center_id": pl.Utf8,
    "run_minutes": pl.Float64,
    "labor_minutes": pl.Float64,
}
ROUTED_COLUMNS: dict[str, Any] = {
    "operation_id": pl.Utf8,
    "order_id": pl.Utf8,
    "step": pl.Int64,
    "work_center_id": pl.Utf8,
    "run_minutes": pl.Float64,
    "setup_minutes": pl.Float64,
    "wait_minutes": pl.Float64,
    "value_added": pl.Boolean,
}
INVOICE_LINE_COLUMNS: dict[str, Any] = {
    "invoice_id": pl.Utf8,
    "customer_id": pl.Utf8,
    "currency": pl.Utf8,
    "invoice_date": pl.Date,
    "rate": pl.Decimal(18, 8),
    "line": pl.Int64,
    "product_id": pl.Utf8,
    "family": pl.Utf8,
    "site_id": pl.Utf8,
    "amount": pl.Decimal(18, 2),
}
ORDER_COLUMNS = [
    "order_id",
    "site_id",
    "product_id",
    "family",
    "status",
    "released_at",
    "completed_at",
    "qty_good",
    "completion_shift_id",
]
MONEY_T = "decimal(18, 2)"
MONEY_SUM_T = "decimal(38, 2)"
PRICE_T = "decimal(18, 4)"
RATE_T = "decimal(18, 8)"
QTY_SUM_T = "decimal(38, 9)"


def costing_tables(source: Any, base_currency: str = "EUR") -> Tables:
    """The engines' input: warehouse `Tables` as they are, or a DuckDB connection wrapped as Tables."""
    if isinstance(source, Tables):
        return source
    import duckdb

    if isinstance(source, duckdb.DuckDBPyConnection):
        return Tables(ibis.duckdb.from_connection(source), base_currency)
    raise TypeError(f"costing reads warehouse Tables or a DuckDB connection, not {type(source).__name__}")


def fetch(expr: ir.Table) -> list[dict[str, Any]]:
    """The rows of an expression as dicts (Decimals, dates and datetimes as Python values)."""
    return to_arrow(expr).to_pylist()


def frame(expr: ir.Table, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of an expression as a Polars frame of `schema` (its columns, in this order and type)."""
    got = pl.from_arrow(to_arrow(expr))
    assert isinstance(got, pl.DataFrame)
    return got.select([pl.col(c).cast(dtype) for c, dtype in schema.items()])


def month_of(value: ir.Value) -> ir.DateValue:
    """The first day of the month of a date or timestamp."""
    return value.truncate("M").cast("date")


def in_months(value: ir.Value, months: list[dt.date] | None) -> ir.BooleanValue:
    """True where the month of `value` is one of `months`; everywhere when `months` is None."""
    if months is None:
        return ibis.literal(True)
    if not months:
        return ibis.literal(False)
    return month_of(value).isin(list(months))


# ------------------------------------------------------------------------------------------ conversion
def operations(t: Tables, months: list[dt.date] | None) -> pl.DataFrame:
    """Ended operations of `months` with their cost centre, run and labor minutes (0 when missing),
    in operation_id order (a Polars frame: the conversion pools split over them column by column)."""
    o = t("operations")
    wc = t("work_centers").select("work_center_id", "cost_center_id")
    o = o.filter(o.end_at.notnull() & in_months(o.end_at, months))
    j = o.join(wc, "work_center_id")
    expr = j.select(
        "operation_id",
        "order_id",
        "step",
        "work_center_id",
        "machine_id",
        "shift_id",
        month=month_of(j.end_at),
        cost_center_id=j.cost_center_id,
        run_minutes=j.run_minutes.fill_null(0).cast("float64"),
        labor_minutes=j.labor_minutes.fill_null(0).cast("float64"),
    )
    return frame(expr, OPERATION_COLUMNS).sort("operation_id")


def gl_pools(t: Tables, months: list[dt.date] | None) -> list[dict[str, Any]]:
    """GL actual cost of the roles energy / variable_overhead / fixed_overhead per production cost centre
    and month. Journals that also post to `inventory_wip` (month-end clearing) are left out."""
    g = t("gl_entries").select("journal_id", "posting_date", "account_id", "cost_center_id", "amount")
    a = t("accounts").select("account_id", "role")
    cc = t("cost_centers").select("cost_center_id", "kind")
    gr = g.join(a, "account_id")
    wip = gr.filter(gr.role == "inventory_wip").select("journal_id")
    j = gr.join(cc, "cost_center_id")
    j = j.filter(
        j.role.isin(["energy", "variable_overhead", "fixed_overhead"])
        & (j.kind == "production")
        & ~j.journal_id.isin(wip.journal_id)
        & in_months(j.posting_date, months)
    )
    j = j.mutate(month=month_of(j.posting_date))
    expr = j.group_by(["cost_center_id", "month", "role"]).aggregate(amount=j.amount.sum().cast(MONEY_SUM_T))
    return fetch(expr)


def labor_rows(t: Tables, months: list[dt.date] | None) -> list[dict[str, Any]]:
    """Timesheet rows booked to a work centre, counted per (work centre, month, hours, rate, multiplier):
    rows alike have the same pay, so each shape is priced once and multiplied by its count `n`."""
    ts = t("timesheets")
    e = t("employees").select("employee_id", "hourly_rate", "overtime_multiplier")
    ts = ts.filter(ts.work_center_id.notnull() & in_months(ts.work_date, months))
    j = ts.join(e, "employee_id")
    j = j.select(
        "work_center_id",
        month=month_of(j.work_date),
        regular_hours=j.regular_hours.fill_null(0).cast("float64"),
        overtime_hours=j.overtime_hours.fill_null(0).cast("float64"),
        hourly_rate=j.hourly_rate.cast(PRICE_T),
        overtime_multiplier=j.overtime_multiplier.fill_null(1.0).cast("float64"),
    )
    keys = [
        "work_center_id",
        "month",
        "regular_hours",
        "overtime_hours",
        "hourly_rate",
        "overtime_multiplier",
    ]
    return fetch(j.group_by(keys).aggregate(n=j.count()))


def machine_kwh(t: Tables, months: list[dt.date] | None) -> list[dict[str, Any]]:
    """kWh per machine and month (exact Decimal sums), with the machine's work centre, cost centre and the
    site's standard energy price, in (machine, month) order."""
    r = t("machine_readings")
    r = r.filter(in_months(r.hour_start, months))
    # the hourly readings are summed per machine and month first, then joined to their master data
    r = r.group_by("machine_id", month=month_of(r.hour_start)).aggregate(
        _kwh=r.kwh.fill_null(0).cast(QTY_SUM_T).sum().cast(QTY_SUM_T)
    )
    r = reach(t, r.mutate(machine=r.machine_id), "machine_readings", {"work_center"})
    wc = t("work_centers").select(_wc="work_center_id", cost_center_id="cost_center_id", site_id="site_id")
    s = t("sites").select("site_id", "std_energy_price")
    j = r.join(wc, r.work_center == wc._wc).join(s, "site_id")
    expr = j.select(
        "machine_id",
        work_center_id=j.work_center,
        cost_center_id=j.cost_center_id,
        std_energy_price=j.std_energy_price.cast(PRICE_T),
        month=j.month,
        kwh=j._kwh,
    )
    return sorted(fetch(expr), key=lambda x: (x["machine_id"], x["month"]))


# ------------------------------------------------------------------------------------------ orders
def order_selection(t: Tables, start: dt.date | None, end: dt.date | None, completed_only: bool) -> ir.Table:
    """Production orders, or only those completed in [start, end]."""
    po = t("production_orders")
    cond = in_range(po.completed_at, start, end)
    if completed_only:
        cond &= po.completed_at.notnull()
    return po.filter(cond)


def orders(t: Tables, selected: ir.Table) -> list[dict[str, Any]]:
    """`orders_frame` as rows (dicts), in order_id order."""
    return orders_frame(t, selected).to_dicts()


def orders_frame(t: Tables, selected: ir.Table) -> pl.DataFrame:
    """The selected orders with family, units produced (Σ production movements, else the good quantity of
    the last step) and the shift of the last step (latest end on a tie), in order_id order: order_id, site_id,
    product_id, family, status, released_at, completed_at, qty_good, completion_shift_id."""
    mv = t("inventory_movements")
    mv = mv.filter(mv.kind == "production")
    produced = mv.group_by(_ref="ref_doc").aggregate(_produced=mv.qty.cast(QTY_SUM_T).sum().cast(QTY_SUM_T))
    op = t("operations")
    op = op.filter(op.order_id.isin(selected.order_id))
    last_first = ibis.window(group_by=op.order_id, order_by=[op.step.desc(), op.end_at.desc(), op.operation_id.desc()])
    last = op.mutate(_rank=ibis.row_number().over(last_first))
    last = last.filter(last._rank == 0).select(
        _oid="order_id", _last_qty=last.qty_good.cast("float64"), completion_shift_id="shift_id"
    )
    o = reach(t, selected.mutate(product=selected.product_id), "production_orders", {"family"}, keep_rows=True)
    j = o.left_join(produced, o.order_id == produced._ref)
    j = j.left_join(last, j.order_id == last._oid)
    # qty_good is worked out below from the produced quantity or the last step's
    expr = j.select(*(c for c in ORDER_COLUMNS if c != "qty_good"), "_produced", "_last_qty")
    table = to_arrow(expr)
    # an exact Decimal sum to the nearest float (as float() rounds it), else the last step's good quantity
    qty = [
        float(p) if p is not None else q
        for p, q in zip(table["_produced"].to_pylist(), table["_last_qty"].to_pylist(), strict=True)
    ]
    got = pl.from_arrow(table.drop(["_produced", "_last_qty"]))
    assert isinstance(got, pl.DataFrame)
    got = got.with_columns(qty_good=pl.Series(qty, dtype=pl.Float64))
    return got.select(ORDER_COLUMNS).sort("order_id")


def material_issues(t: Tables, selected: ir.Table) -> pl.DataFrame:
    """Issue movements of the selected orders at the standard price, counted per (order, qty, price):
    lines alike cost the same, so each is priced once and multiplied by its count `n`."""
    mv = t("inventory_movements")
    p = t("products").select("product_id", "std_unit_cost")
    mv = mv.filter((mv.kind == "issue") & mv.ref_doc.isin(selected.order_id))
    j = mv.join(p, "product_id")
    j = j.select(order_id=j.ref_doc, qty=j.qty.cast("float64"), std_unit_cost=j.std_unit_cost.cast(PRICE_T))
    expr = j.group_by(["order_id", "qty", "std_unit_cost"]).aggregate(n=j.count())
    return frame(expr, {"order_id": pl.Utf8, "qty": pl.Float64, "std_unit_cost": pl.Decimal(18, 4), "n": pl.Int64})


def operation_months(t: Tables, selected: ir.Table) -> list[dt.date]:
    """The months in which the selected orders have ended operations."""
    op = t("operations")
    op = op.filter(op.end_at.notnull() & op.order_id.isin(selected.order_id))
    return sorted(r["month"] for r in fetch(op.select(month=month_of(op.end_at)).distinct()))


def routed_operations(t: Tables, selected: ir.Table) -> pl.DataFrame:
    """Operations of the selected orders with run / setup / wait minutes (0 when missing) and whether
    their routing step adds value (False when the routing has no such step), in operation_id order."""
    op = t("operations")
    op = op.filter(op.order_id.isin(selected.order_id))
    rt = t("routings").select(_rpid="product_id", _rstep="step", _va="value_added")
    j = reach(t, op, "operations", {"product"})
    j = j.left_join(rt, (j.product == rt._rpid) & (j.step == rt._rstep))
    expr = j.select(
        "operation_id",
        "order_id",
        "step",
        "work_center_id",
        run_minutes=j.run_minutes.fill_null(0).cast("float64"),
        setup_minutes=j.setup_minutes.fill_null(0).cast("float64"),
        wait_minutes=j.wait_minutes.fill_null(0).cast("float64"),
        value_added=j._va.fill_null(False),
    )
    return frame(expr, ROUTED_COLUMNS).sort("operation_id")


# ------------------------------------------------------------------------------------------ sales
def units_shipped(t: Tables, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Units shipped in [start, end] per (product, family, site, customer), as floats of exact sums."""
    sh = t("shipments")
    sh = sh.filter(in_range(sh.shipped_date, start, end))
    so = t("sales_orders").select(
        _so="so_id", _line="line", product="product_id", site="site_id", customer="customer_id"
    )
    j = sh.join(so, (sh.so_id == so._so) & (sh.line == so._line))
    j = reach(t, j, "shipments", {"family"}, keep_rows=True)
    expr = j.group_by(product_id=j.product, family=j.family, site_id=j.site, customer_id=j.customer).aggregate(
        units=j.qty.cast(QTY_SUM_T).sum().cast(QTY_SUM_T)
    )
    return [{**r, "units": float(r["units"]) if r["units"] is not None else None} for r in fetch(expr)]


def invoice_lines(
    t: Tables, base_currency: str, start: dt.date | None, end: dt.date | None, converted_only: bool = False
) -> pl.DataFrame:
    """AR invoice lines dated in [start, end] with the invoice's rate to the base currency (the latest
    fx_rates row on or before the invoice date; 1 for the base currency; None when there is none), the
    product's family and the sales order's site (the least site_id of its lines), in (invoice, line) order.
    `converted_only`: only the lines whose rate is not 1 (or is missing)."""
    expr = _invoice_lines(t, base_currency, start, end)
    if converted_only:
        expr = expr.filter(expr.rate.isnull() | (expr.rate != 1))
    return frame(expr, INVOICE_LINE_COLUMNS).sort(["invoice_id", "line"])


def revenue_at_par(t: Tables, base_currency: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Σ amount of the AR invoice lines dated in [start, end] whose rate to the base currency is 1 (nothing
    to convert) per (product_id, family, site_id, customer_id), an exact sum: the bulk of the revenue read
    without a row per line. The other lines come from `invoice_lines(..., converted_only=True)`."""
    lines = _invoice_lines(t, base_currency, start, end)
    lines = lines.filter(lines.rate == 1)
    expr = lines.group_by(["product_id", "family", "site_id", "customer_id"]).aggregate(
        amount=lines.amount.sum().fill_null(0).cast(MONEY_SUM_T)
    )
    return fetch(expr)


def _invoice_lines(t: Tables, base_currency: str, start: dt.date | None, end: dt.date | None) -> ir.Table:
    """The expression of `invoice_lines` (every line, unordered)."""
    inv = t("ar_invoices").select("invoice_id", "customer_id", "so_id", "invoice_date", "currency")
    inv = inv.filter(in_range(inv.invoice_date, start, end))
    inv = fx_to_base(t, inv, "currency", "invoice_date", base_currency)
    il = t("ar_invoice_lines")
    lines = il.select(_iid="invoice_id", line="line", product_id="product_id", amount=il.amount.cast(MONEY_T))
    so = t("sales_orders")
    sites = so.group_by(_so="so_id").aggregate(site_id=so.site_id.min())
    j = inv.join(lines, inv.invoice_id == lines._iid)
    j = reach(t, j.mutate(product=j.product_id), "ar_invoice_lines", {"family"}, keep_rows=True)
    j = j.left_join(sites, j.so_id == sites._so)
    return j.select(
        "invoice_id",
        "customer_id",
        "currency",
        "invoice_date",
        rate=j._rate.cast(RATE_T),
        line="line",
        product_id="product_id",
        family="family",
        site_id="site_id",
        amount="amount",
    )


def cost_center_expenses(t: Tables, kind: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Each cost centre of `kind` with its expense postings in [start, end] (0 without any), by id."""
    g = t("gl_entries").select("account_id", "cost_center_id", "posting_date", "amount")
    a = t("accounts").select("account_id", "type")
    g = g.join(a, "account_id")
    g = g.filter((g.type == "expense") & g.cost_center_id.notnull() & in_range(g.posting_date, start, end))
    spent = g.group_by(_cc="cost_center_id").aggregate(_cost=g.amount.sum().cast(MONEY_SUM_T))
    cc = t("cost_centers")
    cc = cc.filter(cc.kind == kind).select("cost_center_id", "site_id")
    j = cc.left_join(spent, cc.cost_center_id == spent._cc)
    expr = j.select("cost_center_id", "site_id", cost=j._cost.fill_null(0).cast(MONEY_T))
    return sorted(fetch(expr), key=lambda r: r["cost_center_id"])


def lines_picked(t: Tables, start: dt.date | None, end: dt.date | None) -> dict[str, int]:
    """Order lines picked per site: pick tasks finished in [start, end]."""
    w = t("warehouse_tasks")
    w = w.filter((w.kind == "pick") & w.finished_at.notnull() & in_range(w.finished_at, start, end))
    expr = w.group_by(k="site_id").aggregate(n=w.lines.cast("int64").sum())
    return {r["k"]: r["n"] for r in fetch(expr)}


def tickets_closed(t: Tables, start: dt.date | None, end: dt.date | None) -> dict[str, int]:
    """Support tickets closed in [start, end] per cost centre."""
    s = t("support_tickets")
    s = s.filter(s.closed_at.notnull() & in_range(s.closed_at, start, end))
    return {r["k"]: r["n"] for r in fetch(s.group_by(k="cost_center_id").aggregate(n=s.count()))}


# ------------------------------------------------------------------------------------------ centres
def cost_centres(t: Tables) -> dict[str, dict[str, Any]]:
    """Every cost centre by id (in id order) with its kind, site and the site's kind (None without)."""
    c = t("cost_centers").select("cost_center_id", "kind", "site_id")
    s = t("sites").select(_sid="site_id", site_kind="kind")
    j = c.left_join(s, c.site_id == s._sid)
    rows = fetch(j.select("cost_center_id", "kind", "site_id", "site_kind"))
    return {r["cost_center_id"]: r for r in sorted(rows, key=lambda r: r["cost_center_id"])}
