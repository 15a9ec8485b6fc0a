"""Demand forecasts from the warehouse (docs/forecasting.md "Demand forecasts from the warehouse").

Pure functions of the warehouse `Tables` (DuckDB or Spark, as the other engines receive them): the shipped
quantity per product × site × month up to an as-of month, its hierarchy forecast and reconciled
(hierarchy.py), and the rows a plan version stores. Nothing after the as-of month is read, except the
date of the last shipment, to refuse an as-of month the warehouse has not reached."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from ..core.money import round_per_unit
from ..core.periods import add_months, month_end, month_start
from ..costing.reads import QTY_SUM_T, fetch, month_of
from ..costing.unit_economics import revenue_lines
from ..errors import UserError
from .config import ForecastConfig
from .engine import ForecastResult, forecast_series
from .hierarchy import LEVELS, Reconciled, aggregate, family_map, member_id, reconcile, split_member_id, structure
from .pooling import pool_with_family

# forecast_series, or a function with its signature that runs it elsewhere (runs/forecast_spark.py)
Forecaster = Callable[[pd.DataFrame, ForecastConfig], ForecastResult]

MIN_HISTORY_MONTHS = 3
PRICE_LOOKBACK_MONTHS = 12  # the latest actual price is looked for in the 12 months up to the as-of month
VALUE_COLUMNS = ("period", "level", "key", "p10", "p50", "p90", "model")


def shipped_series(t: Any, as_of: dt.date) -> pd.DataFrame:
    """Shipped quantity per product × site × month, from the first shipment to the as-of month.

    `t`: warehouse Tables; `as_of`: any day of the last month read (shipments after its end are not read).
    A shipment's product and site are its sales-order line's. A month without shipments between the
    product's first shipment (at any site) and the as-of month is 0. Returns product_id, site_id,
    ds (datetime64, first of month), y (float, an exact sum) sorted by product, site and month."""
    last = month_end(as_of)
    sh = t("shipments")
    sh = sh.filter(sh.shipped_date.cast("date") <= last)
    so = t("sales_orders").select(_so="so_id", _line="line", product_id="product_id", site_id="site_id")
    j = sh.join(so, (sh.so_id == so._so) & (sh.line == so._line))
    expr = j.group_by(product_id=j.product_id, site_id=j.site_id, month=month_of(j.shipped_date)).aggregate(
        qty=j.qty.cast(QTY_SUM_T).sum().cast(QTY_SUM_T)
    )
    shipped = {(r["product_id"], r["site_id"], r["month"]): float(r["qty"] or 0) for r in fetch(expr)}
    first: dict[str, dt.date] = {}
    for product, _, month in shipped:
        first[product] = min(month, first.get(product, month))
    rows = []
    for product, site in sorted({(p, s) for p, s, _ in shipped}):
        month = first[product]
        while month <= month_start(last):
            rows.append((product, site, pd.Timestamp(month), shipped.get((product, site, month), 0.0)))
            month = add_months(month, 1)
    frame = pd.DataFrame(rows, columns=["product_id", "site_id", "ds", "y"])
    return frame.astype({"ds": "datetime64[ns]", "y": float})


def check_as_of(t: Any, as_of: dt.date) -> None:
    """A UserError when the as-of month is after the last shipment's month or leaves fewer than
    MIN_HISTORY_MONTHS months of shipments (counted from the first shipment's month)."""
    sh = t("shipments")
    span = fetch(sh.aggregate(first=sh.shipped_date.cast("date").min(), last=sh.shipped_date.cast("date").max()))[0]
    if span["first"] is None:
        raise UserError("no shipments in the warehouse: nothing to forecast (load shipments and sales_orders)")
    first, last = month_start(span["first"]), month_start(span["last"])
    if as_of > last:
        raise UserError(
            "{param} " + f"{as_of:%Y-%m} is after the last month with shipments ({last:%Y-%m})",
            param="as_of",
            value=f"{as_of:%Y-%m}",
            hint=f"use {last:%Y-%m} or earlier",
        )
    months = (as_of.year - first.year) * 12 + as_of.month - first.month + 1
    if months < MIN_HISTORY_MONTHS:
        earliest = add_months(first, MIN_HISTORY_MONTHS - 1)
        raise UserError(
            "{param} "
            + f"{as_of:%Y-%m} leaves {max(months, 0)} month(s) of shipments (from {first:%Y-%m}); "
            + f"a forecast needs at least {MIN_HISTORY_MONTHS}",
            param="as_of",
            value=f"{as_of:%Y-%m}",
            hint=f"use {earliest:%Y-%m} or later",
        )


def product_families(t: Any) -> dict[str, str]:
    """product_id → family, from the products table."""
    return {r["product_id"]: r["family"] for r in fetch(t("products").select("product_id", "family"))}


def latest_prices(t: Any, base_currency: str, as_of: dt.date) -> dict[str, Decimal]:
    """product_id → its latest actual average price in base currency: Σ revenue ÷ Σ quantity of its AR
    invoice lines in the latest month up to the as-of month (within PRICE_LOOKBACK_MONTHS) where it sold
    a positive quantity, half-even to 4 decimals. Revenue is converted as unit economics converts it
    (costing.unit_economics.revenue_lines: each invoice once, at its date's rate, split over its lines)."""
    start, end = add_months(month_start(as_of), 1 - PRICE_LOOKBACK_MONTHS), month_end(as_of)
    quantities = _line_quantities(t, start, end)
    sums: dict[tuple[str, dt.date], list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in revenue_lines(t, base_currency, start, end):
        cell = sums[(r["product_id"], month_start(r["invoice_date"]))]
        cell[0] += r["revenue"]
        cell[1] += quantities[(r["invoice_id"], r["line"])]
    prices: dict[str, tuple[dt.date, Decimal]] = {}
    for (product, month), (revenue, qty) in sums.items():
        if qty > 0 and (product not in prices or month > prices[product][0]):
            prices[product] = (month, round_per_unit(revenue / qty))
    return {product: price for product, (_, price) in prices.items()}


def _line_quantities(t: Any, start: dt.date, end: dt.date) -> dict[tuple[str, int], Decimal]:
    """(invoice_id, line) → quantity of the AR invoice lines dated in [start, end], exact."""
    inv = t("ar_invoices").select(_iid="invoice_id", _date="invoice_date")
    inv = inv.filter((inv._date.cast("date") >= start) & (inv._date.cast("date") <= end))
    il = t("ar_invoice_lines")
    j = il.join(inv, il.invoice_id == inv._iid)
    rows = fetch(j.select("invoice_id", "line", qty=j.qty.cast(QTY_SUM_T)))
    return {(r["invoice_id"], r["line"]): r["qty"] for r in rows}


def list_prices(t: Any) -> dict[str, Decimal]:
    """product_id → list price (the fallback of a product not invoiced in the look-back window)."""
    p = t("products")
    return {
        r["product_id"]: r["list_price"]
        for r in fetch(p.select("product_id", list_price=p.list_price.cast("decimal(18, 4)")))
    }


@dataclass
class DemandForecast:
    """A demand forecast before it is stored: `values` (level, key, ds, p10, p50, p90, model), the
    reconciler used, the unit price of each product, the engine's per-series choices and problems."""

    as_of: dt.date
    config: ForecastConfig
    values: pd.DataFrame
    reconciler: str
    prices: dict[str, Decimal]
    choices: pd.DataFrame
    problems: list[str] = field(default_factory=list)


def _config_nonnegative(config: ForecastConfig) -> ForecastConfig:
    """The config with `nonnegative=True`: shipped quantities are never negative."""
    return dataclasses.replace(config, nonnegative=True)


def base_forecasts(
    series: pd.DataFrame, config: ForecastConfig, forecaster: Forecaster = forecast_series
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Forecast every member's own series (level, key, ds, y): level, key, ds, yhat, lo, hi, model.
    `forecaster` is `forecast_series` or a function that runs it elsewhere (on Spark)."""
    frame = pd.DataFrame(
        {
            "unique_id": [member_id(lv, k) for lv, k in zip(series["level"], series["key"], strict=True)],
            "ds": series["ds"],
            "y": series["y"].astype(float),
        }
    )
    result = forecaster(frame, _config_nonnegative(config))
    fc = result.forecasts.copy()
    ids = fc["unique_id"].map(split_member_id)
    fc["level"], fc["key"] = ids.map(lambda x: x[0]), ids.map(lambda x: x[1])
    return fc[["level", "key", "ds", "yhat", "lo", "hi", "model"]], result.choices, list(result.problems)


def demand_forecast(
    t: Any, as_of: dt.date, config: ForecastConfig, base_currency: str, forecaster: Forecaster = forecast_series
) -> DemandForecast:
    """The reconciled demand forecast of every hierarchy member for `config.horizon` months after the
    as-of month (a month: any day of it), and each product's unit price (latest actual, else list price).
    `forecaster` runs the engine (`forecast_series`, or the I/O layer's Spark runner)."""
    as_of = month_start(as_of)
    if config.freq != "MS":
        raise UserError("demand is forecast by month", param="freq", value=config.freq)
    check_as_of(t, as_of)
    bottom = shipped_series(t, as_of)
    done, choices, problems = reconciled_forecast(bottom, product_families(t), config, forecaster)
    prices = {**list_prices(t), **latest_prices(t, base_currency, as_of)}
    return DemandForecast(as_of, config, done.values, done.reconciler, prices, choices, problems)


def reconciled_forecast(
    bottom: pd.DataFrame, families: Any, config: ForecastConfig, forecaster: Forecaster = forecast_series
) -> tuple[Reconciled, pd.DataFrame, list[str]]:
    """From the shipped history (product_id, site_id, ds, y) to the reconciled forecast of every member of
    the hierarchy: each member's own series forecast, the products' pooled with their family's
    (pooling.py), then reconciled so the levels add up. Returns the
    reconciled values, the engine's per-series choices and every problem. `opsfin forecast demand` and the
    backtest both forecast through here."""
    series = aggregate(bottom, families)
    base, choices, problems = base_forecasts(series, config, forecaster)
    base = pool_with_family(base, series, family_map(families))
    shape = structure(list(zip(bottom["product_id"], bottom["site_id"], strict=True)), families)
    done = reconcile(base, shape, config.level, history=series)
    return done, choices, problems + done.problems


def value_rows(forecast: DemandForecast) -> list[dict[str, Any]]:
    """One row per month, level and key (VALUE_COLUMNS), levels top first, then key and month."""
    v = forecast.values
    order = {level: i for i, level in enumerate(LEVELS)}
    rows = [
        {
            "period": pd.Timestamp(r.ds).date(),
            "level": r.level,
            "key": r.key,
            "p10": float(r.p10),
            "p50": float(r.p50),
            "p90": float(r.p90),
            "model": r.model,
        }
        for r in v.itertuples(index=False)
    ]
    return sorted(rows, key=lambda r: (order[r["level"]], r["key"], r["period"]))


def plan_rows(forecast: DemandForecast, version: str) -> dict[str, list[dict[str, Any]]]:
    """The rows a plan version stores, per table: `forecast_versions` (one), `forecast_values` (every
    member and month) and `volume_plan` (per product and month: qty = the product's p50, which is its
    sites' p50 summed; unit_price = its latest actual average price, else its list price)."""
    values = value_rows(forecast)
    missing = sorted({r["key"] for r in values if r["level"] == "product"} - set(forecast.prices))
    if missing:
        raise UserError(f"no price for product {', '.join(missing)}: it has neither invoices nor a list price")
    volume = [
        {
            "version": version,
            "period": r["period"],
            "product_id": r["key"],
            "qty": r["p50"],
            "unit_price": forecast.prices[r["key"]],
        }
        for r in values
        if r["level"] == "product"
    ]
    head = {
        "version": version,
        "as_of": forecast.as_of,
        "horizon": forecast.config.horizon,
        "level": forecast.config.level,
        "models": ",".join(forecast.config.models),
        "reconciler": forecast.reconciler,
    }
    return {
        "forecast_versions": [head],
        "forecast_values": [{"version": version, **r} for r in values],
        "volume_plan": volume,
    }


def family_totals(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The family and total p50 per month, one row per month (a summary for people)."""
    by_month: dict[dt.date, dict[str, Any]] = {}
    for r in rows:
        if r["level"] in ("family", "total"):
            by_month.setdefault(r["period"], {"period": r["period"]})[r["key"]] = r["p50"]
    return [by_month[m] for m in sorted(by_month)]
