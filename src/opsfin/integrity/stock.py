"""Inventory is conserved: stock of a product at a site never goes negative."""

from __future__ import annotations

import ibis

from ..kpis.engine import Tables
from .findings import Finding, cap, rows

NEGATIVE_STOCK = "negative_stock"
TOLERANCE = 1e-9  # quantities are DOUBLE; sums of exact-looking decimals leave float noise


def check_negative_stock(t: Tables, base_currency: str) -> list[Finding]:
    """Running Σ inventory_movements.qty per (site_id, product_id), ordered by moved_at then
    movement_id, never goes below −1e-9 (stop). Reports the first movement taking it below."""
    del base_currency
    m = t("inventory_movements")
    order = [m.moved_at, m.movement_id]
    running = m.select(
        "site_id",
        "product_id",
        "moved_at",
        "movement_id",
        balance=m.qty.sum().over(ibis.cumulative_window(group_by=[m.site_id, m.product_id], order_by=order)),
    )
    negative = running.filter(running.balance < -TOLERANCE)
    per_product = negative.group_by(_site="site_id", _product="product_id").aggregate(
        n_negative=negative.count(), lowest=negative.balance.min()
    )
    first = ibis.window(
        group_by=[negative.site_id, negative.product_id], order_by=[negative.moved_at, negative.movement_id]
    )
    firsts = negative.mutate(_rank=ibis.row_number().over(first))
    firsts = firsts.filter(firsts._rank == 0)
    j = firsts.join(per_product, (firsts.site_id == per_product._site) & (firsts.product_id == per_product._product))
    j = j.select("site_id", "product_id", "moved_at", "movement_id", "balance", "n_negative", "lowest")
    return cap(
        [
            Finding(
                NEGATIVE_STOCK,
                "stop",
                "inventory_movements",
                f"{site}/{product}",
                f"stock of {product} at {site} goes negative on {moved_at.date()} "
                f"(movement {movement_id}: balance {balance:g}); {n} movements leave it negative, "
                f"lowest {lowest:g}",
            )
            for site, product, moved_at, movement_id, balance, n, lowest in rows(j.order_by(["site_id", "product_id"]))
        ],
        "products whose stock goes negative",
    )
