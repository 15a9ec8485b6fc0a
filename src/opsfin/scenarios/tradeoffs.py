"""The assumptions of the trade-off engines (docs/scenarios.md "Trade-offs") and what both read.

speed.py prices raising on-time delivery against the margin that late orders put at risk; reliability.py
prices planned maintenance against the breakdowns and lost contribution it avoids. Both are pure: Polars
frames read from the company's history (opsfin.runs.tradeoffs) and these assumptions in, frames out.
Money is Decimal; every assumption is stated here with its default and can be changed from the CLI."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import polars as pl
from pydantic import Field

from ..core.money import to_decimal
from ..model_schema import DecimalNumber, Entry, validate

Share = Annotated[DecimalNumber, Field(ge=0, le=1)]
Rate = Annotated[DecimalNumber, Field(ge=0)]
Points = Annotated[int, Field(ge=1, le=100)]


class SpeedAssumptions(Entry):
    """- `steps`: the rises of on-time delivery to price, in percentage points;
    - `at_risk_share`: the share of a late order's contribution the company stands to lose (customers who
      leave, penalties);
    - `expedite_rate_per_day`: expediting a late unit costs this share of its selling price per day late;
    - `holding_rate`: the yearly cost of holding finished goods, as a share of their standard cost."""

    steps: list[Points] = [1, 5, 10]
    at_risk_share: Share = Decimal("0.2")
    expedite_rate_per_day: Share = Decimal("0.01")
    holding_rate: Share = Decimal("0.25")


class ReliabilityAssumptions(Entry):
    """- `maintenance_labor_rate`: the cost of a maintenance labour hour (None: the mean hourly rate of
      the technicians on the payroll, read by the I/O layer);
    - `min_observations`: the machine-months of history below which no effect of maintenance is claimed;
    - `outlier_ratio`: a machine with this many times the median machine's breakdown hours is flagged
      `investigate`."""

    maintenance_labor_rate: Rate | None = None
    min_observations: Annotated[int, Field(ge=2)] = 6
    outlier_ratio: Annotated[DecimalNumber, Field(gt=1)] = Decimal(3)


def speed_assumptions(**values: Any) -> SpeedAssumptions:
    """The speed assumptions from options (None keeps the default); a bad value is one UserError."""
    return validate(SpeedAssumptions, {k: v for k, v in values.items() if v is not None}, "tradeoff speed")


def reliability_assumptions(**values: Any) -> ReliabilityAssumptions:
    """The reliability assumptions from options (None keeps the default); a bad value is one UserError."""
    given = {k: v for k, v in values.items() if v is not None}
    return validate(ReliabilityAssumptions, given, "tradeoff reliability")


def unit_contribution(deliveries: pl.DataFrame, products: pl.DataFrame) -> dict[str, Decimal]:
    """Each product's contribution per unit shipped: its average selling price over `deliveries`
    (product_id, qty, revenue in base currency) less its standard unit cost (`products`: product_id,
    std_unit_cost). A product without shipments is left out."""
    sold = deliveries.group_by("product_id").agg(pl.col("qty").sum(), pl.col("revenue").sum())
    std = {r["product_id"]: to_decimal(r["std_unit_cost"]) for r in products.iter_rows(named=True)}
    out: dict[str, Decimal] = {}
    for r in sold.iter_rows(named=True):
        qty = to_decimal(r["qty"])
        if qty > 0:
            out[r["product_id"]] = to_decimal(r["revenue"]) / qty - std.get(r["product_id"], Decimal(0))
    return out
