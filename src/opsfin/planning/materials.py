"""Material requirements and purchases (docs/planning.md, "Operations and balances").

- **BOM explosion.** Each month's production needs qty × `bom.qty_per` of each component, at the production
  site. A component with a BOM of its own is made (it joins the month's production, at the site of its
  routing, else its parent's, and is exploded in turn, to any depth); one without is bought.
- **Timing.** A month's materials are needed on its first day (they are issued when the orders are
  released). The order is placed `suppliers.lead_time_days` earlier: the purchase falls in the month of
  (first day − lead time) and the goods arrive (a receipt, and the supplier's invoice) on the first day of
  the month that needs them. Stock of bought items is kept at its opening level (lot for lot). Orders that
  should have been placed before the plan starts are taken as already placed; needs after the plan's last
  month are taken equal to the last month's, so the last months still order for them.
- **Supplier.** The supplier of the latest purchase order of the item at the site (at any site if none);
  without one the item is bought from nobody with no lead time, and a problem names it.
- **Price.** `standard`: the item's `std_unit_cost`; `recent_po`: the quantity-weighted average price of its
  purchase orders (base currency at the order date's rate) over `price_months` before the plan, the
  standard if it has none. amount = half-even(qty × price) per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import ibis
import polars as pl

from ..core.frames import ColumnTypes
from ..core.money import round_cents, to_decimal
from ..core.periods import add_months, month_start
from .operations_config import OperationsConfig
from .production import Read

MONEY = pl.Decimal(18, 2)
PURCHASE_SCHEMA: ColumnTypes = {
    "period": pl.Date,
    "site_id": pl.Utf8,
    "product_id": pl.Utf8,
    "qty": pl.Float64,
    "amount": MONEY,
}
RECEIPT_SCHEMA: ColumnTypes = {
    "period": pl.Date,
    "site_id": pl.Utf8,
    "supplier_id": pl.Utf8,
    "product_id": pl.Utf8,
    "qty": pl.Float64,
    "amount": MONEY,
}
MAX_LEVELS = 20
Need = dict[tuple[dt.date, str, str], float]


def bill_of_materials(t: Read) -> dict[str, list[tuple[str, float]]]:
    """{product: [(component, qty per unit)]}."""
    rows = t("bom").select("product_id", "component_id", "qty_per").to_pyarrow().to_pylist()
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["product_id"], r["component_id"])):
        out[row["product_id"]].append((row["component_id"], float(row["qty_per"])))
    return dict(out)


def explode(
    production: pl.DataFrame, bom: dict[str, list[tuple[str, float]]], sites: dict[str, str]
) -> tuple[pl.DataFrame, Need, list[str]]:
    """(the production of made items — the finished goods and their made components —, the needs of bought
    items per (month, site, item), problems). A BOM that loops is cut at MAX_LEVELS with a problem."""
    made: Need = defaultdict(float)
    bought: Need = defaultdict(float)
    level: Need = defaultdict(float)
    for row in production.iter_rows(named=True):
        level[(row["period"], row["site_id"], row["product_id"])] += row["qty"]
    problems: list[str] = []
    for depth in range(MAX_LEVELS + 1):
        if not level:
            break
        if depth == MAX_LEVELS:
            problems.append(f"the BOM loops (more than {MAX_LEVELS} levels) under {sorted({k[2] for k in level})}")
            break
        below: Need = defaultdict(float)
        for (month, site, item), qty in level.items():
            made[(month, site, item)] += qty
            for component, qty_per in bom.get(item, []):
                if component in bom:
                    below[(month, sites.get(component, site), component)] += qty * qty_per
                else:
                    bought[(month, site, component)] += qty * qty_per
        level = below
    rows = [(m, s, p, q) for (m, s, p), q in sorted(made.items())]
    frame = pl.DataFrame(rows, schema=["period", "site_id", "product_id", "qty"], orient="row")
    return (
        frame.cast({"period": pl.Date, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64}),
        dict(bought),
        problems,
    )


def suppliers_of(t: Read) -> tuple[dict[tuple[str, str], str], dict[str, str], dict[str, int]]:
    """({(site, item): supplier}, {item: supplier}, {supplier: lead_time_days}) from the latest purchase
    order of each item (ties to the larger po_id)."""
    po = t("purchase_orders").select("po_id", "site_id", "product_id", "supplier_id", "ordered_date")
    rows = sorted(po.to_pyarrow().to_pylist(), key=lambda r: (r["ordered_date"], r["po_id"]))
    by_site = {(r["site_id"], r["product_id"]): r["supplier_id"] for r in rows}
    by_item = {r["product_id"]: r["supplier_id"] for r in rows}
    s = t("suppliers").select("supplier_id", "lead_time_days").to_pyarrow().to_pylist()
    return by_site, by_item, {r["supplier_id"]: int(r["lead_time_days"]) for r in s}


def unit_prices(t: Read, start: dt.date, config: OperationsConfig, base_currency: str) -> dict[str, Decimal]:
    """The price each item is bought at (module docstring, "Price")."""
    p = t("products").select("product_id", "std_unit_cost").to_pyarrow().to_pylist()
    prices = {r["product_id"]: to_decimal(r["std_unit_cost"]) for r in p}
    if config.purchase_price == "recent_po":
        prices.update(_recent_po_prices(t, start, config.price_months, base_currency))
    return prices


def _recent_po_prices(t: Read, start: dt.date, months: int, base_currency: str) -> dict[str, Decimal]:
    from ..kpis.sources import fx_to_base

    po = t("purchase_orders")
    po = po.filter((po.ordered_date >= add_months(start, -months)) & (po.ordered_date < start))
    po = fx_to_base(t, po, "currency", "ordered_date", base_currency)
    exact = "decimal(38, 10)"  # one decimal type for the product (Ibis mixes no two)
    rate = ibis.coalesce(po._rate.cast(exact), ibis.literal(Decimal(1), type=exact))
    value = po.qty.cast(exact) * po.unit_price.cast(exact) * rate
    sums = po.group_by("product_id").aggregate(value=value.sum(), qty=po.qty.sum()).to_pyarrow().to_pylist()
    return {r["product_id"]: to_decimal(r["value"]) / to_decimal(r["qty"]) for r in sums if r["qty"]}


def plan_purchases(
    needs: Need,
    months: list[dt.date],
    suppliers: tuple[dict[tuple[str, str], str], dict[str, str], dict[str, int]],
    prices: dict[str, Decimal],
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(purchases per order month, receipts per month of need with their supplier, problems)."""
    by_site, by_item, lead = suppliers
    last = max(months) if months else None
    ordered: Need = defaultdict(float)
    received: dict[tuple[dt.date, str, str, str], float] = defaultdict(float)
    missing: set[str] = set()
    for (month, site, item), qty in sorted(needs.items()):
        supplier = by_site.get((site, item)) or by_item.get(item)
        if supplier is None:
            missing.add(item)
        days = lead.get(supplier, 0) if supplier else 0
        received[(month, site, supplier or "", item)] += qty
        for need in _needed_months(month, last, days):
            ordered[(month_start(need - dt.timedelta(days=days)), site, item)] += qty
    plan = set(months)
    purchases = [
        (m, s, p, q, round_cents(to_decimal(q) * prices.get(p, Decimal(0))))
        for (m, s, p), q in sorted(ordered.items())
        if m in plan
    ]
    receipts = [
        (m, s, sup or None, p, q, round_cents(to_decimal(q) * prices.get(p, Decimal(0))))
        for (m, s, sup, p), q in sorted(received.items())
    ]
    problems = [f"{item}: no purchase order names its supplier; bought without lead time" for item in sorted(missing)]
    return (
        pl.DataFrame(purchases, schema=PURCHASE_SCHEMA, orient="row"),
        pl.DataFrame(receipts, schema=RECEIPT_SCHEMA, orient="row"),
        problems,
    )


def _needed_months(month: dt.date, last: dt.date | None, lead_days: int) -> list[dt.date]:
    """The month itself and, for the plan's last month, the months after it whose orders fall inside the
    plan (their needs are taken equal to the last month's)."""
    out = [month]
    if month != last:
        return out
    ahead = add_months(month, 1)
    while month_start(ahead - dt.timedelta(days=lead_days)) <= month:
        out.append(ahead)
        ahead = add_months(ahead, 1)
    return out
