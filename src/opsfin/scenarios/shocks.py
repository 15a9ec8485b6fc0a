"""Shocks applied to the plan engine's inputs (docs/scenarios.md "Running a scenario").

- `demand`, `price`, `fx` (revenue side) change the base's priced volume lines (planning.volumes.Volumes
  `lines`): the qty or the unit price of the lines in scope, in the months covered; the sales of a changed
  line are revalued as the plan values them (volumes.sales_value), the others are kept to the cent. A
  customer scope touches a product's line by the customers' share of its orders in the 12 months before
  the plan; an `fx` shock touches a site's revenue by its invoices' share in that currency.
- `capacity`: the work centres in scope lose `size` hours a month (available hours, floored at 0).
- `material_price`, `fx` (purchase side), `scrap`: the receipts (and purchases) of the bought items in scope
  cost `size` % more (scrap: `size` % more of them is used and bought at the same price); the difference is a purchase price variance in the month the goods are received, which is
  the month they are consumed (materials.py: goods arrive on the first day of the month that needs them),
  and the supplier is paid for it on its terms (AP), so the cash follows the purchase timing.
- `supplier_delay`: to keep production going while a supplier delivers `size` days late, its goods are
  held `size` more days of their need in stock (inventory at the receipts' price), bought in the month the
  delay starts and released the month after it ends (receipts, hence AP and cash, move with them).
- `payment_delay`: the customers in scope pay `size` days later (their DSO at those month ends).
The P&L costs of the shocks are in costs.py. Every shock acts only in the months it covers; a month the base
takes from the books (actual volumes) is not shocked."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents, to_decimal
from ..planning.engine import PlanHooks
from ..planning.operations import OperationsPlan
from ..planning.production import days_in
from ..planning.volumes import LINE_SCHEMA, SALES_SCHEMA, Volumes, sales_value
from .base import BaseCase
from .config import Shock, admits
from .costs import shock_costs
from .facts import Facts

REVENUE_KINDS = ("demand", "price", "fx")
EXACT_PRICE = pl.Decimal(38, 12)


def sales_weight(shock: Shock, product: str, site: str, facts: Facts) -> Decimal:
    """The share (0..1) of a product's sales at a site that a revenue shock touches."""
    s = shock.scope
    if shock.kind == "fx":
        mix = facts.currency_mix.get(site, {})
        return sum((mix.get(c, Decimal(0)) for c in s.currencies), Decimal(0))
    if not facts.product_in(s, product, site):
        return Decimal(0)
    if not s.customers:
        return Decimal(1)
    mix = facts.customer_mix.get((product, site), {})
    return sum((mix.get(c, Decimal(0)) for c in s.customers), Decimal(0))


# ------------------------------------------------------------------------------------------ volumes
def shocked_volumes(base: BaseCase, shocks: Sequence[Shock]) -> tuple[Volumes, list[str]]:
    """The base's volumes with the demand, price and fx shocks applied (module docstring)."""
    revenue = [s for s in shocks if s.kind in REVENUE_KINDS]
    problems = [
        f"{s.kind} shock from {s.start:%Y-%m}: {m:%Y-%m} is a month of actuals; it is not shocked"
        for s in shocks
        for m in sorted(base.volumes.actual_months)
        if s.covers(m)
    ]
    if not revenue:
        return base.volumes, problems
    lines = base.volumes.lines
    qty, price = [], []
    for row in lines.iter_rows(named=True):
        q, p = Decimal(1), Decimal(1)
        for s in revenue:
            if s.covers(row["period"]):
                weight = sales_weight(s, row["product_id"], row["site_id"], base.facts)
                if s.kind == "demand":
                    q *= 1 + s.share * weight
                else:
                    p *= 1 + s.share * weight
        qty.append(q)
        price.append(p)
    return revalue(base.volumes, qty, price), problems


def revalue(volumes: Volumes, qty_factor: Sequence[Decimal], price_factor: Sequence[Decimal]) -> Volumes:
    """`volumes` with each priced line's qty and unit price multiplied by its factors; the shipments and
    the sales of the changed lines follow, the others stay as they are."""
    lines = volumes.lines
    changed = [i for i, (q, p) in enumerate(zip(qty_factor, price_factor, strict=True)) if q != 1 or p != 1]
    if not changed:
        return volumes
    old = lines[changed]
    new_qty = [float(to_decimal(q) * qty_factor[i]) for i, q in zip(changed, old["qty"].to_list(), strict=True)]
    new_price = [p * price_factor[i] for i, p in zip(changed, old["unit_price"].to_list(), strict=True)]
    new = old.with_columns(qty=pl.Series(new_qty, dtype=pl.Float64), unit_price=pl.Series(new_price, dtype=EXACT_PRICE))
    delta = pl.concat(
        [
            sales_value(new).with_columns(pl.col("revenue", "cogs").cast(pl.Decimal(38, 2))),
            sales_value(old).with_columns(-pl.col("revenue", "cogs").cast(pl.Decimal(38, 2))),
        ]
    )
    sales = _add_sales(volumes.sales, delta)
    keys = ["period", "site_id", "product_id"]
    shipments = volumes.shipments.join(new.select(*keys, _q="qty"), on=keys, how="left", nulls_equal=True)
    shipments = shipments.with_columns(qty=pl.coalesce("_q", "qty")).drop("_q")
    all_lines = lines.with_row_index("_i").join(
        new.with_columns(_i=pl.Series(changed, dtype=pl.UInt32)).select("_i", _q="qty", _p="unit_price"),
        on="_i",
        how="left",
    )
    all_lines = all_lines.with_columns(
        qty=pl.coalesce("_q", "qty"), unit_price=pl.coalesce(pl.col("_p"), pl.col("unit_price").cast(EXACT_PRICE))
    ).select(list(LINE_SCHEMA))
    return Volumes(volumes.source, shipments, sales, volumes.actual_months, volumes.problems, all_lines)


def _add_sales(sales: pl.DataFrame, delta: pl.DataFrame) -> pl.DataFrame:
    """`sales` plus the revenue and COGS of `delta`, per month and site (a new month-site gets a row)."""
    keys = ["period", "site_id"]
    more = delta.group_by(keys).agg(pl.col("revenue").sum().alias("_r"), pl.col("cogs").sum().alias("_c"))
    out = sales.join(more, on=keys, how="full", coalesce=True, nulls_equal=True)
    zero = pl.lit(Decimal(0), dtype=pl.Decimal(38, 2))
    out = out.with_columns(
        revenue=pl.col("revenue").cast(pl.Decimal(38, 2)).fill_null(zero) + pl.col("_r").fill_null(zero),
        cogs=pl.col("cogs").cast(pl.Decimal(38, 2)).fill_null(zero) + pl.col("_c").fill_null(zero),
    )
    return out.select(pl.col(c).cast(t) for c, t in SALES_SCHEMA.items()).sort(keys, nulls_last=True)


# ------------------------------------------------------------------------------------------ hooks
def hooks_for(base: BaseCase, shocks: Sequence[Shock]) -> PlanHooks:
    """The plan engine hooks of `shocks`: the operations changed, their costs, the later payments."""
    repriced: dict[str, Any] = {}

    def operations(ops: OperationsPlan) -> OperationsPlan:
        ops = _lose_hours(ops, [s for s in shocks if s.kind == "capacity"])
        bought = [s for s in shocks if s.kind in ("material_price", "fx", "scrap")]
        ops, repriced["variances"] = _reprice(ops, bought, base.facts)
        return _hold_stock(ops, [s for s in shocks if s.kind == "supplier_delay"], base.months, base.facts)

    def costs(ops: OperationsPlan) -> pl.DataFrame:
        return shock_costs(base, shocks, ops, repriced.get("variances", []))

    delays = [s for s in shocks if s.kind == "payment_delay"]

    def payment_days(month: dt.date, customer: str | None) -> Decimal:
        sites = base.facts.customer_sites.get(customer or "", frozenset())
        days = Decimal(0)
        for s in delays:
            if s.covers(month) and admits(s.scope.customers, customer):
                if not s.scope.sites or sites & set(s.scope.sites):
                    days += s.size
        return days

    return PlanHooks(operations, costs, payment_days if delays else None)


def _lose_hours(ops: OperationsPlan, shocks: Sequence[Shock]) -> OperationsPlan:
    """Available hours less the hours lost, per work centre and month; utilization and overtime follow."""
    if not shocks:
        return ops
    cap = ops.capacity
    lost = [
        sum((s.size for s in shocks if s.covers(m) and wc in s.scope.work_centers), Decimal(0))
        for m, wc in zip(cap["period"].to_list(), cap["work_center_id"].to_list(), strict=True)
    ]
    cap = cap.with_columns(_lost=pl.Series([float(x) for x in lost], dtype=pl.Float64))
    available = pl.when(pl.col("_lost") > 0).then(
        pl.max_horizontal(pl.col("available_hours") - pl.col("_lost"), pl.lit(0.0))
    )
    cap = cap.with_columns(available_hours=available.otherwise(pl.col("available_hours")))
    hit = pl.col("_lost") > 0
    need, avail = pl.col("required_hours"), pl.col("available_hours")
    cap = cap.with_columns(
        utilization=pl.when(hit).then(pl.when(avail > 0).then(need / avail).otherwise(0.0)).otherwise("utilization"),
        overtime_hours=pl.when(hit).then(pl.max_horizontal(need - avail, pl.lit(0.0))).otherwise("overtime_hours"),
    ).drop("_lost")
    return _replace(ops, capacity=cap)


def _replace(ops: OperationsPlan, **changes: Any) -> OperationsPlan:
    from dataclasses import replace

    return replace(ops, **changes)


def _reprice(
    ops: OperationsPlan, shocks: Sequence[Shock], facts: Facts
) -> tuple[OperationsPlan, list[tuple[dt.date, str, Decimal]]]:
    """Receipts and purchases of the bought items in scope at the shocked price; the receipts' differences
    (period, site, amount) are the purchase price variances."""
    if not shocks:
        return ops, []
    variances = []
    amounts = []
    for r in ops.receipts.iter_rows(named=True):
        factor = _price_factor(shocks, r["period"], r["site_id"], r["product_id"], r["supplier_id"], facts)
        extra = round_cents(to_decimal(r["amount"]) * (factor - 1)) if factor != 1 else Decimal(0)
        amounts.append(to_decimal(r["amount"]) + extra)
        if extra:
            variances.append((r["period"], r["site_id"], extra))
    receipts = ops.receipts.with_columns(amount=pl.Series(amounts, dtype=pl.Decimal(38, 2)).cast(pl.Decimal(18, 2)))
    bought = []
    for r in ops.purchases.iter_rows(named=True):
        supplier = facts.supplier_of(r["site_id"], r["product_id"])
        factor = _price_factor(shocks, r["period"], r["site_id"], r["product_id"], supplier, facts)
        bought.append(to_decimal(r["amount"]) + round_cents(to_decimal(r["amount"]) * (factor - 1)))
    purchases = ops.purchases.with_columns(amount=pl.Series(bought, dtype=pl.Decimal(38, 2)).cast(pl.Decimal(18, 2)))
    return _replace(ops, receipts=receipts, purchases=purchases), variances


def _price_factor(
    shocks: Sequence[Shock], month: dt.date, site: str, item: str, supplier: str | None, facts: Facts
) -> Decimal:
    factor = Decimal(1)
    for s in shocks:
        if not s.covers(month):
            continue
        if s.kind == "fx":
            hit = facts.supplier_currency.get(supplier or "") in s.scope.currencies
        else:
            sc = s.scope
            hit = admits(sc.products, item) and admits(sc.suppliers, supplier) and admits(sc.sites, site)
        if hit:
            factor *= 1 + s.share
    return factor


def _hold_stock(
    ops: OperationsPlan, shocks: Sequence[Shock], months: Sequence[dt.date], facts: Facts
) -> OperationsPlan:
    """Stock held against a late supplier (module docstring): inventory up, receipts moved."""
    if not shocks:
        return ops
    held: dict[tuple[str, str | None, str], dict[dt.date, Decimal]] = defaultdict(dict)
    for r in ops.receipts.iter_rows(named=True):
        days = sum(
            (
                s.size
                for s in shocks
                if s.covers(r["period"])
                and admits(s.scope.suppliers, r["supplier_id"])
                and admits(s.scope.products, r["product_id"])
                and admits(s.scope.sites, r["site_id"])
            ),
            Decimal(0),
        )
        if days and r["period"] in months:
            value = round_cents(to_decimal(r["amount"]) * days / days_in(r["period"]))
            held[(r["site_id"], r["supplier_id"], r["product_id"])][r["period"]] = value
    if not held:
        return ops
    stock: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    moved = []
    for (site, supplier, item), by_month in sorted(held.items(), key=lambda kv: tuple(x or "" for x in kv[0])):
        before = Decimal(0)
        for m in months:
            now = by_month.get(m, Decimal(0))
            stock[(m, site)] += now
            if now != before:
                moved.append((m, site, supplier, item, 0.0, now - before))
            before = now
    have = {(m, site) for m, site in ops.inventory.select("period", "site_id").iter_rows()}
    amounts = [
        to_decimal(a) + stock.get((m, site), Decimal(0))
        for m, site, a in ops.inventory.select("period", "site_id", "amount").iter_rows()
    ]
    inventory = ops.inventory.with_columns(amount=pl.Series(amounts, dtype=pl.Decimal(38, 2)).cast(pl.Decimal(18, 2)))
    new = [(m, site, round_cents(v)) for (m, site), v in sorted(stock.items()) if (m, site) not in have and v]
    inventory = pl.concat([inventory, pl.DataFrame(new, schema=ops.inventory.schema, orient="row")])
    extra = pl.DataFrame(moved, schema=ops.receipts.schema, orient="row")
    return _replace(ops, inventory=inventory, receipts=pl.concat([ops.receipts, extra]))
