"""Unit economics: revenue, actual cost and contribution margin per unit sold (docs/unit-economics.md).

Pure functions of the warehouse tables (`Tables` on DuckDB or Spark, or a DuckDB connection; the reads are
Ibis expressions in reads.py) and the base currency; they return Polars.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from ..core.dimensions import parse_by as check_by
from ..core.dimensions import supported_dims
from ..core.frames import ColumnTypes
from ..core.money import round_cents, round_per_unit, round_shares, to_fraction
from ..core.money_frames import split_pools
from ..core.periods import range_error
from ..errors import UserError
from . import reads
from .order_costs import CENT, COMPONENTS, MONEY, ZERO, allocate, cents, order_costs
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
    return _in_base_cents(reads.invoice_lines(costing_tables(t, base_currency), base_currency, start, end))


def _in_base_cents(lines: pl.DataFrame) -> pl.DataFrame:
    """Invoice lines (`reads.invoice_lines`) with `revenue_cents`; a clear error for a line without a rate."""
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
    foreign = foreign.with_columns(revenue_cents=_converted_cents(foreign))
    return pl.concat([lines.filter(pl.col("rate") == 1), foreign]).sort(["invoice_id", "line"])


def _converted_cents(foreign: pl.DataFrame) -> pl.Series:
    """Each line's revenue in base cents (`foreign`: lines of invoices in another currency, each invoice's lines
    together): the invoice's net × its rate, half-even to the cent, split over its lines by amount. Invoices
    without a credit line are split all at once (`split_pools`, the splitter's rule on whole cents), the others
    one by one (`_split_signed`)."""
    invoices = foreign.group_by("invoice_id", maintain_order=True).agg(
        net=pl.col("amount").sum(), rate=pl.col("rate").first(), signed=(pl.col("amount") < 0).any()
    )
    base = [
        int(cents(net * rate).scaleb(2))
        for net, rate in zip(invoices["net"].to_list(), invoices["rate"].to_list(), strict=True)
    ]
    invoices = invoices.with_columns(_total=pl.Series(base, dtype=pl.Int64))
    shares = foreign.select("invoice_id", "amount", "revenue_cents").with_row_index("_row")
    shares = shares.join(invoices.select("invoice_id", "_total", "signed"), on="invoice_id", how="left")
    shares = shares.sort("_row")
    plain = split_pools(shares.filter(~pl.col("signed")), "invoice_id", "revenue_cents", "_total")
    converted = dict(zip(plain["_row"].to_list(), plain["cents"].to_list(), strict=True))
    for (_,), rows in shares.filter(pl.col("signed")).group_by(["invoice_id"], maintain_order=True):
        lines = list(zip(rows["_row"].to_list(), rows["amount"].to_list(), strict=True))
        parts = _split_signed(Decimal(int(rows["_total"][0])).scaleb(-2), lines)
        converted.update((k, int(v.scaleb(2))) for k, v in parts.items())
    return pl.Series([converted.get(i, 0) for i in range(foreign.height)], dtype=pl.Int64)


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
    history = order_costs(t, None, end or dt.date.max, unit_cost=False)
    frames = [("period", history if start is None else history.filter(pl.col("completed_at").dt.date() >= start))]
    if start is not None:
        frames.append(("history", history))
    per_unit: dict[Any, dict[str, Decimal]] = {}
    basis: dict[str, str] = {}
    shares: dict[str, dict[str, float]] = {}
    for label, frame in frames:
        for key, qty, money in _order_sums(frame.filter(pl.col("qty_good") > 0), with_shift):
            product = key if isinstance(key, str) else key[0]
            if basis.get(product, label) != label:
                continue
            basis[product] = label
            per_unit[key] = {c: m / Decimal(str(qty)) for c, m in zip(COMPONENTS, money, strict=True)}
            if isinstance(key, tuple):
                shares.setdefault(product, {})[key[1]] = qty
    return per_unit, basis, shares


def _order_sums(orders: pl.DataFrame, with_shift: bool) -> list[tuple[Any, float, list[Decimal]]]:
    """Good units and cost by component of the orders per product (and per (product, completion shift)):
    (key, units, [Decimal per component]). The units are added one order after the other in order_id order
    (a float sum depends on its order), the money exactly."""
    orders = orders.with_columns(_shift=pl.col("completion_shift_id").fill_null(NO_SHIFT))
    out: list[tuple[Any, float, list[Decimal]]] = []
    for keys in [["product_id"], ["product_id", "_shift"]] if with_shift else [["product_id"]]:
        sums = orders.group_by(keys, maintain_order=True).agg(
            pl.col("qty_good"), *[pl.col(c).sum() for c in COMPONENTS]
        )
        for row in sums.iter_rows():
            qty = 0.0
            for q in row[len(keys)]:
                qty += q
            out.append((row[0] if len(keys) == 1 else (row[0], row[1]), qty, list(row[len(keys) + 1 :])))
    return out


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
    # revenue: the lines at rate 1 summed by the warehouse, the others converted invoice by invoice
    converted = _in_base_cents(reads.invoice_lines(t, base_currency, start, end, converted_only=True))
    for product, family, site, customer, c in converted.group_by(CELL).agg(pl.col("revenue_cents").sum()).iter_rows():
        cell(product, family, site, customer)["revenue"] += Decimal(c).scaleb(-2)
    for r in reads.revenue_at_par(t, base_currency, start, end):
        cell(r["product_id"], r["family"], r["site_id"], r["customer_id"])["revenue"] += r["amount"]
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
            qty = Decimal(str(units))  # each component half-even to the cent (core.money.round_cents), inline
            money = {c: (qty * uc[c]).quantize(CENT, ROUND_HALF_EVEN) if uc else ZERO for c in COMPONENTS}
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
