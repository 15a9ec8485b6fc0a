"""`opsfin tradeoff speed|reliability` on a workspace (docs/scenarios.md "Trade-offs"): read the company's
history from the warehouse and call the pure engines (opsfin.scenarios.speed, opsfin.scenarios.reliability).

The history is the `months` months up to the last month with shipments. Delivery lines are the shipments
with their order line's product, promise and price (base currency at the shipped date's rate); machine
availability and capacity utilisation come from the KPI engine (opsfin.kpis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from polars._typing import SchemaDict

from ..core.money import round_per_unit, to_decimal
from ..core.periods import add_months, month_end
from ..costing.reads import fetch, frame
from ..errors import UserError
from ..kpis.definitions import KPI_BY_ID
from ..kpis.engine import compute_one
from ..kpis.sources import fx_to_base, with_order_line
from ..planning.volumes import ACTUAL
from ..scenarios.reliability import Reliability, reliability_table, work_center_contribution
from ..scenarios.speed import SpeedCurve, speed_curve
from ..scenarios.tradeoffs import ReliabilityAssumptions, SpeedAssumptions, unit_contribution
from .planning import month_range, source_span

Progress = Callable[[str], None]
DELIVERY_SCHEMA = {
    "product_id": pl.Utf8,
    "qty": pl.Float64,
    "days_late": pl.Int64,
    "revenue": pl.Decimal(18, 2),
}
STANDARD_COST_SCHEMA: dict[str, Any] = {"product_id": pl.Utf8, "std_unit_cost": pl.Decimal(18, 4)}
PRODUCT_SCHEMA: SchemaDict = {
    **STANDARD_COST_SCHEMA,
    "bottleneck_labor_hours": pl.Float64,
    "overtime_premium": pl.Decimal(18, 4),
}
EVENT_SCHEMA = {
    "machine_id": pl.Utf8,
    "kind": pl.Utf8,
    "start_at": pl.Datetime("us"),
    "end_at": pl.Datetime("us"),
    "parts_cost": pl.Decimal(18, 2),
    "labor_hours": pl.Float64,
}


@dataclass(frozen=True)
class History:
    """The window read: its first and last day and its months."""

    first: dt.date
    last: dt.date
    months: list[dt.date]


def history(t: Any, months: int) -> History:
    """The `months` months up to the last month with shipments (fewer when the shipments start later); a
    UserError when there are none."""
    if months < 1:
        raise UserError("{param} must be at least 1", param="months", value=months)
    shipped_from, shipped_to = source_span(t, ACTUAL)
    first = max(add_months(shipped_to, 1 - months), shipped_from)
    return History(first, month_end(shipped_to), month_range(first, shipped_to))


def read_deliveries(t: Any, window: History) -> pl.DataFrame:
    """One row per shipment line in the window: product, qty, days late and revenue in base currency."""
    sh = t("shipments")
    sh = sh.filter((sh.shipped_date >= window.first) & (sh.shipped_date <= window.last))
    sh = with_order_line(t, sh, "sales_orders", "so_id", "product_id", "promised_date", "unit_price", "currency")
    sh = fx_to_base(t, sh, "currency", "shipped_date", t.base_currency)
    price = sh.unit_price.cast("decimal(38, 4)") * sh._rate.fill_null(1).cast("decimal(38, 8)")
    revenue = (sh.qty.cast("decimal(38, 4)") * price).cast("decimal(38, 2)")
    days = sh.shipped_date.delta(sh.promised_date, unit="day")
    return frame(sh.select("product_id", "qty", days_late=days, revenue=revenue), DELIVERY_SCHEMA)


def _kpi_by(t: Any, kpi: str, dim: str, window: History) -> dict[str, float]:
    """A KPI over the whole window per member of `dim` (Σ numerator ÷ Σ denominator of its months)."""
    got = compute_one(t, KPI_BY_ID[kpi], "month", [dim], None, window.first, window.last)
    sums = got.group_by(dim).agg(pl.col("numerator").cast(pl.Float64).sum(), pl.col("denominator").sum())
    return {r[dim]: r["numerator"] / r["denominator"] for r in sums.iter_rows(named=True) if r["denominator"]}


def read_products(t: Any, window: History) -> pl.DataFrame:
    """Finished products with their standard cost, the labour hours per unit at their bottleneck (the work
    centre of their routing with the highest capacity utilisation in the window) and the overtime premium
    per hour there (the mean of rate × (multiplier − 1) of the employees of that work centre)."""
    utilization = _kpi_by(t, "capacity_utilization", "work_center", window)
    e = t("employees")
    e = e.filter(e.work_center_id.notnull())
    premium = {
        r["wc"]: to_decimal(r["premium"])
        for r in fetch(
            e.group_by(wc=e.work_center_id).aggregate(
                premium=(e.hourly_rate.cast("float64") * (e.overtime_multiplier.fill_null(1.0) - 1)).mean()
            )
        )
    }
    steps: dict[str, tuple[float, str, float]] = {}
    for r in fetch(t("routings").select("product_id", "work_center_id", "std_labor_minutes_per_unit")):
        load = utilization.get(r["work_center_id"], 0.0)
        if r["product_id"] not in steps or load > steps[r["product_id"]][0]:
            steps[r["product_id"]] = (load, r["work_center_id"], r["std_labor_minutes_per_unit"] or 0.0)
    rows = []
    for p in read_standard_costs(t).iter_rows(named=True):
        _, wc, minutes = steps.get(p["product_id"], (0.0, "", 0.0))
        rows.append((p["product_id"], p["std_unit_cost"], minutes / 60, premium.get(wc, Decimal(0))))
    return pl.DataFrame(rows, schema=PRODUCT_SCHEMA, orient="row")


def read_standard_costs(t: Any) -> pl.DataFrame:
    """Every product's standard unit cost."""
    return frame(t("products").select("product_id", "std_unit_cost"), STANDARD_COST_SCHEMA)


def speed_tradeoff(
    ws: Any, assumptions: SpeedAssumptions, months: int = 12, progress: Progress | None = None
) -> tuple[History, SpeedCurve]:
    """The speed curve of the workspace's last `months` months."""
    from .tables import reading_tables

    say = progress or (lambda _text: None)
    with reading_tables(ws) as t:
        window = history(t, months)
        say(f"deliveries {window.first:%Y-%m}..{window.last:%Y-%m}: promised and shipped dates, prices")
        deliveries = read_deliveries(t, window)
        say("bottlenecks and overtime premiums")
        products = read_products(t, window)
    return window, speed_curve(deliveries, products, assumptions)


def read_events(t: Any, window: History) -> pl.DataFrame:
    """maintenance_events ending in the window."""
    m = t("maintenance_events")
    d = m.end_at.date()
    m = m.filter((d >= window.first) & (d <= window.last))
    return frame(m.select(*EVENT_SCHEMA), EVENT_SCHEMA)


def read_operations(t: Any, window: History) -> pl.DataFrame:
    """Good units and run minutes per work centre and product (the order's) in the window."""
    o = t("operations")
    d = o.end_at.date()
    o = o.filter((d >= window.first) & (d <= window.last))
    po = t("production_orders").select(_o="order_id", product_id="product_id")
    o = o.join(po, o.order_id == po._o)
    agg = o.group_by("work_center_id", "product_id").aggregate(
        qty_good=o.qty_good.sum(), run_minutes=o.run_minutes.sum()
    )
    schema = {"work_center_id": pl.Utf8, "product_id": pl.Utf8, "qty_good": pl.Float64, "run_minutes": pl.Float64}
    return frame(agg, schema)


def technician_rate(t: Any) -> Decimal:
    """The mean hourly rate of the employees whose role names maintenance or technicians (0 when none)."""
    e = t("employees")
    role = e.role.lower()
    e = e.filter(role.contains("technician") | role.contains("maintenance"))
    row = fetch(e.aggregate(rate=e.hourly_rate.cast("float64").mean()))[0]
    return round_per_unit(row["rate"]) if row["rate"] is not None else Decimal(0)


def reliability_tradeoff(
    ws: Any, assumptions: ReliabilityAssumptions, months: int = 12, progress: Progress | None = None
) -> tuple[History, ReliabilityAssumptions, Reliability]:
    """Maintenance against breakdowns per machine over the workspace's last `months` months."""
    from .tables import reading_tables

    say = progress or (lambda _text: None)
    with reading_tables(ws) as t:
        window = history(t, months)
        if assumptions.maintenance_labor_rate is None:
            assumptions = assumptions.model_copy(update={"maintenance_labor_rate": technician_rate(t)})
        say(f"maintenance events {window.first:%Y-%m}..{window.last:%Y-%m} and availability per machine")
        events = read_events(t, window)
        availability = _kpi_by(t, "availability", "machine", window)
        machines = pl.DataFrame(
            fetch(t("machines").select("machine_id", "work_center_id").order_by("machine_id")),
            schema={"machine_id": pl.Utf8, "work_center_id": pl.Utf8},
        ).with_columns(
            availability=pl.col("machine_id").replace_strict(availability, default=None, return_dtype=pl.Float64)
        )
        say("contribution per run hour of each work centre")
        contribution = unit_contribution(read_deliveries(t, window), read_standard_costs(t))
        per_hour = work_center_contribution(read_operations(t, window), contribution)
    return window, assumptions, reliability_table(events, machines, window.months, per_hour, assumptions)
