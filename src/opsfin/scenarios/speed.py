"""The cost of speed (docs/scenarios.md "Trade-offs"): what raising on-time delivery by a few points costs,
against the margin that late orders put at risk.

Each late unit of history can be made on time by the cheapest of three levers:
- overtime: its labour hours at its bottleneck work centre × the overtime premium per hour paid there;
- expediting: its selling price × `expedite_rate_per_day` × days late;
- finished-goods stock: a buffer of `days late` of the product's demand, held because nobody knows which
  order will be late, so each unit recovered carries the holding cost of (shipped ÷ late) units:
  std_unit_cost × holding_rate × days late ÷ 365 × shipped qty ÷ late qty of the product.
The late units are recovered cheapest first until on-time delivery has risen by each step; each recovered
unit protects its contribution × `at_risk_share`. Pure: Polars frames in, a frame of points out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from polars._typing import SchemaDict

from ..core.money import round_cents, to_decimal
from .tradeoffs import SpeedAssumptions, unit_contribution

MONEY = pl.Decimal(18, 2)
LEVERS = ("overtime", "expediting", "stock")
DAYS_PER_YEAR = Decimal(365)
POINTS_SCHEMA: SchemaDict = {
    "step_points": pl.Int64,
    "on_time_delivery": pl.Float64,
    "recovered_qty": pl.Float64,
    "overtime_hours": pl.Float64,
    "overtime_cost": MONEY,
    "expediting_cost": MONEY,
    "stock_cost": MONEY,
    "cost": MONEY,
    "margin_protected": MONEY,
    "net": MONEY,
}


@dataclass(frozen=True)
class LateGroup:
    """The late units of one product shipped `days_late` days after the promise, and the cheapest lever."""

    product_id: str
    days_late: int
    qty: Decimal
    lever: str
    cost_per_unit: Decimal
    hours_per_unit: Decimal
    protected_per_unit: Decimal


@dataclass(frozen=True)
class SpeedCurve:
    """The base on-time delivery, the margin all late units put at risk, and one point per step."""

    on_time_delivery: float | None
    shipped_qty: float
    late_qty: float
    margin_at_risk: Decimal
    points: pl.DataFrame
    late: list[LateGroup]


def speed_curve(deliveries: pl.DataFrame, products: pl.DataFrame, assumptions: SpeedAssumptions) -> SpeedCurve:
    """The curve of `assumptions.steps`.

    `deliveries`: one row per shipment line (product_id, qty, days_late — shipped date − promised date,
    ≤ 0 on time — and revenue in base currency). `products`: product_id, std_unit_cost,
    bottleneck_labor_hours (labour hours per unit at its bottleneck work centre) and overtime_premium (the
    premium paid per overtime hour there)."""
    late = late_groups(deliveries, products, assumptions)
    shipped = to_decimal(deliveries["qty"].sum()) if deliveries.height else Decimal(0)
    late_qty = sum((g.qty for g in late), Decimal(0))
    on_time = shipped - late_qty
    at_risk = sum((g.qty * g.protected_per_unit for g in late), Decimal(0))
    rows = [_point(0, on_time, shipped, [])]
    for step in sorted(set(assumptions.steps)):
        wanted = min(shipped * step / 100, late_qty)
        rows.append(_point(step, on_time, shipped, _recover(late, wanted)))
    return SpeedCurve(
        float(on_time / shipped) if shipped else None,
        float(shipped),
        float(late_qty),
        round_cents(at_risk),
        pl.DataFrame(rows, schema=POINTS_SCHEMA, orient="row"),
        late,
    )


def late_groups(deliveries: pl.DataFrame, products: pl.DataFrame, assumptions: SpeedAssumptions) -> list[LateGroup]:
    """The late units per product and days late, each with its cheapest lever, cheapest first."""
    contribution = unit_contribution(deliveries, products)
    by_product = deliveries.group_by("product_id").agg(
        shipped=pl.col("qty").sum(), late=pl.col("qty").filter(pl.col("days_late") > 0).sum()
    )
    ratio = {
        r["product_id"]: to_decimal(r["shipped"]) / to_decimal(r["late"])
        for r in by_product.iter_rows(named=True)
        if r["late"]
    }
    info = {r["product_id"]: r for r in products.iter_rows(named=True)}
    grouped = (
        deliveries.filter(pl.col("days_late") > 0)
        .group_by("product_id", "days_late")
        .agg(pl.col("qty").sum(), pl.col("revenue").sum())
    )
    out = []
    for r in grouped.iter_rows(named=True):
        p = info.get(r["product_id"], {})
        qty, days = to_decimal(r["qty"]), int(r["days_late"])
        if qty <= 0:
            continue
        price = to_decimal(r["revenue"]) / qty
        std = to_decimal(p.get("std_unit_cost"))
        hours = to_decimal(p.get("bottleneck_labor_hours"))
        costs = {
            "overtime": hours * to_decimal(p.get("overtime_premium")),
            "expediting": price * assumptions.expedite_rate_per_day * days,
            "stock": std * assumptions.holding_rate * days / DAYS_PER_YEAR * ratio[r["product_id"]],
        }
        lever = min(LEVERS, key=lambda k: costs[k])  # ties: the order of LEVERS
        protected = max(contribution.get(r["product_id"], Decimal(0)), Decimal(0)) * assumptions.at_risk_share
        out.append(LateGroup(r["product_id"], days, qty, lever, costs[lever], hours, protected))
    return sorted(out, key=lambda g: (g.cost_per_unit, g.product_id, g.days_late))


def _recover(late: list[LateGroup], wanted: Decimal) -> list[tuple[LateGroup, Decimal]]:
    """The cheapest late units up to `wanted` units: (group, units taken), the last group in part."""
    taken: list[tuple[LateGroup, Decimal]] = []
    for g in late:
        if wanted <= 0:
            break
        qty = min(g.qty, wanted)
        taken.append((g, qty))
        wanted -= qty
    return taken


def _point(step: int, on_time: Decimal, shipped: Decimal, taken: list[tuple[LateGroup, Decimal]]) -> tuple:
    """One point of the curve: the costs by lever are rounded to the cent, and cost and net add them up."""
    spent = dict.fromkeys(LEVERS, Decimal(0))
    hours = protected = recovered = Decimal(0)
    for g, qty in taken:
        spent[g.lever] += qty * g.cost_per_unit
        protected += qty * g.protected_per_unit
        recovered += qty
        if g.lever == "overtime":
            hours += qty * g.hours_per_unit
    parts = {k: round_cents(v) for k, v in spent.items()}
    cost = sum(parts.values(), Decimal(0))
    margin = round_cents(protected)
    share = float((on_time + recovered) / shipped) if shipped else None
    return (
        step,
        share,
        float(recovered),
        float(hours),
        parts["overtime"],
        parts["expediting"],
        parts["stock"],
        cost,
        margin,
        margin - cost,
    )
