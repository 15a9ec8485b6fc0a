"""The operations a plan needs (docs/planning.md, "Operations and balances"): `plan_operations`.

Shipments per month, selling site and product → production to hold the finished-goods cover
(production.py) → material requirements and purchases timed by supplier lead time (materials.py) → machine
and labor hours against the hours available per work centre (capacity.py) → month-end inventory at
standard per site: bought items (raw materials and bought components) kept at their opening stock at each
site, finished goods at the selling site, and work in process held at the GL's `inventory_wip` balance when
the plan starts (the ledger books it without a cost centre: a row with site_id null). Pure: the warehouse
tables in, Polars frames out; money is Decimal(18,2)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir
import polars as pl

from ..core.frames import ColumnTypes
from ..core.money import round_cents, to_decimal
from .capacity import CAPACITY_SCHEMA, LABOR_SCHEMA, plan_capacity
from .materials import (
    PURCHASE_SCHEMA,
    RECEIPT_SCHEMA,
    bill_of_materials,
    explode,
    plan_purchases,
    suppliers_of,
    unit_prices,
)
from .operations_config import OperationsConfig
from .production import PRODUCTION_SCHEMA, Read, fg_opening, plan_production, production_sites

MONEY = pl.Decimal(18, 2)
INVENTORY_SCHEMA: ColumnTypes = {"period": pl.Date, "site_id": pl.Utf8, "amount": MONEY}
OPENING_SCHEMA: ColumnTypes = {"site_id": pl.Utf8, "amount": MONEY}


@dataclass(frozen=True)
class OperationsPlan:
    """What `plan_operations` returns. `production(period, site_id, product_id, qty)` at the production site
    (finished goods and made components); `purchases(period, site_id, product_id, qty, amount)` in the month
    the order is placed; `capacity` in plan_capacity's columns without `version`; `inventory(period, site_id,
    amount)` at month end; `problems`. Beside the contract: `labor(period, work_center_id, labor_hours)`,
    `receipts(period, site_id, supplier_id, product_id, qty, amount)` in the month the goods arrive (and are
    invoiced), and `opening_inventory(site_id, amount)` when the plan starts (for balances.py)."""

    production: pl.DataFrame
    purchases: pl.DataFrame
    capacity: pl.DataFrame
    inventory: pl.DataFrame
    problems: list[str] = field(default_factory=list)
    labor: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LABOR_SCHEMA))
    receipts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=RECEIPT_SCHEMA))
    opening_inventory: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=OPENING_SCHEMA))


def reader(tables: Mapping[str, ir.Table] | Callable[[str], ir.Table] | Any) -> Read:
    """A table by name from a mapping of Ibis tables or the warehouse `Tables` (called with the name)."""
    if isinstance(tables, Mapping):
        return lambda name: tables[name]
    return tables


def base_currency_of(tables: Any) -> str:
    return str(getattr(tables, "base_currency", "EUR"))


def empty_plan(problems: list[str]) -> OperationsPlan:
    return OperationsPlan(
        pl.DataFrame(schema=PRODUCTION_SCHEMA),
        pl.DataFrame(schema=PURCHASE_SCHEMA),
        pl.DataFrame(schema=CAPACITY_SCHEMA),
        pl.DataFrame(schema=INVENTORY_SCHEMA),
        problems,
    )


def plan_operations(
    tables: Mapping[str, ir.Table] | Any, shipments: pl.DataFrame, months: list[dt.date], config: OperationsConfig
) -> OperationsPlan:
    """The operations plan of `months` (first days of months) for `shipments(period, site_id, product_id,
    qty)`; see the module docstring and docs/planning.md."""
    if not months:
        return empty_plan([])
    t, months = reader(tables), sorted(months)
    start = months[0]
    stock = stock_on_hand(t, start)
    finished = stock.filter(pl.col("kind") == "finished")
    sites = production_sites(t)
    fg, fg_stock, problems = plan_production(shipments, fg_opening(finished, shipments), sites, months, config)
    made, needs, bom_problems = explode(fg, bill_of_materials(t), sites)
    prices = unit_prices(t, start, config, base_currency_of(tables))
    purchases, receipts, buy_problems = plan_purchases(needs, months, suppliers_of(t), prices)
    capacity, labor, capacity_problems = plan_capacity(t, made, months, config)
    inventory, opening = inventory_at_standard(stock, fg_stock, months, standard_costs(t), wip_at_start(t, start))
    return OperationsPlan(
        made,
        purchases,
        capacity,
        inventory,
        problems + bom_problems + buy_problems + capacity_problems,
        labor,
        receipts,
        opening,
    )


def stock_on_hand(t: Read, start: dt.date) -> pl.DataFrame:
    """Stock per site and product before `start` (Σ inventory_movements), with the product's kind and
    standard cost: (site_id, product_id, kind, qty, std_unit_cost)."""
    mv = t("inventory_movements")
    mv = mv.filter(mv.moved_at < start)
    on_hand = mv.group_by(["site_id", "product_id"]).aggregate(qty=mv.qty.sum())
    p = t("products").select("product_id", "kind", "std_unit_cost")
    rows = on_hand.join(p, "product_id").to_pyarrow().to_pylist()
    schema: ColumnTypes = {
        "site_id": pl.Utf8,
        "product_id": pl.Utf8,
        "kind": pl.Utf8,
        "qty": pl.Float64,
        "std_unit_cost": pl.Decimal(18, 4),
    }
    keep = [r for r in rows if r["qty"]]
    return pl.DataFrame(keep, schema=schema, orient="row") if keep else pl.DataFrame(schema=schema)


def wip_at_start(t: Read, start: dt.date) -> Decimal:
    """The GL's `inventory_wip` balance before `start`."""
    g, a = t("gl_entries"), t("accounts")
    j = g.filter(g.posting_date < start).join(a.filter(a.role == "inventory_wip").select("account_id"), "account_id")
    return to_decimal(j.amount.cast("decimal(38, 2)").sum().to_pyarrow().as_py())


def standard_costs(t: Read) -> dict[str, Decimal]:
    rows = t("products").select("product_id", "std_unit_cost").to_pyarrow().to_pylist()
    return {r["product_id"]: to_decimal(r["std_unit_cost"]) for r in rows}


def inventory_at_standard(
    stock: pl.DataFrame,
    fg_stock: pl.DataFrame,
    months: list[dt.date],
    std: Mapping[str, Decimal],
    wip: Decimal = Decimal(0),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(month-end inventory per site, opening inventory per site), qty × standard cost rounded half-even
    per site: bought items at their opening stock every month, finished goods as planned; `wip` every month
    on a row without a site."""
    bought: dict[str | None, Decimal] = defaultdict(Decimal)
    opening: dict[str | None, Decimal] = defaultdict(Decimal)
    if wip:
        bought[None] = opening[None] = wip
    for r in stock.iter_rows(named=True):
        value = to_decimal(r["qty"]) * to_decimal(r["std_unit_cost"])
        opening[r["site_id"]] += value
        if r["kind"] != "finished":
            bought[r["site_id"]] += value
    by_month: dict[tuple[dt.date, str | None], Decimal] = defaultdict(Decimal)
    for month in months:
        for site, value in bought.items():
            by_month[(month, site)] += value
    for r in fg_stock.iter_rows(named=True):
        by_month[(r["period"], r["site_id"])] += to_decimal(r["qty"]) * std.get(r["product_id"], Decimal(0))
    rows = [(m, s, round_cents(v)) for (m, s), v in sorted(by_month.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
    inventory = pl.DataFrame(rows, schema=INVENTORY_SCHEMA, orient="row")
    opening_rows = [(s, round_cents(v)) for s, v in sorted(opening.items(), key=lambda kv: kv[0] or "")]
    return inventory, pl.DataFrame(opening_rows, schema=OPENING_SCHEMA, orient="row")
