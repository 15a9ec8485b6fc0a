"""The warehouse reads of the variance bridge (docs/variances.md, docs/scale.md).

Each read is an Ibis expression over the warehouse `Tables` (DuckDB or Spark): the backend joins, filters
and aggregates, the rows come back through Arrow, and the exact arithmetic (Fractions, cents, half-even
rounding) stays in the bridge's modules, in Python. Money is cast explicitly (Ibis rounds decimals silently
otherwise): amounts DECIMAL(18,2), sums DECIMAL(38,2), prices DECIMAL(18,4), rates DECIMAL(18,8).

Per-row roundings the standard-cost ERP does on doubles (minutes to centi-minutes, kWh to Wh) are
`round(x · 10ⁿ)` in the backend: half away from zero on both DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from ...core.dimension_joins import reach
from ...core.periods import in_range
from ...kpis.engine import Tables
from ...kpis.sources import fx_to_base, with_order_line
from ..reads import MONEY_SUM_T, MONEY_T, PRICE_T, QTY_SUM_T, fetch, month_of

Rows = list[dict[str, Any]]


def gl_roles(t: Tables) -> ir.Table:
    """GL entries with their account's role."""
    g = t("gl_entries")
    return g.join(t("accounts").select("account_id", "role"), "account_id")


# ------------------------------------------------------------------------------------------ GL and plan
def gl_month_role(t: Tables, roles: tuple[str, ...], lo: dt.date, hi: dt.date) -> Rows:
    """Σ amount per month and role of the postings of `roles` in [lo, hi]: month, role, amount."""
    j = gl_roles(t)
    j = j.filter(j.role.isin(list(roles)) & in_range(j.posting_date, lo, hi))
    j = j.mutate(month=month_of(j.posting_date))
    return fetch(j.group_by(["month", "role"]).aggregate(amount=j.amount.sum().cast(MONEY_SUM_T)))


def posting_span(t: Tables, roles: tuple[str, ...]) -> tuple[dt.date | None, dt.date | None]:
    """The first and last posting date of `roles` (None, None without postings)."""
    j = gl_roles(t)
    j = j.filter(j.role.isin(list(roles)))
    row = fetch(j.aggregate(a=j.posting_date.min(), b=j.posting_date.max()))[0]
    return row["a"], row["b"]


def plan_periods(t: Tables, lo: dt.date | None = None, hi: dt.date | None = None) -> Rows:
    """The distinct (version, period) of volume_plan, within [lo, hi] when given."""
    v = t("volume_plan")
    v = v.filter(in_range(v.period, lo, hi))
    return fetch(v.select("version", "period").distinct())


def forecast_versions(t: Tables) -> set[str]:
    """The names of the plan versions that are stored demand forecasts (`opsfin forecast demand`); none
    in a warehouse made before forecasts were stored (it has no `forecast_versions` table)."""
    from ibis.common.exceptions import TableNotFound

    try:
        versions = t("forecast_versions")
    except TableNotFound:
        return set()
    return {r["version"] for r in fetch(versions.select("version").distinct())}


def plan_volumes(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """version, period, product_id, qty (Σ), unit_price (any) of the volume plan in [lo, hi]."""
    v = t("volume_plan")
    v = v.filter(in_range(v.period, lo, hi))
    return fetch(
        v.group_by(["version", "period", "product_id"]).aggregate(
            qty=v.qty.sum(), unit_price=v.unit_price.cast(PRICE_T).arbitrary().cast(PRICE_T)
        )
    )


def product_standards(t: Tables) -> Rows:
    p = t("products")
    return fetch(
        p.select(
            "product_id",
            std_unit_cost=p.std_unit_cost.cast(PRICE_T),
            list_price=p.list_price.cast(PRICE_T),
        )
    )


def revenue_lines(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """The revenue posted in [lo, hi] per month, product and customer: each AR invoice's revenue (−Σ GL)
    shared over its lines by line amount (revenue × amount / the invoice's net, as a double, as the ERP
    shares it), with the lines' quantities: month, product_id, customer_id, qty, revenue."""
    g = gl_roles(t)
    g = g.filter((g.role == "revenue") & in_range(g.posting_date, lo, hi))
    g = g.mutate(month=month_of(g.posting_date))
    rev = g.group_by([g.source_doc.name("_inv"), "month"]).aggregate(_rev=(-g.amount.sum()).cast(MONEY_SUM_T))
    lines = t("ar_invoice_lines")
    inv = t("ar_invoices").select(_i="invoice_id", customer_id="customer_id")
    net = lines.group_by(_n="invoice_id").aggregate(_net=lines.amount.sum().cast(MONEY_SUM_T))
    j = rev.join(lines, rev._inv == lines.invoice_id).join(inv, rev._inv == inv._i).join(net, rev._inv == net._n)
    share = (j._rev * j.amount.cast(MONEY_T)).cast("float64") / j._net.cast("float64")
    j = j.mutate(_share=ibis.ifelse(j._net != 0, share, ibis.null("float64")))
    return fetch(
        j.group_by(["month", "product_id", "customer_id"]).aggregate(
            qty=j.qty.cast(QTY_SUM_T).sum().cast(QTY_SUM_T), revenue=j._share.sum()
        )
    )


# ------------------------------------------------------------------------------------------ material
def received_lines(t: Tables, lo: dt.date, hi: dt.date) -> ir.Table:
    """Goods receipts in [lo, hi] with their PO line's supplier_id, product_id, unit_price and currency, and
    the product's std_unit_cost."""
    r = t("goods_receipts")
    r = r.filter(in_range(r.received_date, lo, hi))
    j = with_order_line(t, r, "purchase_orders", "po_id", "supplier_id", "product_id", "unit_price", "currency")
    p = t("products").select(_p="product_id", std_unit_cost="std_unit_cost")
    return j.join(p, j.product_id == p._p).drop("_p")


def receipts(t: Tables, lo: dt.date, hi: dt.date, base: str) -> Rows:
    """Goods receipt lines in [lo, hi] with the PO's supplier, product, price and rate to `base` (the
    latest fx_rates row on or before the receipt; None when there is none) and the standard cost, counted
    per shape `n`: received_date, supplier_id, product_id, qty, unit_price, rate, std_unit_cost, n."""
    j = received_lines(t, lo, hi)
    j = j.select(
        "received_date",
        "supplier_id",
        "product_id",
        "qty",
        "currency",
        unit_price=j.unit_price.cast(PRICE_T),
        std_unit_cost=j.std_unit_cost.cast(PRICE_T),
    )
    j = fx_to_base(t, j, "currency", "received_date", base)
    keys = ["received_date", "supplier_id", "product_id", "qty", "unit_price", "std_unit_cost"]
    return fetch(j.group_by([*keys, j._rate.cast("decimal(18, 8)").name("rate")]).aggregate(n=j.count()))


def invoice_price_gl(t: Tables, lo: dt.date, hi: dt.date) -> ir.Table:
    """The invoice price variance postings in [lo, hi], with their role."""
    g = gl_roles(t)
    return g.filter((g.role == "variance_invoice_price") & in_range(g.posting_date, lo, hi))


def invoice_price_postings(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Invoice price variance postings per month and supplier invoice: month, invoice_id, supplier_id, amount."""
    g = invoice_price_gl(t, lo, hi)
    i = t("ap_invoices").select(_i="invoice_id", supplier_id="supplier_id")
    j = g.left_join(i, g.source_doc == i._i)
    j = j.mutate(month=month_of(j.posting_date), invoice_id=j.source_doc)
    return fetch(j.group_by(["month", "invoice_id", "supplier_id"]).aggregate(amount=j.amount.sum().cast(MONEY_SUM_T)))


def invoice_price_lines(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Σ |amount| per (invoice, product) of the AP invoices with invoice price variance postings."""
    docs = invoice_price_gl(t, lo, hi).source_doc
    lines = t("ap_invoice_lines")
    lines = lines.filter(lines.invoice_id.isin(docs) & lines.product_id.notnull())
    return fetch(lines.group_by(["invoice_id", "product_id"]).aggregate(net=lines.amount.abs().sum().cast(MONEY_SUM_T)))


def _closed_orders(t: Tables, lo: dt.date, hi: dt.date) -> ir.Table:
    o = t("production_orders")
    o = o.filter((o.status == "closed") & in_range(o.closed_date, lo, hi))
    return o.select("order_id", "product_id", "planned_qty", "closed_date")


def _scaled(x: ir.NumericValue, factor: int) -> ir.IntegerValue:
    """round(x · factor) as an integer, half away from zero (as the ERP rounds)."""
    return (x * factor).round().cast("int64")


def _order_components(t: Tables, lo: dt.date, hi: dt.date):
    """Each order closed in [lo, hi] × its BOM components, with the component's standard cost (`_cost`), its
    qty per unit (`_per`) and the quantity issued to the order (`_issued`, null without issues)."""
    o = _closed_orders(t, lo, hi)
    mv = t("inventory_movements")
    mv = mv.filter((mv.kind == "issue") & mv.ref_doc.isin(o.order_id))
    iss = mv.group_by([mv.ref_doc.name("_o"), mv.product_id.name("_c")]).aggregate(_issued=-mv.qty.sum())
    b = t("bom").select(_bp="product_id", _bc="component_id", _per="qty_per")
    c = t("products").select(_cp="product_id", _cost="std_unit_cost")
    j = o.join(b, o.product_id == b._bp).join(c, b._bc == c._cp)
    return j.left_join(iss, (j.order_id == iss._o) & (j._bc == iss._c))


def usage_lines(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Per order closed in [lo, hi] and BOM component, the usage variance's exact integers: the quantity
    issued (−Σ issue qty, 0 without issues) less the standard (planned qty × qty per) in 1e-6 units and the
    component's standard cost in 1e-4, counted per (month, product, qty_e6, cost_e4): n."""
    j = _order_components(t, lo, hi)
    j = j.select(
        "product_id",
        month=month_of(j.closed_date),
        qty_e6=_scaled(j._issued.fill_null(0.0) - j.planned_qty * j._per, 1_000_000),
        cost_e4=_scaled(j._cost.cast(PRICE_T), 10_000),
    )
    j = j.filter(j.qty_e6.notnull())
    return fetch(j.group_by(["month", "product_id", "qty_e6", "cost_e4"]).aggregate(n=j.count()))


def scrap_orders(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Per order closed in [lo, hi] with operations: order_id, month, product_id, qty_e6 (Σ qty_scrap in
    1e-6 units, None when unknown), cost_e4 (the product's standard cost in 1e-4)."""
    o = _closed_orders(t, lo, hi)
    op = t("operations")
    op = op.filter(op.order_id.isin(o.order_id))
    s = op.group_by(_o="order_id").aggregate(_q=op.qty_scrap.sum())
    p = t("products").select(_p="product_id", _cost="std_unit_cost")
    j = o.join(s, o.order_id == s._o).join(p, o.product_id == p._p)
    return fetch(
        j.select(
            "order_id",
            "product_id",
            month=month_of(j.closed_date),
            qty_e6=_scaled(j._q, 1_000_000),
            cost_e4=_scaled(j._cost.cast(PRICE_T), 10_000),
        )
    )


def scrap_operations(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """The scrapping operations of the orders closed in [lo, hi]: order_id, operation_id, work_center_id,
    machine_id, shift_id, qty_scrap and q (the order's Σ qty_scrap over them)."""
    o = _closed_orders(t, lo, hi)
    op = t("operations")
    op = op.filter(op.order_id.isin(o.order_id) & (op.qty_scrap != 0))
    op = op.mutate(q=op.qty_scrap.sum().over(ibis.window(group_by=op.order_id)))
    return fetch(op.select("order_id", "operation_id", "work_center_id", "machine_id", "shift_id", "qty_scrap", "q"))


# ------------------------------------------------------------------------------------------ conversion
def work_centre_standards(t: Tables) -> Rows:
    w = t("work_centers")
    s = t("sites").select(_s="site_id", std_energy_price="std_energy_price")
    j = w.left_join(s, w.site_id == s._s)
    return fetch(
        j.select(
            "work_center_id",
            "cost_center_id",
            "site_id",
            std_labor_rate=j.std_labor_rate.cast(PRICE_T),
            std_variable_overhead_rate=j.std_variable_overhead_rate.cast(PRICE_T),
            std_fixed_overhead_rate=j.std_fixed_overhead_rate.cast(PRICE_T),
            std_energy_price=j.std_energy_price.cast(PRICE_T),
        )
    )


#: the routing step's standards per unit, as operations carry them (`standard_operations`)
ROUTING_STANDARDS = ("std_run_minutes_per_unit", "std_labor_minutes_per_unit", "std_kwh_per_unit")


def standard_operations(t: Tables, lo: dt.date, hi: dt.date) -> ir.Table:
    """Operations ended in [lo, hi] with their order's product_id and their routing step's standard run and
    labor minutes and kWh per unit (`ROUTING_STANDARDS`; null where the routing has no such step)."""
    op = t("operations")
    op = op.filter(in_range(op.end_at, lo, hi))
    j = reach(t, op, "operations", {"product"}).rename(product_id="product")  # the order's product
    r = t("routings").select(*ROUTING_STANDARDS, _rp="product_id", _rs="step")
    return j.left_join(r, (j.product_id == r._rp) & (j.step == r._rs)).drop("_rp", "_rs")


def operation_sums(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Operations ended in [lo, hi] per month, work centre, machine, shift and product: units (good +
    scrap), run centi-minutes, and the standard labor / run centi-minutes and Wh of those units."""
    j = standard_operations(t, lo, hi)
    j = j.mutate(month=month_of(j.end_at), _u=j.qty_good + j.qty_scrap)
    keys = ["month", "work_center_id", "machine_id", "shift_id", "product_id"]
    return fetch(
        j.group_by(keys).aggregate(
            u=j._u.sum(),
            run_cmin=_scaled(j.run_minutes, 100).sum(),
            std_lab=(j._u * _scaled(j.std_labor_minutes_per_unit, 100)).sum(),
            std_run=(j._u * _scaled(j.std_run_minutes_per_unit, 100)).sum(),
            std_wh=(j._u * _scaled(j.std_kwh_per_unit, 1000)).sum(),
        )
    )


def timesheet_shapes(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Timesheet rows booked to a work centre in [lo, hi], counted per (month, work centre, shift, hours,
    rate, multiplier): month, work_center_id, shift_id, regular, overtime, rate, multiplier, n."""
    ts = t("timesheets")
    ts = ts.filter(ts.work_center_id.notnull() & in_range(ts.work_date, lo, hi))
    e = t("employees").select(_e="employee_id", _rate="hourly_rate", _mult="overtime_multiplier")
    j = ts.join(e, ts.employee_id == e._e)
    j = j.select(
        "work_center_id",
        "shift_id",
        month=month_of(j.work_date),
        regular=j.regular_hours.fill_null(0.0),
        overtime=j.overtime_hours.fill_null(0.0),
        rate=j._rate.cast(PRICE_T),
        multiplier=j._mult.fill_null(1.0),
    )
    keys = ["month", "work_center_id", "shift_id", "regular", "overtime", "rate", "multiplier"]
    return fetch(j.group_by(keys).aggregate(n=j.count()))


def readings_in(t: Tables, lo: dt.date, hi: dt.date) -> ir.Table:
    """The machine readings of the hours that start on a day in [lo, hi]."""
    r = t("machine_readings")
    return r.filter(
        (r.hour_start >= dt.datetime.combine(lo, dt.time()))
        & (r.hour_start < dt.datetime.combine(hi + dt.timedelta(days=1), dt.time()))
    )


def energy_wh(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Wh per month, work centre and machine of the readings in [lo, hi] (each reading rounded to the Wh)."""
    r = readings_in(t, lo, hi)
    j = reach(t, r.mutate(machine=r.machine_id), "machine_readings", {"work_center"})
    j = j.mutate(month=month_of(j.hour_start), work_center_id=j.work_center)
    return fetch(j.group_by(["month", "work_center_id", "machine_id"]).aggregate(wh=_scaled(j.kwh, 1000).sum()))


def bills(t: Tables, roles: tuple[str, ...], lo: dt.date, hi: dt.date) -> ir.Table:
    """The GL entries of `roles` posted in [lo, hi], leaving out the journals that also post a variance role
    in [lo, hi] (the month-end clearing)."""
    g = gl_roles(t)
    g = g.filter(in_range(g.posting_date, lo, hi))
    clearing = g.filter(g.role.startswith("variance_")).select("journal_id")
    return g.filter(g.role.isin(list(roles)) & ~g.journal_id.isin(clearing.journal_id))


def conversion_bills(t: Tables, roles: tuple[str, ...], lo: dt.date, hi: dt.date) -> Rows:
    """Σ postings per month, cost centre and role of `roles` in [lo, hi], leaving out the journals that also
    post a variance role in [lo, hi] (the month-end clearing): month, cost_center_id, role, amount."""
    b = bills(t, roles, lo, hi)
    b = b.mutate(month=month_of(b.posting_date))
    return fetch(b.group_by(["month", "cost_center_id", "role"]).aggregate(amount=b.amount.sum().cast(MONEY_SUM_T)))


def fixed_overhead_budget(t: Tables, lo: dt.date, hi: dt.date) -> ir.Table:
    """The budget lines of fixed-overhead accounts for periods in [lo, hi] (every version)."""
    b = t("budget_lines")
    a = t("accounts").select(_a="account_id", _role="role")
    j = b.join(a, b.account_id == a._a)
    return j.filter((j._role == "fixed_overhead") & in_range(j.period, lo, hi)).drop("_a", "_role")


def fixed_budgets(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """Σ fixed-overhead budget per version, period and cost centre in [lo, hi]."""
    j = fixed_overhead_budget(t, lo, hi)
    return fetch(
        j.group_by(["version", "period", "cost_center_id"]).aggregate(
            amount=j.amount.cast(MONEY_T).sum().cast(MONEY_SUM_T)
        )
    )


# ------------------------------------------------------------------------------------------ row money
def usage_by_order(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """`usage_lines` per order and component, not counted per shape: order_id, qty_e6, cost_e4 (the money of
    each closed order's usage variance, for the drill-down's rows)."""
    j = _order_components(t, lo, hi)
    j = j.select(
        "order_id",
        qty_e6=_scaled(j._issued.fill_null(0.0) - j.planned_qty * j._per, 1_000_000),
        cost_e4=_scaled(j._cost.cast(PRICE_T), 10_000),
    )
    return fetch(j.filter(j.qty_e6.notnull()))


def invoice_revenue(t: Tables, lo: dt.date, hi: dt.date) -> Rows:
    """The revenue (−Σ GL of the revenue role) and the COGS (Σ GL of the cogs role) posted in [lo, hi] per
    AR invoice: invoice_id, revenue, cogs."""
    g = gl_roles(t)
    g = g.filter(g.role.isin(["revenue", "cogs"]) & in_range(g.posting_date, lo, hi))
    zero = ibis.literal(0).cast(MONEY_T)
    return fetch(
        g.group_by(invoice_id=g.source_doc).aggregate(
            revenue=(-ibis.ifelse(g.role == "revenue", g.amount, zero).sum()).cast(MONEY_SUM_T),
            cogs=ibis.ifelse(g.role == "cogs", g.amount, zero).sum().cast(MONEY_SUM_T),
        )
    )
