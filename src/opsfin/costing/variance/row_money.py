"""The money of each source row of a drill-down: what every receipt, order, timesheet, bill, reading,
operation or budget line contributes to its category, in cents that add up exactly to the category's
amount (or, drilled into a member, to the member's amount in the split) — docs/variances.md "Drill-down".

Each row first gets its exact share (a Fraction of cents) from what it records; then every piece of the
bridge (a category in a month, per work centre for labor, energy and overhead) is `apportion`ed over its
rows, the piece's cents as the target. A part no row can carry (a product planned but not sold, a shift
with operations but no timesheets, the GL's COGS rounding) is `unplaced`, never hidden in a row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from ...core.money import timesheet_pay, to_fraction
from ...core.periods import month_end
from ...errors import UserError
from ..reads import costing_tables
from .bridge import _check_dim, build_bridge
from .common import CATEGORIES, SPLITS, UNASSIGNED, Piece, _cents, _month_key, _to_1e4, apportion, he, he_div
from .drill import member_column, source_rows
from .reads import invoice_revenue, product_standards, scrap_orders, usage_by_order, work_centre_standards

CONTRIBUTION = "contribution"  # the column added to the drill's rows
#: the date column that puts a drill row in its month, per source
_DATE = {
    "sales": "invoice_date",
    "material_price": "received_date",
    "invoice_price": "posting_date",
    "orders": "closed_date",
    "timesheets": "work_date",
    "bills": "posting_date",
    "readings": "hour_start",
    "operations": "end_at",
    "fixed_budget": "period",
    "gl": "posting_date",
}
_PER_WORK_CENTRE = ("timesheets", "bills", "readings", "operations", "fixed_budget")


@dataclass
class RowMoney:
    """A drill-down's rows with their `contribution` (Decimal, cents), the amount they explain (the
    category's, or the member's in the split) and the part no row carries: Σ contribution + unplaced = amount."""

    rows: pl.DataFrame
    amount: Decimal
    unplaced: Decimal


Shares = list[Fraction | None]  # per row: its exact cents (None: the row carries none of the category)
Context = dict[str, Any]


def source_rows_money(
    source: Any,
    category: str,
    start=None,
    end=None,
    budget: str | None = None,
    by: str | None = None,
    member: str | None = None,
    base_currency: str = "EUR",
) -> RowMoney:
    """The source rows of `category` (optionally one member's, as `source_rows`) with each row's money."""
    from .drill import DRILL

    if category not in CATEGORIES:
        raise UserError(f"{category!r} has no money per source row: choose one of {', '.join(CATEGORIES)}")
    t = costing_tables(source, base_currency)
    bridge = build_bridge(t, start, end, budget, base_currency)
    rows = source_rows(t, category, start, end, budget, base_currency=base_currency)
    kind = DRILL[category][0]
    pieces = {_piece_key(p): p for p in bridge.pieces if p.category == category}
    keys = [_row_key(kind, r) for r in rows.iter_rows(named=True)]
    split = by is not None and member is not None
    ctx: Context = {"t": t, "bridge": bridge, "pieces": pieces, "keys": keys, "split": split}
    shares = _SHARES[category](rows, ctx)
    keep = [True] * rows.height
    split_of: Callable[[Piece], int] = lambda p: p.target  # noqa: E731
    if by is not None and member is not None:  # split
        dim = _check_dim(by)
        keep = [v == member for v in rows[member_column(category, by, rows.columns)].to_list()]
        split_of = lambda p: _member_cents(p, dim, member)  # type: ignore[arg-type]  # noqa: E731
    cents, amount, unplaced = _apportion_rows(pieces, keys, shares, keep, split_of)
    out = rows.filter(pl.Series(keep, dtype=pl.Boolean)) if rows.height else rows
    money = [Decimal(c).scaleb(-2) for c, k in zip(cents, keep, strict=True) if k]
    out = out.with_columns(pl.Series(CONTRIBUTION, money, dtype=pl.Decimal(18, 2)))
    return RowMoney(out, Decimal(amount).scaleb(-2), Decimal(unplaced).scaleb(-2))


def _piece_key(p: Piece) -> tuple[dt.date, str | None]:
    """A piece's month and, for the categories closed per work centre, its work centre."""
    return (p.month, next(iter(p.parts["work_center"])) if _is_conversion(p.category) else None)


def _is_conversion(category: str) -> bool:
    from .drill import DRILL

    return DRILL[category][0] in _PER_WORK_CENTRE


def _row_key(kind: str, r: dict) -> tuple[dt.date, str | None]:
    return (_month_key(r[_DATE[kind]]), r.get("work_center_id") if kind in _PER_WORK_CENTRE else None)


def _member_cents(p: Piece, by: str, member: str) -> int:
    """The member's cents of piece `p` in the split by `by`, as `bridge_table` splits it."""
    if by in SPLITS.get(p.category, ()) and p.parts.get(by):
        return apportion(p.target, p.parts[by]).get(member, 0)
    return p.target if member == UNASSIGNED else 0


def _apportion_rows(pieces, keys, shares, keep, split_of) -> tuple[list[int], int, int]:
    """Each piece's cents (or its member's) over the kept rows of the piece, by their exact shares."""
    by_key: dict[tuple, dict[str, Fraction]] = defaultdict(dict)
    for i, (key, share, k) in enumerate(zip(keys, shares, keep, strict=True)):
        if k:
            by_key[key][f"{i:09d}"] = share or Fraction(0)
    cents = [0] * len(keys)
    amount = unplaced = 0
    for key in sorted(set(pieces) | set(by_key), key=lambda k: (k[0], str(k[1]))):
        target = split_of(pieces[key]) if key in pieces else 0
        amount += target
        split = apportion(target, by_key.get(key, {}))
        for name, c in split.items():
            if name == UNASSIGNED:
                unplaced += c
            else:
                cents[int(name)] = c
    return cents, amount, unplaced


# ------------------------------------------------------------------------------------------ exact shares
def _f(x: Any) -> Fraction:
    return to_fraction(x)


def _rounded(x: float | None, factor: int) -> int:
    """round(x · factor), half away from zero, as the warehouse reads round (reads._scaled)."""
    return int(Decimal(repr(float(x or 0) * factor)).quantize(Decimal(1), ROUND_HALF_UP))


def _material_price(rows: pl.DataFrame, ctx: Context) -> Shares:
    return [
        Fraction(-he((_f(r["unit_price"]) * _f(r["rate_to_base"]) - _f(r["std_unit_cost"])) * _f(r["qty"]) * 100))
        for r in rows.iter_rows(named=True)
    ]


def _invoice_price(rows: pl.DataFrame, ctx: Context) -> Shares:
    return [Fraction(-_cents(r["amount"])) for r in rows.iter_rows(named=True)]


def _order_range(ctx: Context) -> tuple[dt.date, dt.date]:
    months: list[dt.date] = ctx["bridge"].months
    return months[0], month_end(months[-1])


def _material_usage(rows: pl.DataFrame, ctx: Context) -> Shares:
    per_order: dict[str, int] = defaultdict(int)
    for r in usage_by_order(ctx["t"], *_order_range(ctx)):
        per_order[r["order_id"]] += he_div(r["qty_e6"] * r["cost_e4"], 100_000_000)
    return [Fraction(-per_order.get(o, 0)) for o in rows["order_id"].to_list()]


def _scrap(rows: pl.DataFrame, ctx: Context) -> Shares:
    per_order = {
        r["order_id"]: he_div(r["qty_e6"] * r["cost_e4"], 100_000_000)
        for r in scrap_orders(ctx["t"], *_order_range(ctx))
        if r["qty_e6"] is not None
    }
    return [Fraction(-per_order.get(o, 0)) for o in rows["order_id"].to_list()]


def _labor_rate(rows: pl.DataFrame, ctx: Context) -> Shares:
    out: Shares = []
    for r in rows.iter_rows(named=True):
        regular, overtime = r["regular_hours"] or 0.0, r["overtime_hours"] or 0.0
        mult = 1.0 if r["overtime_multiplier"] is None else r["overtime_multiplier"]
        pay = int(timesheet_pay(regular, overtime, r["hourly_rate"], mult).scaleb(2))
        hours = _f(regular) + _f(overtime)
        out.append(-(pay - hours * _to_1e4(r["std_labor_rate"]) / 100))
    return out


def _hours(r: dict) -> Fraction:
    return _f(r["regular_hours"] or 0.0) + _f(r["overtime_hours"] or 0.0)


def _by_weight(rows: pl.DataFrame, ctx: Context, dim: str | None, col: str | None, weight) -> Shares:
    """Each row's share of its piece's exact part for its member of `dim` (the piece's cents when `dim` is
    None), in proportion to `weight(row)` among the rows of that member in the piece."""
    rs = list(rows.iter_rows(named=True))
    keys = ctx["keys"]
    totals: dict[tuple, Fraction] = defaultdict(Fraction)
    for key, r in zip(keys, rs, strict=True):
        totals[(key, r[col] if col else None)] += weight(r)
    out: Shares = []
    for key, r in zip(keys, rs, strict=True):
        p = ctx["pieces"].get(key)
        member = r[col] if col else None
        total = totals[(key, member)]
        if p is None or not total:
            out.append(None)
            continue
        part = Fraction(p.target) if dim is None else p.parts.get(dim, {}).get(str(member), Fraction(0))
        out.append(part * weight(r) / total)
    return out


def _labor_efficiency(rows: pl.DataFrame, ctx: Context) -> Shares:
    return _by_weight(rows, ctx, "shift", "shift_id", _hours)


def _energy_usage(rows: pl.DataFrame, ctx: Context) -> Shares:
    return _by_weight(rows, ctx, "machine", "machine_id", lambda r: Fraction(_rounded(r["kwh"], 1000)))


def _by_amount(rows: pl.DataFrame, ctx: Context) -> Shares:
    return _by_weight(rows, ctx, None, None, lambda r: _f(r["amount"]))


def _var_overhead_efficiency(rows: pl.DataFrame, ctx: Context) -> Shares:
    vr = {r["work_center_id"]: _to_1e4(r["std_variable_overhead_rate"]) for r in work_centre_standards(ctx["t"])}
    out: Shares = []
    for r in rows.iter_rows(named=True):
        units = _rounded((r["qty_good"] or 0) + (r["qty_scrap"] or 0), 1)
        std = units * _rounded(r["std_run_minutes_per_unit"], 100) if r["std_run_minutes_per_unit"] is not None else 0
        out.append(-Fraction((_rounded(r["run_minutes"], 100) - std) * vr.get(r["work_center_id"], 0), 600_000))
    return out


def _sales_price(rows: pl.DataFrame, ctx: Context) -> Shares:
    """(revenue − COGS) of the line − qty × (planned price − standard cost): the invoice's revenue shared
    over its lines by amount (as the bridge shares it), its COGS posting by the lines' quantity × standard.
    Drilled into a member, COGS counts at standard, as the split counts it (its rounding is `(unassigned)`)."""
    gl = {r["invoice_id"]: (_f(r["revenue"]), _f(r["cogs"])) for r in invoice_revenue(ctx["t"], *_order_range(ctx))}
    list_price = {r["product_id"]: _f(r["list_price"]) for r in product_standards(ctx["t"])}
    rs = list(rows.iter_rows(named=True))
    net: dict[str, Fraction] = defaultdict(Fraction)
    at_std: dict[str, Fraction] = defaultdict(Fraction)
    for r in rs:
        net[r["invoice_id"]] += _f(r["amount"])
        at_std[r["invoice_id"]] += _f(r["qty"]) * _f(r["std_unit_cost"])
    out: Shares = []
    for r in rs:
        inv, qty, std = r["invoice_id"], _f(r["qty"]), _f(r["std_unit_cost"])
        revenue, cogs = gl.get(inv, (Fraction(0), Fraction(0)))
        line_revenue = revenue * _f(r["amount"]) / net[inv] if net[inv] else Fraction(0)
        line_cogs = cogs * qty * std / at_std[inv] if at_std[inv] and not ctx["split"] else qty * std
        price = _f(r["planned_price"]) if r["planned_price"] is not None else list_price.get(r["product_id"], 0)
        out.append((line_revenue - line_cogs - qty * (price - std)) * 100)
    return out


def _sales_volume(rows: pl.DataFrame, ctx: Context) -> Shares:
    return _by_weight(rows, ctx, "product", "product_id", lambda r: _f(r["qty"]))


_SHARES: dict[str, Callable[[pl.DataFrame, Context], Shares]] = {
    "sales_price": _sales_price,
    "sales_mix": _sales_volume,
    "sales_quantity": _sales_volume,
    "material_price": _material_price,
    "invoice_price": _invoice_price,
    "material_usage": _material_usage,
    "scrap": _scrap,
    "labor_rate": _labor_rate,
    "labor_efficiency": _labor_efficiency,
    "energy_price": _by_amount,
    "energy_usage": _energy_usage,
    "var_overhead_spending": _by_amount,
    "var_overhead_efficiency": _var_overhead_efficiency,
    "fixed_overhead_spending": _by_amount,
    "production_volume": _by_amount,
    "other_manufacturing": _by_amount,
}
