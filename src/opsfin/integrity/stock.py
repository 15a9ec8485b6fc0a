"""Inventory is conserved: stock of a product at a site never goes negative."""

from __future__ import annotations

from .findings import Con, Finding, cap

NEGATIVE_STOCK = "negative_stock"
TOLERANCE = 1e-9  # quantities are DOUBLE; sums of exact-looking decimals leave float noise


def check_negative_stock(con: Con, base_currency: str) -> list[Finding]:
    """Running Σ inventory_movements.qty per (site_id, product_id), ordered by moved_at then
    movement_id, never goes below −1e-9 (stop). Reports the first movement taking it below."""
    del base_currency
    rows = con.execute(f"""
        WITH running AS (
            SELECT site_id, product_id, moved_at, movement_id, qty,
                   sum(qty) OVER (PARTITION BY site_id, product_id ORDER BY moved_at, movement_id
                                  ROWS UNBOUNDED PRECEDING) AS balance
            FROM inventory_movements
        ),
        negative AS (SELECT * FROM running WHERE balance < -{TOLERANCE})
        SELECT site_id, product_id, moved_at, movement_id, balance,
               count(*) OVER w AS n_negative, min(balance) OVER w AS lowest
        FROM negative
        WINDOW w AS (PARTITION BY site_id, product_id)
        QUALIFY row_number() OVER (PARTITION BY site_id, product_id ORDER BY moved_at, movement_id) = 1
        ORDER BY site_id, product_id
    """).fetchall()
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
            for site, product, moved_at, movement_id, balance, n, lowest in rows
        ],
        "products whose stock goes negative",
    )
