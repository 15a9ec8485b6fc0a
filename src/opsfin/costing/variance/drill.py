"""Drill-down: the source rows behind a category of the bridge (receipts, orders, timesheets, readings,
bills, …), optionally only one member's (docs/variances.md "Drill-down")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import ibis.expr.types as ir
import polars as pl

from ...core.frames import polars_frame
from ...core.periods import in_range, month_end
from ...errors import UserError
from ...kpis.engine import Tables
from ...kpis.sources import fx_to_base
from ..reads import costing_tables, month_of
from .bridge import _check_dim
from .common import CATEGORIES, VARIANCE_ROLES
from .months import plan_versions, resolve_months
from .reads import (
    bills,
    fixed_overhead_budget,
    gl_roles,
    invoice_price_gl,
    readings_in,
    received_lines,
    standard_operations,
)


# Each source is an Ibis expression over the warehouse `Tables` (DuckDB or Spark), ordered so that the
# rows come out the same on every backend.
def _sales(t: Tables, lo: dt.date, hi: dt.date, versions: list[str], roles, base: str) -> ir.Table:
    i = t("ar_invoices").select("invoice_id", "invoice_date", "customer_id", "currency")
    i = i.filter(in_range(i.invoice_date, lo, hi))
    lines = t("ar_invoice_lines")
    p = t("products").select(_p="product_id", std_unit_cost="std_unit_cost")
    v = t("volume_plan").select(
        version="version",
        _vp="period",
        _vprod="product_id",
        planned_qty="qty",
        planned_price="unit_price",
    )
    v = v.filter(v.version.isin(versions))
    j = lines.join(i, "invoice_id").join(p, lines.product_id == p._p)
    j = j.left_join(v, (v._vprod == j.product_id) & (v._vp == month_of(j.invoice_date)))
    j = j.select(
        "invoice_date",
        "invoice_id",
        "customer_id",
        "currency",
        "line",
        "product_id",
        "qty",
        "unit_price",
        "amount",
        "version",
        "planned_qty",
        "planned_price",
        "std_unit_cost",
    )
    return j.order_by(["invoice_date", "invoice_id", "line", "version"])


def _material_price(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    j = received_lines(t, lo, hi)
    j = fx_to_base(t, j, "currency", "received_date", base)
    j = j.select(
        "receipt_id",
        "received_date",
        "po_id",
        "line",
        "supplier_id",
        "product_id",
        "qty",
        "unit_price",
        "currency",
        rate_to_base=j._rate.cast("decimal(18, 8)"),
        std_unit_cost=j.std_unit_cost,
    )
    return j.order_by(["received_date", "receipt_id"])


def _invoice_price(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    g = invoice_price_gl(t, lo, hi)
    i = t("ap_invoices").select(_i="invoice_id", supplier_id="supplier_id", supplier_ref="supplier_ref")
    j = g.left_join(i, g.source_doc == i._i)
    j = j.select(
        "posting_date",
        "journal_id",
        "entry_id",
        invoice_id=j.source_doc,
        supplier_id=j.supplier_id,
        supplier_ref=j.supplier_ref,
        amount=j.amount,
    )
    return j.order_by(["posting_date", "journal_id", "entry_id"]).drop("entry_id")


def _orders(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    o = t("production_orders")
    o = o.filter((o.status == "closed") & in_range(o.closed_date, lo, hi))
    op = t("operations")
    s = op.group_by(_o="order_id").aggregate(qty_scrap=op.qty_scrap.sum())
    j = o.left_join(s, o.order_id == s._o).drop("_o")
    return j.order_by(["closed_date", "order_id"])


def _timesheets(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    ts = t("timesheets")
    ts = ts.filter(in_range(ts.work_date, lo, hi))
    e = t("employees").select(_e="employee_id", hourly_rate="hourly_rate", overtime_multiplier="overtime_multiplier")
    w = t("work_centers").select(_w="work_center_id", std_labor_rate="std_labor_rate")
    j = ts.join(e, ts.employee_id == e._e).join(w, ts.work_center_id == w._w).drop("_e", "_w")
    return j.order_by(["work_date", "timesheet_id"])


def _operations(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    j = standard_operations(t, lo, hi)
    return j.order_by(["end_at", "operation_id"])


def _readings(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    r = readings_in(t, lo, hi)
    mc = t("machines").select(_m="machine_id", work_center_id="work_center_id")
    j = r.join(mc, r.machine_id == mc._m)
    j = j.select("work_center_id", *r.columns)
    return j.order_by(["machine_id", "hour_start"])


def _bills(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    b = bills(t, roles, lo, hi)
    w = t("work_centers").select(_cc="cost_center_id", work_center_id="work_center_id")
    j = b.join(w, b.cost_center_id == w._cc)
    j = j.select(
        "posting_date",
        "journal_id",
        "source_doc",
        "cost_center_id",
        "work_center_id",
        "role",
        "amount",
        "entry_id",
    )
    return j.order_by(["posting_date", "cost_center_id", "work_center_id", "entry_id"]).drop("entry_id")


def _fixed_budget(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    b = fixed_overhead_budget(t, lo, hi)
    w = t("work_centers").select(_cc="cost_center_id", work_center_id="work_center_id")
    j = b.join(w, b.cost_center_id == w._cc)
    j = j.filter(j.version.isin(versions)).select(*b.columns, "work_center_id")
    return j.order_by(["version", "period", "cost_center_id", "account_id", "work_center_id"])


def _gl_rows(t: Tables, lo: dt.date, hi: dt.date, versions, roles, base: str) -> ir.Table:
    g = gl_roles(t)
    g = g.filter(g.role.isin(list(roles)) & in_range(g.posting_date, lo, hi))
    return g.order_by(["posting_date", "entry_id"])


_SOURCES = {
    "sales": _sales,
    "material_price": _material_price,
    "invoice_price": _invoice_price,
    "orders": _orders,
    "timesheets": _timesheets,
    "operations": _operations,
    "readings": _readings,
    "bills": _bills,
    "fixed_budget": _fixed_budget,
    "gl": _gl_rows,
}
_NEEDS_VERSIONS = ("sales", "fixed_budget")


#: Which source rows explain each category (and, for GL-based ones, which roles).
DRILL: dict[str, tuple[str, tuple[str, ...]]] = {
    "sales_price": ("sales", ()),
    "sales_mix": ("sales", ()),
    "sales_quantity": ("sales", ()),
    "material_price": ("material_price", ()),
    "invoice_price": ("invoice_price", ()),
    "material_usage": ("orders", ()),
    "scrap": ("orders", ()),
    "labor_rate": ("timesheets", ()),
    "labor_efficiency": ("timesheets", ()),
    "energy_price": ("bills", ("energy",)),
    "energy_usage": ("readings", ()),
    "var_overhead_spending": ("bills", ("variable_overhead",)),
    "var_overhead_efficiency": ("operations", ()),
    "fixed_overhead_spending": ("bills", ("fixed_overhead",)),
    "production_volume": ("fixed_budget", ()),
    "other_manufacturing": ("gl", VARIANCE_ROLES),
    "total": ("gl", ("revenue", "cogs", *VARIANCE_ROLES)),
}

_DRILL_FILTER = {  # the column that carries each dimension in a drill table
    "product": "product_id",
    "work_center": "work_center_id",
    "machine": "machine_id",
    "shift": "shift_id",
    "supplier": "supplier_id",
    "customer": "customer_id",
}


def source_rows(
    source: Any,
    category: str,
    start=None,
    end=None,
    budget: str | None = None,
    by: str | None = None,
    member: str | None = None,
    base_currency: str = "EUR",
) -> pl.DataFrame:
    """The source rows behind a category of the bridge (receipts, orders, timesheets, readings, bills, …),
    optionally only those of one member of a dimension; from the warehouse `Tables` (DuckDB or Spark)."""
    if category not in DRILL:
        raise UserError(f"unknown variance category {category!r}: choose one of {', '.join(DRILL)}")
    t = costing_tables(source, base_currency)
    months = resolve_months(t, start, end)
    lo, hi = months[0], month_end(months[-1])
    kind, roles = DRILL[category]
    versions = sorted(set(plan_versions(t, months, budget).values())) if kind in _NEEDS_VERSIONS else []
    expr = _SOURCES[kind](t, lo, hi, versions, roles, base_currency)
    out = polars_frame(expr)
    if by is not None and member is not None:
        out = out.filter(pl.col(member_column(category, by, out.columns)) == member)
    return out


def member_column(category: str, by: str, columns: list[str]) -> str:
    """The column of a category's source rows that carries dimension `by` (a user error if they carry none)."""
    col = _DRILL_FILTER[_check_dim(by)]  # type: ignore[index]
    if col not in columns:
        raise UserError(
            f"{category}: its source rows do not carry {by}; drill without " + "{param}/{member}", param="by"
        )
    return col


def categories() -> Iterable[str]:
    return CATEGORIES
