"""A plant's view of the overview (docs/web.md "A plant's view"): a site that sells nothing is not shown
a gross margin (its revenue is nil, so the figure would be its variances with the sign of a loss) but
what applies to a plant: the cost of goods it manufactured, its cost per unit and its variances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..runs.plant_costs import cost_of_goods_manufactured
from .authz import Grant

# tiles that measure sales: at a site without sales they say nothing true
SALES_TILES = ("gross_margin", "cogs")


def plant_sites(grant: Grant, view) -> list[str]:
    """The sites of the view: its site filter, else the sites of a scoped user; [] for the company."""
    if view.site:
        return [view.site]
    return sorted(grant.sites) if grant.scoped and grant.sites else []


def plant_panel(results, grant: Grant, view, variances: dict[str, Any]) -> dict[str, Any]:
    """The plant's cost of goods manufactured per product in the view's month, with its footing, and the
    site total of its manufacturing variances (`variances`: what pages_data.variances gathered)."""
    sites = plant_sites(grant, view)
    rows = results.cache.get(
        ("cost_of_goods_manufactured", tuple(sites), view.start, view.end),
        lambda: cost_of_goods_manufactured(results.ws, sites, view.start, view.end).to_dicts(),
    )
    return {
        "sites": sites,
        "rows": rows,
        "total_cost": sum((r["total_cost"] for r in rows), Decimal(0)),
        "units": sum(r["qty_good"] for r in rows),
        "orders": sum(r["orders"] for r in rows),
        "variance_total": variances.get("site_total"),
        "variance_error": variances.get("error"),
    }
