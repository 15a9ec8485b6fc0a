"""The row shapes of `opsfin plan show` (docs/planning.md "Showing and comparing"), for the CLI and the API.

JSON and CSV rows are the plan table's own columns (`version`, `period` as a date, `site_id` with
`--by site`, `line` / `work_center_id` / `role`, the figures), plus `vs` and `delta` with a comparison;
money stays exact. A table for people shows months as YYYY-MM, a P&L line by its label, and a line
without a site as "(no site)"; the version is in the title."""

from __future__ import annotations

from typing import Any

import polars as pl

from .labels import label
from .units import KindOf

NO_SITE = "(no site)"
#: the unit kind of each figure of a plan table (hours and ratios read as such; money exact)
PLAN_KINDS: dict[str, dict[str, KindOf]] = {
    "pnl": {"amount": "money", "vs": "money", "delta": "money"},
    "balances": {"amount": "money", "vs": "money", "delta": "money"},
    "cash": {"amount": "money", "vs": "money", "delta": "money"},
    "capacity": {
        "required_hours": "hours",
        "available_hours": "hours",
        "utilization": "ratio",
        "overtime_hours": "hours",
        "vs": "hours",
        "delta": "hours",
    },
}
TITLES = {"pnl": "P&L", "capacity": "Capacity", "balances": "Balances", "cash": "Cash flow"}


def json_rows(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows as objects with the table's columns (and `vs`, `delta`)."""
    return rows.to_dicts()


def table_rows(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows for reading: without `version`, months as YYYY-MM, lines labelled, a null site named."""
    out = []
    for r in rows.to_dicts():
        r.pop("version", None)
        r["period"] = f"{r['period']:%Y-%m}"
        if "site_id" in r and r["site_id"] is None:
            r["site_id"] = NO_SITE
        if "line" in r:
            r["line"] = label(r["line"])
        out.append(r)
    return out


def title(version: str, what: str, vs: str | None = None, by_site: bool = False) -> str:
    """`P&L of B2025-plan by site vs actual`."""
    text = f"{TITLES[what]} of {version}"
    if by_site:
        text += " by site"
    return text + (f" vs {vs}" if vs else "")
