"""The bridge itself: every month's pieces (sales, material, conversion) plus `other_manufacturing`, which ties
the manufacturing side to the GL; its table by category (optionally by a dimension or by month) and its ends
(static, flexible and actual gross margin). docs/variances.md."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ...core.dimensions import check_dim
from ...core.periods import month_end
from ..reads import costing_tables
from .common import (
    CATEGORIES,
    DIMENSIONS,
    MANUFACTURING_CATEGORIES,
    SALES_CATEGORIES,
    SPLITS,
    UNASSIGNED,
    VARIANCE_ROLES,
    Piece,
    _gl_by_month_role,
    apportion,
)
from .conversion import _conversion
from .material import _material
from .months import plan_versions, resolve_months
from .sales import _sales


@dataclass
class Bridge:
    months: list[dt.date]
    versions: dict[dt.date, str]
    pieces: list[Piece]
    static: dict[dt.date, int]
    actual_gm: dict[dt.date, int]


def build_bridge(source: Any, start=None, end=None, budget: str | None = None, base_currency: str = "EUR") -> Bridge:
    """Every month's pieces of the bridge, from the warehouse `Tables` (DuckDB or Spark; a DuckDB
    connection is read through Ibis too)."""
    t = costing_tables(source, base_currency)
    months = resolve_months(t, start, end)
    versions = plan_versions(t, months, budget)
    gl = _gl_by_month_role(t, months[0], month_end(months[-1]))
    pieces, static = _sales(t, months, versions, gl)
    pieces += _material(t, months, base_currency)
    pieces += _conversion(t, months, versions)
    actual_gm = {}
    for m in months:
        variances = sum(gl.get((m, r), 0) for r in VARIANCE_ROLES)
        actual_gm[m] = -gl.get((m, "revenue"), 0) - (gl.get((m, "cogs"), 0) + variances)
        placed = sum(p.target for p in pieces if p.month == m and p.category in MANUFACTURING_CATEGORIES)
        pieces.append(Piece("other_manufacturing", m, -variances - placed))
    return Bridge(months, versions, pieces, static, actual_gm)


def _check_dim(by: str | None) -> str | None:
    return None if by is None else check_dim(by, DIMENSIONS, "the variance bridge")


def bridge_table(bridge: Bridge, by: str | None = None, monthly: bool = False) -> pl.DataFrame:
    """`[month], category, [<by>], amount` (Decimal cents), in category order, plus a `total` row."""
    by = _check_dim(by)
    sums: dict[tuple, int] = defaultdict(int)
    seen: set[tuple] = set()
    for p in bridge.pieces:
        mkey = p.month if monthly else None
        split: dict[str | None, int]
        if by is None:
            split = {None: p.target}
        elif by in SPLITS.get(p.category, ()) and p.parts.get(by):
            split = apportion(p.target, p.parts[by])
        else:
            split = {UNASSIGNED: p.target}
        seen.add((mkey, p.category))
        for member, cents in split.items():
            sums[(mkey, p.category, member)] += cents
    rows: list[dict[str, Any]] = []
    month_keys = bridge.months if monthly else [None]
    for mk in month_keys:
        for cat in CATEGORIES:
            members = sorted(
                (k[2] for k in sums if k[0] == mk and k[1] == cat),
                key=lambda x: (x is None, x == UNASSIGNED, str(x)),
            )
            if not members:
                members = [None if by is None else UNASSIGNED]
            for member in members:
                cents = sums.get((mk, cat, member), 0)
                if by is not None and cents == 0 and len(members) > 1:
                    continue
                row: dict[str, Any] = {}
                if monthly:
                    row["month"] = mk
                row["category"] = cat
                if by is not None:
                    row[by] = member
                row["amount"] = Decimal(cents).scaleb(-2)
                rows.append(row)
        months = bridge.months if mk is None else [mk]
        total = sum(bridge.actual_gm[m] - bridge.static[m] for m in months)
        parts = sum(v for k, v in sums.items() if k[0] == mk)
        if parts != total:  # pragma: no cover - guarded by construction; never print a bridge that does not add
            raise AssertionError(f"variance bridge does not add: parts {parts} vs total {total}")
        row = {"month": mk} if monthly else {}
        row["category"] = "total"
        if by is not None:
            row[by] = None
        row["amount"] = Decimal(total).scaleb(-2)
        rows.append(row)
    schema: dict[str, Any] = {}
    if monthly:
        schema["month"] = pl.Date
    schema["category"] = pl.Utf8
    if by is not None:
        schema[by] = pl.Utf8
    schema["amount"] = pl.Decimal(18, 2)
    return pl.DataFrame(rows, schema=schema, orient="row")


def variance(
    source: Any,
    start=None,
    end=None,
    budget: str | None = None,
    by: str | None = None,
    base_currency: str = "EUR",
    monthly: bool = False,
) -> pl.DataFrame:
    """The variance bridge for the months in [start, end]: `category, [<by>], amount` plus `total`."""
    _check_dim(by)
    return bridge_table(build_bridge(source, start, end, budget, base_currency), by, monthly)


def summary(bridge: Bridge) -> dict[str, Decimal]:
    """Static-budget GM, flexible-budget GM and actual GM of the bridge's months (Decimal)."""
    static = sum(bridge.static.values())
    actual = sum(bridge.actual_gm.values())
    sales = {c: sum(p.target for p in bridge.pieces if p.category == c) for c in SALES_CATEGORIES}
    flexible = static + sales["sales_mix"] + sales["sales_quantity"]
    return {
        k: Decimal(v).scaleb(-2)
        for k, v in (
            ("static_budget_gm", static),
            ("flexible_budget_gm", flexible),
            ("actual_gm", actual),
        )
    }
