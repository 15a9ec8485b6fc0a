"""What the shocks read from the warehouse, once per base (docs/scenarios.md "Running a scenario"):
products' families, the standard energy and labour content of each routing step, the machine hours a
finished unit needs per work centre (its made components included), the overtime premium per work centre,
the suppliers and their currencies, and the mixes that place a shock on a customer or a currency (each
over the 12 months before the plan; over all the books when they start with the plan). Pure: Ibis reads of the warehouse tables, plain values out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from ..core.dimension_joins import reach
from ..core.money import to_decimal
from ..core.periods import add_months
from ..planning.config import PlanningConfig
from ..planning.materials import bill_of_materials, suppliers_of
from ..planning.operations import base_currency_of, reader
from ..planning.production import Read
from ..planning.volumes import Volumes
from .config import Scope, admits

MIX_MONTHS = 12
#: the overtime premium of a work centre without assigned employees: half its standard labour rate
DEFAULT_PREMIUM = Decimal("0.5")
K = TypeVar("K")
Mix = dict[tuple[str, str], dict[str, Decimal]]


@dataclass(frozen=True)
class Step:
    """One routing step's standard content per unit: machine hours, energy and labour cost."""

    product_id: str
    work_center_id: str
    site_id: str
    hours: float
    energy: Decimal
    labor: Decimal


@dataclass(frozen=True)
class Facts:
    """The warehouse facts a scenario's shocks read (module docstring)."""

    base_currency: str
    families: dict[str, str]
    steps: tuple[Step, ...]
    unit_hours: dict[str, dict[str, float]]  # finished product → {work centre: machine hours per unit}
    wc_site: dict[str, str]
    premium: dict[str, Decimal]  # work centre → overtime premium per hour
    suppliers: tuple[dict[tuple[str, str], str], dict[str, str], dict[str, int]]  # materials.suppliers_of
    supplier_currency: dict[str, str]
    customer_mix: Mix  # (product, selling site) → {customer: share of its ordered qty}
    currency_mix: dict[str, dict[str, Decimal]]  # selling site → {currency: share of its invoiced net}
    customer_sites: dict[str, frozenset[str]]
    payroll: dict[str | None, Decimal]  # site → payroll opex per month (the run rate before the plan)

    def product_in(self, scope: Scope, product: str, site: str | None) -> bool:
        """True when `product` at `site` is in the scope's products, families and sites (empty = all)."""
        return (
            admits(scope.products, product)
            and admits(scope.families, self.families.get(product))
            and admits(scope.sites, site)
        )

    def supplier_of(self, site: str, item: str) -> str | None:
        by_site, by_item, _lead = self.suppliers
        return by_site.get((site, item)) or by_item.get(item)


def read_facts(tables: Any, volumes: Volumes, months: Sequence[dt.date], config: PlanningConfig) -> Facts:
    """The facts of a base whose plan covers `months`."""
    t = reader(tables)
    start = min(months)
    steps = _steps(t)
    wc_site = {r["work_center_id"]: r["site_id"] for r in _rows(t("work_centers"))}
    customer_mix, customer_sites = _customer_mix(t, start)
    return Facts(
        base_currency_of(tables),
        {r["product_id"]: r["family"] for r in _rows(t("products")) if r["family"]},
        steps,
        _unit_hours(steps, bill_of_materials(t)),
        wc_site,
        _premiums(t),
        suppliers_of(t),
        {r["supplier_id"]: r["currency"] for r in _rows(t("suppliers"))},
        customer_mix,
        _currency_mix(t, start),
        customer_sites,
        _payroll(t, start, config.opex.run_rate_months),
    )


def _rows(expr: Any) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _steps(t: Read) -> tuple[Step, ...]:
    r, w, s = t("routings"), t("work_centers"), t("sites")
    j = r.join(w.select("work_center_id", "site_id", "std_labor_rate"), "work_center_id")
    j = j.join(s.select("site_id", "std_energy_price"), "site_id")
    out = []
    for x in sorted(_rows(j), key=lambda x: (x["product_id"], x["step"])):
        energy = to_decimal(x["std_kwh_per_unit"] or 0) * to_decimal(x["std_energy_price"] or 0)
        labor = to_decimal(x["std_labor_minutes_per_unit"] or 0) / 60 * to_decimal(x["std_labor_rate"] or 0)
        hours = float(x["std_run_minutes_per_unit"] or 0) / 60
        out.append(Step(x["product_id"], x["work_center_id"], x["site_id"], hours, energy, labor))
    return tuple(out)


def _unit_hours(steps: Sequence[Step], bom: dict[str, list[tuple[str, float]]]) -> dict[str, dict[str, float]]:
    """Machine run hours per unit of each routed product, the made components' hours included (qty_per)."""
    own: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s in steps:
        own[s.product_id][s.work_center_id] += s.hours

    def total(product: str, depth: int = 0) -> dict[str, float]:
        out = defaultdict(float, own.get(product, {}))
        if depth < 20:
            for component, qty_per in bom.get(product, []):
                if component in bom:
                    for wc, h in total(component, depth + 1).items():
                        out[wc] += qty_per * h
        return dict(out)

    return {p: total(p) for p in set(own) | set(bom)}


def _premiums(t: Read) -> dict[str, Decimal]:
    """Average premium of an overtime hour per work centre: hourly rate × (overtime multiplier − 1) of the
    employees assigned to it; without any, DEFAULT_PREMIUM × its standard labour rate."""
    rates: dict[str, list[Decimal]] = defaultdict(list)
    for e in _rows(t("employees")):
        if e["work_center_id"] and e["hourly_rate"] is not None:
            mult = to_decimal(e["overtime_multiplier"] if e["overtime_multiplier"] is not None else 1)
            rates[e["work_center_id"]].append(to_decimal(e["hourly_rate"]) * (mult - 1))
    out = {}
    for w in _rows(t("work_centers")):
        wc, got = w["work_center_id"], rates.get(w["work_center_id"])
        out[wc] = sum(got, Decimal(0)) / len(got) if got else to_decimal(w["std_labor_rate"] or 0) * DEFAULT_PREMIUM
    return out


def _window(rows: Any, column: str, start: dt.date) -> Any:
    """The rows of the MIX_MONTHS before `start`; all of them when there are none (a plan of the first
    months of the books)."""
    day = rows[column]
    before = rows.filter((day >= add_months(start, -MIX_MONTHS)) & (day < start))
    return before if before.count().to_pyarrow().as_py() else rows


def _customer_mix(t: Read, start: dt.date) -> tuple[Mix, dict[str, frozenset[str]]]:
    so = _window(t("sales_orders"), "ordered_date", start)
    sums = so.group_by(["product_id", "site_id", "customer_id"]).aggregate(q=so.qty.sum())
    qty: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    sites: dict[str, set[str]] = defaultdict(set)
    for r in _rows(sums):
        qty[(r["product_id"], r["site_id"])][r["customer_id"]] = to_decimal(r["q"])
        sites[r["customer_id"]].add(r["site_id"])
    return _shares(qty), {c: frozenset(s) for c, s in sites.items()}


def _currency_mix(t: Read, start: dt.date) -> dict[str, dict[str, Decimal]]:
    inv, so = _window(t("ar_invoices"), "invoice_date", start), t("sales_orders")
    sites = so.group_by("so_id").aggregate(site_id=so.site_id.min())
    j = inv.join(sites, "so_id")
    net = (j.total - j.tax_amount).cast("decimal(38, 2)")
    sums = j.group_by(["site_id", "currency"]).aggregate(net=net.sum())
    by_site: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for r in _rows(sums):
        by_site[r["site_id"]][r["currency"]] = to_decimal(r["net"])
    return _shares(by_site)


def _shares(sums: dict[K, dict[str, Decimal]]) -> dict[K, dict[str, Decimal]]:
    out: dict[K, dict[str, Decimal]] = {}
    for key, parts in sums.items():
        total = sum(parts.values(), Decimal(0))
        if total:
            out[key] = {k: v / total for k, v in parts.items()}
    return out


def _payroll(t: Read, start: dt.date, months: int) -> dict[str | None, Decimal]:
    """The GL's `payroll` expense per site, averaged over the `months` before `start`."""
    g, a = t("gl_entries"), t("accounts")
    a = a.filter(a.role == "payroll").select(_a="account_id")
    g = g.join(a, g.account_id == a._a)
    g = g.filter((g.posting_date.cast("date") >= add_months(start, -months)) & (g.posting_date.cast("date") < start))
    rel = reach(t, g.select(cost_center=g.cost_center_id, amount=g.amount), "gl_entries", {"site"}, keep_rows=True)
    sums = rel.group_by(site_id=rel.site).aggregate(amount=rel.amount.cast("decimal(38, 2)").sum())
    return {r["site_id"]: to_decimal(r["amount"]) / months for r in _rows(sums)}
