"""Unit economics: revenue, actual cost and contribution margin per unit sold (docs/unit-economics.md).

Pure functions of the warehouse tables (`Tables` on DuckDB or Spark, or a DuckDB connection; the reads are
Ibis expressions in reads.py) and the base currency; they return Polars.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from ..core.dimensions import parse_by as check_by
from ..core.dimensions import supported_dims
from ..core.frames import ColumnTypes
from ..core.money import round_cents, round_per_unit, round_shares, to_fraction
from ..core.periods import range_error
from ..errors import UserError
from . import reads
from .order_costs import COMPONENTS, MONEY, ZERO, allocate, cents, order_costs
from .reads import costing_tables

#: the dimensions unit economics splits by (a subset of core/dimensions.py's) and the column of each
BY = supported_dims("product", "family", "site", "customer", "shift")
DIMS = {d: "family" if d == "family" else f"{d}_id" for d in BY}
VARIABLE = ("material", "labor", "energy", "variable_overhead")
SCOPES = ("product", "warehouse", "support")
NO_SHIFT = "(none)"
CELL = ["product_id", "family", "site_id", "customer_id"]


def parse_by(by: str | list[str] | None) -> list[str]:
    """The `--by` dimensions (core/dimensions.py `parse_by`), `product` when none is named."""
    return check_by(by, BY, "unit economics") or ["product"]


def _check_range(start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and start > end:
        raise range_error(start, end)


def revenue_lines(
    t: Any, base_currency: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """AR invoice lines dated in [start, end] with their revenue in base currency: each invoice's net is
    converted once (Σ line amounts × rate at the invoice date, half-even to the cent, as the GL books it)
    and split over its lines by amount, largest remainder."""
    rows = revenue_frame(t, base_currency, start, end).to_dicts()
    for r in rows:
        r["revenue"] = Decimal(r.pop("revenue_cents")).scaleb(-2)
    return rows


def revenue_frame(t: Any, base_currency: str, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """`revenue_lines` as a Polars frame, the revenue in whole cents (`revenue_cents`, Int64). Lines of an
    invoice in the base currency (rate 1) keep their amount; the others (a few) are converted invoice by invoice."""
    lines = reads.invoice_lines(costing_tables(t, base_currency), base_currency, start, end)
    missing = lines.filter(pl.col("rate").is_null())
    if missing.height:
        first = missing.row(0, named=True)
        raise UserError(
            f"ar_invoices {first['invoice_id']}: no fx_rates row for {first['currency']} on or before "
            f"{first['invoice_date']}"
        )
    lines = lines.with_columns(revenue_cents=(pl.col("amount") * 100).cast(pl.Int64))
    foreign = lines.filter(pl.col("rate") != 1)
    if not foreign.height:
        return lines
    converted: list[int] = []
    for (_,), rows in foreign.group_by(["invoice_id"], maintain_order=True):
        rate, amounts = rows["rate"][0], rows["amount"].to_list()
        base = cents(sum(amounts, ZERO) * rate)
        keys = list(range(len(amounts)))
        parts = _split_signed(base, list(zip(keys, amounts, strict=True)))
        converted += [int(parts.get(k, ZERO).scaleb(2)) for k in keys]
    foreign = foreign.with_columns(revenue_cents=pl.Series(converted, dtype=pl.Int64))
    return pl.concat([lines.filter(pl.col("rate") == 1), foreign]).sort(["invoice_id", "line"])


def _split_signed(total: Decimal, keys: list[tuple[Any, Decimal]]) -> dict[Any, Decimal]:
    """Split `total` by weights that may be negative (credit lines): each line's exact share is
    total × weight / Σ weights, rounded to whole cents by the one splitter's rule (opsfin.core.money),
    so the parts add up to `total` exactly."""
    if all(w >= 0 for _, w in keys):
        return allocate(total, [(k, float(w)) for k, w in keys]) or {k: ZERO for k, _ in keys}
    net = sum((to_fraction(w) for _, w in keys), Fraction(0))
    if net == 0:
        return {k: ZERO for k, _ in keys}
    units = int(round_cents(total).scaleb(2))
    parts = round_shares(units, [(k, units * to_fraction(w) / net) for k, w in keys])
    return {k: Decimal(v).scaleb(-2) for k, v in parts.items()}


def _unit_costs(t, start, end, with_shift: bool) -> tuple[dict, dict, dict]:
    """Actual cost per good unit by product (and by (product, completion shift)), from the orders completed
    in [start, end]; products with none fall back to every order completed up to `end`.
    Returns (per_unit[key] -> {component: Decimal}, basis[product] -> str, shift_share[product] -> {shift: qty})."""
    # the history (every order completed up to `end`) holds the period's orders with the same costs: each
    # month's pools are split over that month's operations alone, so one costing serves both
    history = order_costs(t, None, end or dt.date.max)
    frames = [("period", history if start is None else history.filter(pl.col("completed_at").dt.date() >= start))]
    if start is not None:
        frames.append(("history", history))
    per_unit: dict[Any, dict[str, Decimal]] = {}
    basis: dict[str, str] = {}
    shares: dict[str, dict[str, float]] = {}
    for label, frame in frames:
        frame = frame.filter(pl.col("qty_good") > 0)
        sums: dict[Any, dict[str, Any]] = {}
        for r in frame.select("product_id", "completion_shift_id", "qty_good", *COMPONENTS).iter_rows(named=True):
            keys = [r["product_id"]] + ([(r["product_id"], r["completion_shift_id"] or NO_SHIFT)] if with_shift else [])
            for k in keys:
                s = sums.setdefault(k, {"qty": 0.0, **dict.fromkeys(COMPONENTS, ZERO)})
                s["qty"] += r["qty_good"]
                for c in COMPONENTS:
                    s[c] += r[c]
        for k, s in sums.items():
            product = k if isinstance(k, str) else k[0]
            if basis.get(product, label) != label:
                continue
            basis[product] = label
            per_unit[k] = {c: s[c] / Decimal(str(s["qty"])) for c in COMPONENTS}
            if isinstance(k, tuple):
                shares.setdefault(product, {})[k[1]] = s["qty"]
    return per_unit, basis, shares


def unit_economics(
    t: Any,
    base_currency: str,
    by: str | list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """Per group of `by` (product, family, site, customer, shift): units sold (shipments), revenue (AR invoices
    in base currency), actual cost of the units sold by component, unit_cost, contribution margin.
    `t`: warehouse Tables (or a DuckDB connection)."""
    dims = parse_by(by)
    _check_range(start, end)
    t = costing_tables(t, base_currency)
    with_shift = "shift" in dims
    sales = _sales_by_cell(t, base_currency, start, end)
    per_unit, basis, shares = _unit_costs(t, start, end, with_shift)
    fine = _cost_of_units_sold(sales, per_unit, basis, shares if with_shift else None)
    rows = [_margin_row(dims, key, g) for key, g in _grouped(fine, dims)]
    schema: ColumnTypes = {
        **{DIMS[d]: pl.Utf8 for d in dims},
        "units": pl.Float64,
        "revenue": MONEY,
        **{c: MONEY for c in COMPONENTS},
        "unit_cost": pl.Decimal(18, 4),
        "contribution_margin": MONEY,
        "cm_per_unit": pl.Decimal(18, 4),
        "cm_ratio": pl.Float64,
        "cost_basis": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _sales_by_cell(t: Any, base_currency: str, start: dt.date | None, end: dt.date | None) -> dict[tuple, dict]:
    """(product, family, site, customer) -> units shipped and revenue (base currency) in [start, end]."""
    sales: dict[tuple, dict[str, Any]] = {}

    def cell(product, family, site, customer):
        return sales.setdefault((product, family, site, customer), {"units": 0.0, "revenue": ZERO})

    for r in reads.units_shipped(t, start, end):
        cell(r["product_id"], r["family"], r["site_id"], r["customer_id"])["units"] += r["units"] or 0.0
    revenue = revenue_frame(t, base_currency, start, end).group_by(CELL, maintain_order=True)
    for product, family, site, customer, c in revenue.agg(pl.col("revenue_cents").sum()).iter_rows():
        cell(product, family, site, customer)["revenue"] += Decimal(c).scaleb(-2)
    return sales


def _cost_of_units_sold(
    sales: dict[tuple, dict[str, Any]], per_unit: dict, basis: dict, shares: dict | None
) -> list[dict[str, Any]]:
    """One row per (product, family, site, customer, shift) cell: its units and revenue, and the actual cost
    of its units by component, rounded to the cent. With `shares` (split by shift) a cell's units and
    revenue are spread over the product's completion shifts by the quantity each completed."""
    fine: list[dict[str, Any]] = []
    for (product, family, site, customer), v in sorted(sales.items(), key=lambda kv: tuple(map(str, kv[0]))):
        if shares is not None and shares.get(product):
            sh = sorted(shares[product].items())
            total_q = sum(q for _, q in sh)
            rev = allocate(v["revenue"], [(s, q) for s, q in sh]) if v["revenue"] else {}
            cells = [(s, v["units"] * q / total_q, rev.get(s, ZERO)) for s, q in sh]
        else:
            cells = [(NO_SHIFT if shares is not None else None, v["units"], v["revenue"])]
        for shift, units, revenue in cells:
            uc = per_unit.get((product, shift) if shares is not None else product)
            money = {c: (cents(Decimal(str(units)) * uc[c]) if uc else ZERO) for c in COMPONENTS}
            fine.append(
                {
                    "product_id": product,
                    "family": family,
                    "site_id": site,
                    "customer_id": customer,
                    "shift_id": shift,
                    "units": units,
                    "revenue": revenue,
                    **money,
                    "cost_basis": basis.get(product, "none") if units else "none",
                }
            )
    return fine


def _grouped(fine: list[dict[str, Any]], dims: list[str]) -> list[tuple[tuple, dict[str, Any]]]:
    """The cells summed per group of `dims`, in group order: units, revenue, cost by component, cost bases."""
    groups: dict[tuple, dict[str, Any]] = {}
    for f in fine:
        key = tuple(f[DIMS[d]] for d in dims)
        g = groups.setdefault(key, {"units": 0.0, "revenue": ZERO, **dict.fromkeys(COMPONENTS, ZERO), "bases": set()})
        g["units"] += f["units"]
        g["revenue"] += f["revenue"]
        for c in COMPONENTS:
            g[c] += f[c]
        if f["units"]:
            g["bases"].add(f["cost_basis"])
    return sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0]))


def _margin_row(dims: list[str], key: tuple, g: dict[str, Any]) -> dict[str, Any]:
    """A group's row: its sums, full unit cost, contribution margin (revenue − variable cost), per unit and
    as a ratio of revenue."""
    full = sum((g[c] for c in COMPONENTS), ZERO)
    cm = g["revenue"] - sum((g[c] for c in VARIABLE), ZERO)
    units = Decimal(str(g["units"]))
    return {
        **{DIMS[d]: k for d, k in zip(dims, key, strict=True)},
        "units": g["units"],
        "revenue": g["revenue"],
        **{c: g[c] for c in COMPONENTS},
        "unit_cost": round_per_unit(full / units) if units else None,
        "contribution_margin": cm,
        "cm_per_unit": round_per_unit(cm / units) if units else None,
        "cm_ratio": float(cm / g["revenue"]) if g["revenue"] else None,
        "cost_basis": ",".join(sorted(g["bases"])) or "none",
    }


# ------------------------------------------------------------------------------ warehouses and support
def _cost_per_driver(
    t: Any,
    kind: str,
    count_driver: Any,
    driver_key: str,
    count_name: str,
    per_name: str,
    start: dt.date | None,
    end: dt.date | None,
) -> pl.DataFrame:
    """Expense postings of the cost centres of one kind in the period, over a driver count per centre
    (or per site: `count_driver(t, start, end)` → {key: count}), and the cost per driver unit."""
    _check_range(start, end)
    t = costing_tables(t)
    ccs = reads.cost_center_expenses(t, kind, start, end)
    drivers = count_driver(t, start, end)
    rows = []
    for r in ccs:
        n = int(drivers.get(r[driver_key]) or 0)
        rows.append(
            {
                "cost_center_id": r["cost_center_id"],
                "site_id": r["site_id"],
                "cost": r["cost"],
                count_name: n,
                per_name: round_per_unit(r["cost"] / n) if n else None,
            }
        )
    schema: ColumnTypes = {
        "cost_center_id": pl.Utf8,
        "site_id": pl.Utf8,
        "cost": MONEY,
        count_name: pl.Int64,
        per_name: pl.Decimal(18, 4),
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def warehouse_costs(t: Any, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Per warehouse cost centre: its expense postings (GL, expense accounts) in the period, the order
    lines picked at its site (pick tasks finished in the period) and the cost per line picked.
    Several warehouse cost centres on one site share its pick lines."""
    return _cost_per_driver(t, "warehouse", reads.lines_picked, "site_id", "lines_picked", "cost_per_line", start, end)


def support_costs(t: Any, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Per support cost centre: its expense postings in the period, the tickets it closed in the period
    and the cost per ticket."""
    return _cost_per_driver(
        t,
        "support",
        reads.tickets_closed,
        "cost_center_id",
        "tickets_closed",
        "cost_per_ticket",
        start,
        end,
    )
