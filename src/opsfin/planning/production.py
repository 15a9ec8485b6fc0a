"""Production per product and month (docs/planning.md, "Operations and balances").

Finished goods are shipped at the selling site (the distribution centre, `sales_orders.site_id`) and made at
the production site (the site of the product's routing work centres, else of its production orders).
Finished-goods stock is held at the selling site, per product, to a target days of cover:

    target(m)     = days_of_cover × shipments(m+1) ÷ days(m+1)      (the last month uses its own shipments)
    production(m) = max(0, shipments(m) + target(m) − stock(m−1))
    stock(m)      = stock(m−1) + production(m) − shipments(m)

stock(start−1) is the actual finished-goods stock when the plan starts (inventory_movements), with the stock
held elsewhere (in transit at the plant) counted at the product's main selling site. Pure: Ibis reads,
Polars frames out."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable

import ibis.expr.types as ir
import polars as pl

from ..core.frames import ColumnTypes
from .operations_config import OperationsConfig

#: a warehouse table by name (the engine's tables, whatever holds them)
Read = Callable[[str], ir.Table]

PRODUCTION_SCHEMA: ColumnTypes = {"period": pl.Date, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64}
STOCK_SCHEMA: ColumnTypes = {
    "period": pl.Date,
    "site_id": pl.Utf8,
    "product_id": pl.Utf8,
    "qty": pl.Float64,
}


def days_in(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def production_sites(t: Read) -> dict[str, str]:
    """Where each made product is made: the site of its first routing step's work centre; a product without
    a routing, the site of most of its production orders."""
    r, w = t("routings"), t("work_centers")
    routed = r.join(w.select("work_center_id", "site_id"), "work_center_id")
    first = routed.group_by("product_id").aggregate(step=routed.step.min())
    sited = routed.join(first, ["product_id", "step"]).select("product_id", "site_id")
    out = {row["product_id"]: row["site_id"] for row in sited.to_pyarrow().to_pylist()}
    po = t("production_orders")
    counts = po.group_by(["product_id", "site_id"]).aggregate(n=po.count()).to_pyarrow().to_pylist()
    for row in sorted(counts, key=lambda x: (-x["n"], x["site_id"])):
        out.setdefault(row["product_id"], row["site_id"])
    return out


def fg_opening(stock: pl.DataFrame, shipments: pl.DataFrame) -> dict[tuple[str, str], float]:
    """Opening finished-goods stock per (selling site, product): the stock at the selling site, plus the
    product's stock at sites that do not sell it in the plan (goods in transit) at its main selling site.
    `stock(site_id, product_id, qty)` holds only finished goods."""
    totals = (
        shipments.group_by("site_id", "product_id")
        .agg(pl.col("qty").sum())
        .sort("qty", "site_id", descending=[True, False])
    )
    main: dict[str, str] = {}
    selling: set[tuple[str, str]] = set()
    for row in totals.iter_rows(named=True):
        main.setdefault(row["product_id"], row["site_id"])
        selling.add((row["site_id"], row["product_id"]))
    out: dict[tuple[str, str], float] = defaultdict(float)
    for row in stock.iter_rows(named=True):
        key = (row["site_id"], row["product_id"])
        if key in selling:
            out[key] += row["qty"]
        elif row["product_id"] in main:
            out[(main[row["product_id"]], row["product_id"])] += row["qty"]
    return dict(out)


def plan_production(
    shipments: pl.DataFrame,
    opening: dict[tuple[str, str], float],
    sites: dict[str, str],
    months: list[dt.date],
    config: OperationsConfig,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(production at the production site, finished-goods stock at the selling site at each month end,
    problems) for the `shipments(period, site_id, product_id, qty)` of `months`."""
    shipped: dict[tuple[str, str], dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for row in shipments.filter(pl.col("period").is_in(months)).iter_rows(named=True):
        shipped[(row["site_id"], row["product_id"])][row["period"]] += row["qty"]
    made: list[tuple[dt.date, str, str, float]] = []
    stock_rows: list[tuple[dt.date, str, str, float]] = []
    problems: list[str] = []
    for (site, product), by_month in sorted(shipped.items()):
        plant = sites.get(product)
        if plant is None:
            problems.append(f"{product}: no routing and no production orders; its production is not planned")
            continue
        stock = opening.get((site, product), 0.0)
        cover = config.cover_days(product)
        for i, month in enumerate(months):
            out = by_month.get(month, 0.0)
            ahead = months[i + 1] if i + 1 < len(months) else month
            target = cover * by_month.get(ahead, 0.0) / days_in(ahead)
            qty = max(0.0, out + target - stock)
            stock = stock + qty - out
            if qty:
                made.append((month, plant, product, qty))
            stock_rows.append((month, site, product, stock))
    production = _frame(made, PRODUCTION_SCHEMA).group_by("period", "site_id", "product_id").agg(pl.col("qty").sum())
    return production.sort("period", "site_id", "product_id"), _frame(stock_rows, STOCK_SCHEMA), problems


def _frame(rows: list[tuple[dt.date, str, str, float]], schema: ColumnTypes) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")
