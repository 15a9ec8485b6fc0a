"""What applies to a plant that sells nothing (docs/web.md "A plant's view"): the cost of goods it
manufactured in a period and its cost per unit, per product, from the costing engine's actual order costs
(`Workspace.order_costs`, as `opsfin order-costs`). A plant has no revenue, so a gross margin would only
be its variances with the sign of a loss."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

MONEY = pl.Decimal(18, 2)
UNIT_COST = pl.Decimal(18, 4)
#: the columns of `cost_of_goods_manufactured`, in order, with their types (an empty result has them too)
COLUMNS = pl.Schema(
    {
        "site_id": pl.Utf8(),
        "product_id": pl.Utf8(),
        "orders": pl.UInt32(),
        "qty_good": pl.Float64(),
        "total_cost": MONEY,
        "unit_cost": UNIT_COST,
    }
)


def cost_of_goods_manufactured(ws, sites: list[str], start: str, end: str) -> pl.DataFrame:
    """Per site and product: orders completed in [start, end], good units, their actual cost (material,
    labor, energy, overheads: the engine's `total_cost`) and the cost per good unit (4 places)."""
    orders = ws.order_costs(start, end).filter(pl.col("site_id").is_in(sites))
    if orders.is_empty():
        return pl.DataFrame(schema=COLUMNS)
    grouped = (
        orders.group_by("site_id", "product_id")
        .agg(pl.len().alias("orders"), pl.col("qty_good").sum(), pl.col("total_cost").sum().cast(MONEY))
        .sort("site_id", "product_id")
    )
    unit = [
        (cost / Decimal(str(qty))).quantize(Decimal("0.0001")) if qty else None
        for cost, qty in zip(grouped["total_cost"], grouped["qty_good"], strict=True)
    ]
    return grouped.with_columns(pl.Series("unit_cost", unit, dtype=UNIT_COST))
