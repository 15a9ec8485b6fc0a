"""Future sales and purchases of a plan version as cash flows (docs/cash.md, "The daily 13-week cash
forecast"). A month's planned revenue is invoiced evenly over its weekdays, gross of VAT at the trailing
invoices' factor (Σ totals ÷ Σ totals less VAT); each day's invoicing is split over the customers by their
share of the trailing invoicing and collected after each one's learned lag (P10 … P90). Purchases are the
planned sales (net) × the trailing ratio of supplier invoicing (gross) to sales (net), split over the
suppliers the same way and paid after the company's own lag per supplier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents, split_cents
from ..core.periods import month_end
from .flows import FLOW_SCHEMA, flow
from .forecast_inputs import expected_lags
from .forecast_reads import invoicing, planned_sales

Lags = tuple[int, int, int]  # p10, p50, p90 days


def weekdays(month: dt.date) -> list[dt.date]:
    """Monday to Friday of the month of `month`."""
    first = month.replace(day=1)
    days = (first + dt.timedelta(days=i) for i in range(month_end(first).day))
    return [d for d in days if d.weekday() < 5]


def spread_over_weekdays(monthly: Mapping[dt.date, Decimal], as_of: dt.date, last: dt.date) -> dict[dt.date, Decimal]:
    """Each month's amount split to the cent over its weekdays; only the days in (as_of, last] are kept."""
    out: dict[dt.date, Decimal] = {}
    for month, amount in monthly.items():
        days = weekdays(month)
        if not days or not amount:
            continue
        for day, part in split_cents(amount, dict.fromkeys(days, 1)).items():
            if as_of < day <= last:
                out[day] = out.get(day, Decimal(0)) + part
    return out


def spread_flows(
    monthly: Mapping[dt.date, Decimal], as_of: dt.date, last: dt.date, kind: str, direction: str, ref: str
) -> pl.DataFrame:
    """One flow per weekday in (as_of, last] of the monthly amounts spread over their weekdays."""
    days = spread_over_weekdays(monthly, as_of, last)
    return pl.DataFrame([flow(kind, direction, ref, d, a) for d, a in sorted(days.items())], schema=FLOW_SCHEMA)


def lagged_flows(
    daily: Mapping[dt.date, Decimal], weights: Mapping[Lags, float], kind: str, direction: str, ref: str
) -> pl.DataFrame:
    """Each day's amount split to the cent over the lag groups by weight, each part dated day + P50 (early
    day + P10, late day + P90)."""
    rows = []
    for day, amount in sorted(daily.items()):
        for (p10, p50, p90), part in split_cents(amount, dict(weights)).items():
            if part:
                at = day + dt.timedelta(days=p50)
                early, late = day + dt.timedelta(days=p10), day + dt.timedelta(days=p90)
                rows.append(flow(kind, direction, f"{ref} invoiced {day}", at, part, early=early, late=late))
    return pl.DataFrame(rows, schema=FLOW_SCHEMA)


def lag_weights(lags: pl.DataFrame, invoiced: pl.DataFrame, party_type: str) -> dict[Lags, float]:
    """Σ trailing gross invoicing per (p10, p50, p90) of the parties of `party_type`; every party equally when
    none was invoiced."""
    own = lags.filter(pl.col("party_type") == party_type)
    gross = invoiced.filter(pl.col("party_type") == party_type).select("party_id", "gross")
    joined = own.join(gross, on="party_id", how="left").with_columns(pl.col("gross").fill_null(0.0))
    if joined["gross"].sum() <= 0:
        joined = joined.with_columns(gross=pl.lit(1.0))
    out: dict[Lags, float] = {}
    for p10, p50, p90, weight in joined.select("p10_days", "p50_days", "p90_days", "gross").iter_rows():
        if weight > 0:
            key = (int(p10), int(p50), int(p90))
            out[key] = out.get(key, 0.0) + float(weight)
    return out


def planned_flows(
    t: Any,
    as_of: dt.date,
    last: dt.date,
    version: str,
    trailing_days: int,
    lags_of: Callable[[Any, dt.date], pl.DataFrame] = expected_lags,
) -> pl.DataFrame:
    """The planned sales (in) and purchases (out) of `version` invoiced in (as_of, last], collected and paid
    after the lags `lags_of(t, as_of)` gives (the learned ones by default)."""
    trailing = invoicing(t, as_of - dt.timedelta(days=trailing_days - 1), as_of)
    sales = dict(planned_sales(t, version, as_of, last).iter_rows())
    net_sales = spread_over_weekdays(sales, as_of, last)
    ar = trailing.filter(pl.col("party_type") == "customer")
    ap = trailing.filter(pl.col("party_type") == "supplier")
    vat_factor = _ratio(ar["gross"].sum(), ar["net"].sum(), 1.0)
    purchase_ratio = _ratio(ap["gross"].sum(), ar["net"].sum(), 0.0)
    gross_sales = {d: round_cents(a * vat_factor) for d, a in net_sales.items()}
    purchases = {d: round_cents(a * purchase_ratio) for d, a in net_sales.items()}
    lags = lags_of(t, as_of)
    parts = []
    customers, suppliers = lag_weights(lags, trailing, "customer"), lag_weights(lags, trailing, "supplier")
    if customers:
        parts.append(lagged_flows(gross_sales, customers, "planned_sales", "in", f"{version} sales"))
    if suppliers and purchase_ratio:
        parts.append(lagged_flows(purchases, suppliers, "planned_purchases", "out", f"{version} purchases"))
    return pl.concat(parts) if parts else pl.DataFrame(schema=FLOW_SCHEMA)


def _ratio(numerator: Any, denominator: Any, default: float) -> Decimal:
    """numerator ÷ denominator (float sums) to 6 places (`default` when the denominator is 0)."""
    value = float(numerator) / float(denominator) if denominator else default
    return Decimal(f"{value:.6f}")
