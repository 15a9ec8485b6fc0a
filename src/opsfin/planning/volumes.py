"""The volumes a plan is driven from (docs/planning.md "Volumes"): what is shipped per month, selling site
and product, and what those shipments are worth — revenue and COGS at standard per month and site.

Two sources, one shape (`Volumes`):
- `actual_volumes`: the shipments in the warehouse (their product and site are the sales-order line's, as
  forecast.demand.shipped_series reads them) and the revenue and COGS the GL booked for them, recomputed
  from the AR invoices as the postings round: each invoice's net (Σ line amounts, document currency)
  converted once at the invoice date's rate, half-even to the cent; COGS Σ half-even(qty × standard cost)
  per invoice line. So revenue and COGS equal the GL's `revenue` and `cogs` roles, month by month.
- `version_volumes`: a plan version's `volume_plan` (qty and unit price per product and month). A demand
  forecast's own product × site split (`forecast_values`, level `product_site`, p50) places it; any other
  version is split over the selling sites by each product's actual shipment mix before the plan.
  Revenue = half-even(qty × unit price) and COGS = half-even(qty × std_unit_cost) per product, site and
  month.

Pure: Ibis reads of the warehouse `Tables`, Polars frames out; money is Decimal(18,2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ibis
import polars as pl
from polars._typing import SchemaDict

from ..core.money import half_even_arrow, round_cents, to_decimal
from ..core.periods import add_months, month_end, month_start
from ..costing.reads import fetch, month_of
from ..errors import UserError
from ..forecast.demand import shipped_series
from ..kpis.sources import fx_to_base

ACTUAL = "actual"
MONEY = pl.Decimal(18, 2)
SHIPMENT_SCHEMA: SchemaDict = {"period": pl.Date, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64}
SALES_SCHEMA: SchemaDict = {"period": pl.Date, "site_id": pl.Utf8, "revenue": MONEY, "cogs": MONEY}
LINE_SCHEMA: SchemaDict = {
    **SHIPMENT_SCHEMA,
    "unit_price": pl.Decimal(18, 4),
    "std_unit_cost": pl.Decimal(18, 4),
}


@dataclass(frozen=True)
class Volumes:
    """What a plan is driven from. `shipments(period, site_id, product_id, qty)` feeds the operations side;
    `sales(period, site_id, revenue, cogs)` the P&L. `actual_months` are the months read from the books:
    their variances and opex are the GL's (pnl.py). `source` is `actual` or the version read."""

    source: str
    shipments: pl.DataFrame
    sales: pl.DataFrame
    actual_months: frozenset[dt.date] = frozenset()
    problems: tuple[str, ...] = field(default=())
    #: the priced lines `sales` sums (period, site_id, product_id, qty, unit_price, std_unit_cost) of the
    #: planned months, for the scenario engine's shocks (docs/scenarios.md); empty for actual volumes
    lines: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINE_SCHEMA))

    def then(self, later: Volumes) -> Volumes:
        """These volumes followed by `later`'s for the months these do not cover (a rolling forecast:
        actuals, then a forecast)."""
        mine = set(self.shipments["period"].to_list()) | set(self.sales["period"].to_list())
        keep = ~pl.col("period").is_in(sorted(mine))
        return Volumes(
            f"{self.source}+{later.source}",
            pl.concat([self.shipments, later.shipments.filter(keep)]),
            pl.concat([self.sales, later.sales.filter(keep)]),
            self.actual_months | later.actual_months,
            self.problems + later.problems,
            pl.concat([self.lines, later.lines.filter(keep)]),
        )


def empty_shipments() -> pl.DataFrame:
    return pl.DataFrame(schema=SHIPMENT_SCHEMA)


def empty_sales() -> pl.DataFrame:
    return pl.DataFrame(schema=SALES_SCHEMA)


def volumes_for(t: Any, source: str, months: list[dt.date], base_currency: str, site_mix_months: int = 12) -> Volumes:
    """`actual_volumes` when `source` is `actual`, else `version_volumes` of the version named."""
    if source == ACTUAL:
        return actual_volumes(t, months, base_currency)
    return version_volumes(t, source, months, site_mix_months)


# ------------------------------------------------------------------------------------------ actual
def actual_volumes(t: Any, months: list[dt.date], base_currency: str) -> Volumes:
    """The shipments and the revenue and COGS the books hold for `months` (first days of months)."""
    if not months:
        return Volumes(ACTUAL, empty_shipments(), empty_sales())
    first, last = min(months), max(months)
    series = shipped_series(t, last)
    shipments = _shipment_frame(series).filter(pl.col("period").is_in(months) & (pl.col("qty") != 0))
    sales = actual_sales(t, base_currency, first, month_end(last)).filter(pl.col("period").is_in(months))
    covered = set(sales["period"].to_list()) | set(shipments["period"].to_list())
    problems = tuple(f"{m:%Y-%m}: no actual shipments or invoices" for m in sorted(set(months) - covered))
    return Volumes(ACTUAL, shipments, sales, frozenset(m for m in months if m in covered), problems)


def _shipment_frame(series: Any) -> pl.DataFrame:
    """shipped_series' pandas frame (product_id, site_id, ds, y) as the shipments frame."""
    if series.empty:
        return empty_shipments()
    frame = pl.from_pandas(series)
    return frame.select(
        period=pl.col("ds").cast(pl.Date),
        site_id=pl.col("site_id").cast(pl.Utf8),
        product_id=pl.col("product_id").cast(pl.Utf8),
        qty=pl.col("y").cast(pl.Float64),
    ).sort("period", "site_id", "product_id")


def actual_sales(t: Any, base_currency: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Revenue and COGS per month and selling site of the AR invoices dated in [start, end], rounded as the
    postings round (module docstring). A foreign-currency invoice without a rate is a UserError.

    The warehouse gives exact decimals (quantities at 4 places, as DECIMAL(18,4)); the products and the
    half-even rounding are done on Arrow decimals (core.money), never in floating point."""
    inv = t("ar_invoices").select("invoice_id", "so_id", "invoice_date", "currency")
    inv = inv.filter((inv.invoice_date.cast("date") >= start) & (inv.invoice_date.cast("date") <= end))
    inv = fx_to_base(t, inv, "currency", "invoice_date", base_currency)
    so = t("sales_orders")
    sites = so.group_by(_so="so_id").aggregate(site_id=so.site_id.min())
    inv = inv.left_join(sites, inv.so_id == sites._so)
    _refuse_missing_rates(inv)
    il = t("ar_invoice_lines")
    p = t("products").select(_pid="product_id", _std="std_unit_cost")
    lines = il.join(p, il.product_id == p._pid)
    j = lines.join(inv, lines.invoice_id == inv.invoice_id)
    expr = j.select(
        invoice_id=lines.invoice_id,
        period=month_of(j.invoice_date),
        site_id=j.site_id,
        rate=j._rate.cast("decimal(18, 8)"),
        amount=j.amount.cast("decimal(18, 2)"),
        qty=j.qty.cast("decimal(18, 4)"),
        std=j._std.cast("decimal(18, 4)"),
    )
    data = expr.to_pyarrow()
    if data.num_rows == 0:
        return empty_sales()
    import pyarrow.compute as pc

    frame = pl.from_arrow(data.select(["invoice_id", "period", "site_id", "rate", "amount"]))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(cogs=pl.Series(half_even_arrow(pc.multiply(data["qty"], data["std"]), 2)))
    per_invoice = frame.group_by("invoice_id", "period", "site_id", "rate").agg(
        net=pl.col("amount").sum(), cogs=pl.col("cogs").sum()
    )
    net, rate = per_invoice["net"].cast(MONEY).to_arrow(), per_invoice["rate"].cast(pl.Decimal(18, 8)).to_arrow()
    base = half_even_arrow(pc.multiply(net, rate), 2)
    per_invoice = per_invoice.with_columns(revenue=pl.Series(base).cast(pl.Decimal(38, 2)))
    out = per_invoice.group_by("period", "site_id").agg(pl.col("revenue").sum(), pl.col("cogs").sum())
    return out.select(
        pl.col("period").cast(pl.Date),
        pl.col("site_id").cast(pl.Utf8),
        pl.col("revenue").cast(MONEY),
        pl.col("cogs").cast(MONEY),
    ).sort("period", "site_id", nulls_last=True)


def _refuse_missing_rates(j: ibis.Table) -> None:
    missing = fetch(j.filter(j._rate.isnull()).select("invoice_id", "currency", "invoice_date").limit(1))
    if missing:
        r = missing[0]
        raise UserError(
            f"ar_invoices {r['invoice_id']}: no fx_rates row for {r['currency']} on or before "
            f"{r['invoice_date']:%Y-%m-%d}; load the rate to build a plan from actual volumes"
        )


# ------------------------------------------------------------------------------------------ a version
def version_volumes(t: Any, version: str, months: list[dt.date], site_mix_months: int = 12) -> Volumes:
    """The version's planned shipments per site and their revenue and COGS at standard, for `months`."""
    plan = _volume_plan(t, version, months)
    if plan.is_empty():
        raise UserError(
            "{param} " + f"{version!r} has no volume_plan rows in the months asked",
            param="volumes",
            value=version,
            hint="`opsfin plan list` shows the versions; build a demand forecast with `opsfin forecast demand`",
        )
    by_site = _forecast_split(t, version, months)
    planned = set(plan["period"].to_list())
    problems = [f"{m:%Y-%m}: {version} has no volume_plan rows" for m in sorted(set(months) - planned)]
    if by_site is None:
        by_site, mix_problems = _mix_split(t, plan, min(months), site_mix_months)
        problems += mix_problems
    shipments = by_site.select("period", "site_id", "product_id", "qty").sort("period", "site_id", "product_id")
    priced = by_site.join(plan.select("period", "product_id", "unit_price", "std_unit_cost"), ["period", "product_id"])
    lines = priced.select(pl.col(c).cast(t) for c, t in LINE_SCHEMA.items())
    return Volumes(version, shipments, sales_value(priced), frozenset(), tuple(problems), lines)


def _volume_plan(t: Any, version: str, months: list[dt.date]) -> pl.DataFrame:
    """period, product_id, qty, unit_price, std_unit_cost of the version's volume_plan in `months`."""
    vp = t("volume_plan")
    vp = vp.filter((vp.version == version) & vp.period.cast("date").isin(months))
    p = t("products").select(_pid="product_id", std_unit_cost=t("products").std_unit_cost.cast("decimal(18, 4)"))
    j = vp.join(p, vp.product_id == p._pid)
    expr = j.select(
        period=j.period.cast("date"),
        product_id="product_id",
        qty=j.qty.cast("float64"),
        unit_price=j.unit_price.cast("decimal(18, 4)"),
        std_unit_cost="std_unit_cost",
    )
    frame = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _forecast_split(t: Any, version: str, months: list[dt.date]) -> pl.DataFrame | None:
    """period, product_id, site_id, qty from a demand forecast's product × site p50; None when the version
    is not a demand forecast (no forecast_versions row, or a warehouse without the table)."""
    try:
        fv = t("forecast_versions")
    except Exception:  # noqa: BLE001 - a warehouse made before forecasts were stored has no such table
        return None
    if not fetch(fv.filter(fv.version == version).select("version").limit(1)):
        return None
    v = t("forecast_values")
    v = v.filter((v.version == version) & (v.level == "product_site") & v.period.cast("date").isin(months))
    frame = pl.from_arrow(v.select(period=v.period.cast("date"), key="key", qty=v.p50.cast("float64")).to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    parts = pl.col("key").str.split_exact("/", 1)
    return frame.with_columns(product_id=parts.struct.field("field_0"), site_id=parts.struct.field("field_1")).select(
        "period", "product_id", "site_id", "qty"
    )


def _mix_split(t: Any, plan: pl.DataFrame, first: dt.date, lookback: int) -> tuple[pl.DataFrame, list[str]]:
    """Each product's planned qty split over the selling sites by its actual shipments in the `lookback`
    months before `first`; a product never shipped there follows the company's mix of all products."""
    start, end = _mix_window(t, first, lookback)
    history = _shipment_frame(shipped_series(t, end)) if end is not None else empty_shipments()
    history = history.filter((pl.col("period") >= start) & (pl.col("period") <= end))
    own = history.group_by("product_id", "site_id").agg(w=pl.col("qty").sum()).filter(pl.col("w") > 0)
    company = history.group_by("site_id").agg(w=pl.col("qty").sum()).filter(pl.col("w") > 0)
    problems = []
    if company.is_empty():
        problems.append(
            f"no shipments in {start:%Y-%m}..{end:%Y-%m} to split the planned volumes by site: site left empty"
        )
        company = pl.DataFrame({"site_id": [None], "w": [1.0]}, schema={"site_id": pl.Utf8, "w": pl.Float64})
    products = plan.select("product_id").unique()
    known = own.select("product_id").unique()
    fallback = products.join(known, on="product_id", how="anti").join(company, how="cross")
    weights = pl.concat([own.select("product_id", "site_id", "w"), fallback.select("product_id", "site_id", "w")])
    weights = weights.with_columns(share=pl.col("w") / pl.col("w").sum().over("product_id"))
    split = plan.join(weights, on="product_id").with_columns(qty=pl.col("qty") * pl.col("share"))
    return split.select("period", "product_id", "site_id", "qty"), problems


def _mix_window(t: Any, first: dt.date, lookback: int) -> tuple[dt.date, dt.date | None]:
    """The `lookback` months before `first`; when nothing was shipped then (a plan of the first months of
    the history), the latest `lookback` months with shipments. (start, None) without any shipment."""
    start, end = add_months(month_start(first), -lookback), add_months(month_start(first), -1)
    sh = t("shipments")
    d = sh.shipped_date.cast("date")
    span = fetch(sh.aggregate(before=(d <= month_end(end)).sum(), last=d.max()))[0]
    if span["last"] is None:
        return start, None
    if not span["before"]:
        end = month_start(span["last"])
        start = add_months(end, 1 - lookback)
    return start, end


def sales_value(priced: pl.DataFrame) -> pl.DataFrame:
    """Revenue and COGS per month and site: half-even(qty × price) and half-even(qty × standard cost) per
    product, site and month, summed. Quantities are read through their shortest decimal text (core.money)."""
    if priced.is_empty():
        return empty_sales()
    rows = zip(priced["qty"].to_list(), priced["unit_price"].to_list(), priced["std_unit_cost"].to_list(), strict=True)
    revenue, cogs = [], []
    for qty, price, std in rows:
        q = to_decimal(qty)
        revenue.append(round_cents(q * price))
        cogs.append(round_cents(q * std))
    frame = priced.select("period", "site_id").with_columns(
        revenue=pl.Series(revenue, dtype=pl.Decimal(38, 2)), cogs=pl.Series(cogs, dtype=pl.Decimal(38, 2))
    )
    out = frame.group_by("period", "site_id").agg(pl.col("revenue").sum(), pl.col("cogs").sum())
    return out.select("period", "site_id", pl.col("revenue").cast(MONEY), pl.col("cogs").cast(MONEY)).sort(
        "period", "site_id", nulls_last=True
    )
