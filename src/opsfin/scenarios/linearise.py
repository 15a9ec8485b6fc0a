"""The deterministic run of a scenario, linearised for the Monte Carlo draws (docs/scenarios.md "Monte Carlo
simulation"): `linearise` turns one built plan into arrays per month and product that a draw scales.

- per month and product: the volume, revenue (volume × unit price) and COGS at standard (volume × standard
  unit cost), the bought material in it at standard (the BOM exploded: opsfin.planning.materials.explode) and
  the demand's relative spread;
- per product and work centre: the machine hours of a unit (its own routing and its made components');
  per month and work centre: the plan's required and available hours;
- the manufacturing variances as a share of COGS per month; the receivables' count-back over the customers'
  revenue-weighted DSO (opsfin.planning.balances.count_back) as a matrix, and the revenue per day at that
  depth (what a day of payment delay adds to AR);
- the run's totals per month: revenue, gross margin, operating income and month-end cash.

A draw's result is the run's total plus a change that is linear in the draw's deviations, so a draw with no
deviation is the run, to the cent. Pure: warehouse tables and frames in, arrays out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from ..core.money import to_decimal
from ..core.periods import add_months
from ..planning.balances import count_back, customer_dso, revenue_history
from ..planning.materials import bill_of_materials, explode
from ..planning.production import days_in

MEASURES = ("revenue", "gross_margin", "operating_income", "cash")
#: the demand's relative spread of a product without a forecast band or shipment history
DEFAULT_DEMAND_SD = 0.10
#: the default spread (a product's shipments around their mean) is kept within these bounds
SD_FLOOR, SD_CAP = 0.02, 0.50
HISTORY_MONTHS = 12


@dataclass(frozen=True)
class LinearPlan:
    """Arrays of a deterministic run (module docstring). M months, P products, W work centres; money as
    float64 in base currency, the run's totals also as Decimal (`totals[measure]`)."""

    months: list[dt.date]
    products: list[str]
    families: list[str]
    work_centers: list[str]
    items: list[str]  # K bought items (raw materials and bought components)
    item_families: list[str]
    qty: np.ndarray  # (M, P)
    revenue: np.ndarray  # (M, P)
    cogs: np.ndarray  # (M, P)
    material: np.ndarray  # (P, K): standard cost of bought item k in a unit of product p
    demand_sd: np.ndarray  # (M, P), relative to the volume
    unit_hours: np.ndarray  # (P, W)
    required_hours: np.ndarray  # (M, W)
    available_hours: np.ndarray  # (M, W)
    variance_share: np.ndarray  # (M,)
    ar_count_back: np.ndarray  # (M, M): AR at month end m per unit of revenue in month k
    delay_month: np.ndarray  # (M,) int: the plan month at the DSO's depth, −1 before the plan
    delay_revenue: np.ndarray  # (M,) the run's revenue of that month
    delay_days: np.ndarray  # (M,) the days of that month
    totals: dict[str, list[Decimal]]
    demand_source: str = ""


@dataclass(frozen=True)
class Run:
    """What `linearise` reads of a deterministic run: its P&L and capacity rows (PlanResult), month-end
    cash (period, amount), the shipments (period, site_id, product_id, qty) and unit prices (period,
    product_id, unit_price) that drove it."""

    months: list[dt.date]
    pnl: pl.DataFrame
    capacity: pl.DataFrame
    cash: pl.DataFrame
    shipments: pl.DataFrame
    prices: pl.DataFrame


def linearise(tables: Any, run: Run, base: str, dso_months: int, base_currency: str) -> LinearPlan:
    """The run's arrays (module docstring). `base`: the version the run starts from (a demand forecast's
    band gives the demand's spread)."""
    months = sorted(run.months)
    products, families, qty, revenue, cogs = product_arrays(tables, run.shipments, run.prices, months)
    revenue, cogs = _calibrated(revenue, run.pnl, "revenue", months), _calibrated(cogs, run.pnl, "cogs", months)
    items, item_families, centers, material, hours = unit_contents(tables, products)
    sd, source = demand_spread(tables, base, products, months, qty)
    totals = run_totals(run.pnl, run.cash, months)
    required, available = capacity_arrays(run.capacity, months, centers)
    matrix, depth, depth_revenue, depth_days = receivable_arrays(
        tables, months, totals["revenue"], dso_months, base_currency
    )
    return LinearPlan(
        months=months,
        products=products,
        families=families,
        work_centers=centers,
        items=items,
        item_families=item_families,
        qty=qty,
        revenue=revenue,
        cogs=cogs,
        material=material,
        demand_sd=sd,
        unit_hours=hours,
        required_hours=required,
        available_hours=available,
        variance_share=variance_shares(run.pnl, months),
        ar_count_back=matrix,
        delay_month=depth,
        delay_revenue=depth_revenue,
        delay_days=depth_days,
        totals=totals,
        demand_source=source,
    )


def product_arrays(
    tables: Any, shipments: pl.DataFrame, prices: pl.DataFrame, months: Sequence[dt.date]
) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(products, families, qty, revenue, cogs): the volumes per month and product summed over sites, valued
    at `prices(period, product_id, unit_price)` and at the products' standard cost."""
    p = tables("products").select("product_id", "family", "std_unit_cost").to_pyarrow().to_pylist()
    family = {r["product_id"]: r["family"] or "" for r in p}
    std = {r["product_id"]: float(r["std_unit_cost"] or 0) for r in p}
    sold = shipments.group_by("period", "product_id").agg(pl.col("qty").sum())
    products = sorted(set(sold["product_id"].to_list()))
    index_m = {m: i for i, m in enumerate(months)}
    index_p = {pid: j for j, pid in enumerate(products)}
    qty = np.zeros((len(months), len(products)))
    for r in sold.iter_rows(named=True):
        if r["period"] in index_m:
            qty[index_m[r["period"]], index_p[r["product_id"]]] += r["qty"]
    price = np.zeros_like(qty)
    for r in prices.iter_rows(named=True):
        if r["period"] in index_m and r["product_id"] in index_p:
            price[index_m[r["period"]], index_p[r["product_id"]]] = float(r["unit_price"])
    cost = np.array([std.get(pid, 0.0) for pid in products])
    return products, [family.get(pid, "") for pid in products], qty, qty * price, qty * cost


def unit_contents(tables: Any, products: list[str]) -> tuple[list[str], list[str], list[str], np.ndarray, np.ndarray]:
    """(bought items, their families, work centres, material (P, K): standard cost of bought item k in a unit of p, hours
    (P, W): machine hours of a unit of p at each work centre, its made components' included)."""
    p = tables("products").select("product_id", "family", "std_unit_cost").to_pyarrow().to_pylist()
    std = {r["product_id"]: float(r["std_unit_cost"] or 0) for r in p}
    family = {r["product_id"]: r["family"] or "" for r in p}
    bom = bill_of_materials(tables)
    one = pl.DataFrame(
        {
            "period": [dt.date(2000, 1, 1)] * len(products),
            "site_id": [""] * len(products),
            "product_id": products,
            "qty": [1.0] * len(products),
        },
        schema={"period": pl.Date, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64},
    )
    made_rows: list[dict[str, float]] = []
    bought: dict[str, dict[str, float]] = {}
    for j, pid in enumerate(products):  # one product at a time: its own unit's made items and bought items
        made_frame, need, _ = explode(one.slice(j, 1), bom, {})
        made_rows.append({r["product_id"]: r["qty"] for r in made_frame.iter_rows(named=True)})
        bought[pid] = {item: q for (_m, _s, item), q in need.items()}
    items = sorted({k for b in bought.values() for k in b})
    material = np.array([[bought[pid].get(k, 0.0) * std.get(k, 0.0) for k in items] for pid in products])
    routings = tables("routings").select("product_id", "work_center_id", "std_run_minutes_per_unit")
    steps = routings.to_pyarrow().to_pylist()
    centers = sorted({r["work_center_id"] for r in steps})
    index_w = {w: i for i, w in enumerate(centers)}
    hours = np.zeros((len(products), len(centers)))
    for j, made in enumerate(made_rows):
        for r in steps:
            if r["product_id"] in made:
                hours[j, index_w[r["work_center_id"]]] += (
                    made[r["product_id"]] * float(r["std_run_minutes_per_unit"]) / 60
                )
    families = [family.get(k, "") for k in items]
    return items, families, centers, material.reshape(len(products), len(items)), hours


def demand_spread(
    tables: Any, base: str, products: list[str], months: Sequence[dt.date], qty: np.ndarray
) -> tuple[np.ndarray, str]:
    """(the demand's relative sd per month and product, where it came from). A demand forecast's band: the
    product's (p90 − p10) ÷ (2 z) ÷ p50, z the normal quantile of the forecast's interval level. Otherwise
    the products' historical error of a flat forecast: the coefficient of variation of their monthly
    shipments over the HISTORY_MONTHS before the plan, within [SD_FLOOR, SD_CAP] (DEFAULT_DEMAND_SD
    without history)."""
    band = _forecast_band(tables, base, products, months)
    if band is not None:
        return band, f"forecast {base} p10..p90"
    return _history_spread(tables, products, months[0], qty.shape[0]), "history: shipments' monthly spread"


def _forecast_band(tables: Any, base: str, products: list[str], months: Sequence[dt.date]) -> np.ndarray | None:
    try:
        fv = tables("forecast_versions")
    except Exception:  # noqa: BLE001 - a warehouse made before forecasts were stored has no such table
        return None
    found = fv.filter(fv.version == base).select("level").to_pyarrow().to_pylist()
    if not found:
        return None
    z = NormalDist().inv_cdf(0.5 + float(found[0]["level"]) / 200)
    v = tables("forecast_values")
    v = v.filter((v.version == base) & (v.level == "product"))
    rows = v.select(period=v.period.cast("date"), key="key", p10="p10", p50="p50", p90="p90").to_pyarrow().to_pylist()
    index_m = {m: i for i, m in enumerate(months)}
    index_p = {pid: j for j, pid in enumerate(products)}
    sd = np.full((len(months), len(products)), DEFAULT_DEMAND_SD)
    for r in rows:
        i, j = index_m.get(r["period"]), index_p.get(r["key"])
        if i is not None and j is not None and r["p50"] and r["p50"] > 0:
            sd[i, j] = max(0.0, (r["p90"] - r["p10"]) / (2 * z) / r["p50"])
    return sd


def _history_spread(tables: Any, products: list[str], start: dt.date, n_months: int) -> np.ndarray:
    from ..forecast.demand import shipped_series

    series = shipped_series(tables, add_months(start, -1))
    sd = np.full(len(products), DEFAULT_DEMAND_SD)
    if not series.empty:
        frame = pl.from_pandas(series).with_columns(pl.col("ds").cast(pl.Date))
        frame = frame.filter(pl.col("ds") >= add_months(start, -HISTORY_MONTHS))
        monthly = frame.group_by("product_id", "ds").agg(pl.col("y").sum())
        stats = monthly.group_by("product_id").agg(mean=pl.col("y").mean(), sd=pl.col("y").std(), n=pl.len())
        index_p = {pid: j for j, pid in enumerate(products)}
        for r in stats.iter_rows(named=True):
            j = index_p.get(r["product_id"])
            if j is not None and r["n"] >= 3 and r["mean"]:
                sd[j] = min(SD_CAP, max(SD_FLOOR, (r["sd"] or 0.0) / r["mean"]))
    return np.tile(sd, (n_months, 1))


def receivable_arrays(
    tables: Any, months: Sequence[dt.date], revenue: Sequence[Decimal], dso_months: int, base_currency: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(count-back matrix (M, M), depth month (M,), its revenue (M,), its days (M,)) over the customers'
    revenue-weighted DSO (opsfin.planning.balances.customer_dso)."""
    start = months[0]
    customers = customer_dso(tables, start, dso_months, base_currency)
    dso = sum((w * d for w, d in customers), Decimal(0))
    n = len(months)
    matrix = np.zeros((n, n))
    for k, month_k in enumerate(months):
        unit = {month_k: Decimal(1)}
        for m in range(k, n):
            matrix[m, k] = float(count_back(unit, dso, months[m]))
    history = {**revenue_history(tables, start), **dict(zip(months, revenue, strict=True))}
    depth, depth_revenue, depth_days = np.full(n, -1), np.zeros(n), np.zeros(n)
    for m, month in enumerate(months):
        left, at = dso, month
        while left > days_in(at):
            left -= days_in(at)
            at = add_months(at, -1)
        depth[m] = months.index(at) if at in months else -1
        depth_revenue[m] = float(history.get(at, Decimal(0)))
        depth_days[m] = days_in(at)
    return matrix, depth, depth_revenue, depth_days


def _calibrated(values: np.ndarray, pnl: pl.DataFrame, line: str, months: Sequence[dt.date]) -> np.ndarray:
    """`values` (M, P) scaled month by month to the run's `line` (its prices, rounding and the shocks' changes
    to volumes; products without a value keep 0)."""
    sums = pnl.filter(pl.col("line") == line).group_by("period").agg(pl.col("amount").sum())
    by_month = dict(zip(sums["period"].to_list(), sums["amount"].to_list(), strict=True))
    target = np.array([float(by_month.get(m, 0) or 0) for m in months])
    own = values.sum(axis=1)
    ratio = np.divide(target, own, out=np.ones_like(own), where=own != 0)
    return values * ratio[:, None]


def run_totals(pnl: pl.DataFrame, cash: pl.DataFrame, months: Sequence[dt.date]) -> dict[str, list[Decimal]]:
    """The run's revenue, gross margin and operating income (Σ sites) and month-end cash per month."""
    out: dict[str, list[Decimal]] = {}
    for line in MEASURES[:3]:
        sums = pnl.filter(pl.col("line") == line).group_by("period").agg(pl.col("amount").sum())
        by_month = dict(zip(sums["period"].to_list(), sums["amount"].to_list(), strict=True))
        out[line] = [to_decimal(by_month.get(m, 0)) for m in months]
    by_month = dict(zip(cash["period"].to_list(), cash["amount"].to_list(), strict=True))
    out["cash"] = [to_decimal(by_month.get(m, 0)) for m in months]
    return out


def variance_shares(pnl: pl.DataFrame, months: Sequence[dt.date]) -> np.ndarray:
    """The run's variances ÷ COGS per month (0 without COGS): a draw's variances follow its COGS."""
    out = np.zeros(len(months))
    for i, m in enumerate(months):
        month = pnl.filter(pl.col("period") == m)
        cogs = float(month.filter(pl.col("line") == "cogs")["amount"].sum() or 0)
        variances = float(month.filter(pl.col("line") == "variances")["amount"].sum() or 0)
        out[i] = variances / cogs if cogs else 0.0
    return out


def capacity_arrays(
    capacity: pl.DataFrame, months: Sequence[dt.date], centers: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(required, available) machine hours per month and work centre of the run's capacity plan."""
    required, available = np.zeros((len(months), len(centers))), np.zeros((len(months), len(centers)))
    index_m = {m: i for i, m in enumerate(months)}
    index_w = {w: i for i, w in enumerate(centers)}
    for r in capacity.iter_rows(named=True):
        i, w = index_m.get(r["period"]), index_w.get(r["work_center_id"])
        if i is not None and w is not None:
            required[i, w] += r["required_hours"] or 0.0
            available[i, w] += r["available_hours"] or 0.0
    return required, available
