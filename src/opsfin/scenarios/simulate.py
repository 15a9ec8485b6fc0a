"""Monte Carlo ranges of a scenario (docs/scenarios.md "Monte Carlo simulation"): `simulate`.

Every draw scales the arrays of the scenario's deterministic run (linearise.py), NumPy over the draws:
- demand: a multiplier per month and product, 1 + sd × z (z standard normal, the multiplier kept ≥ 0);
- capacity: a work centre's required hours follow the demand of the products routed through it; the hours
  above what it has (its available hours, or the run's required hours when the run already overloads it),
  less the outage hours drawn, are lost: the products routed through it lose that share of their volume
  (the worst of their work centres), with their revenue, COGS and contribution;
- price: a % change in the selling price of the products in scope; material_price: a % change in the cost
  of the bought items in scope, on the material in the month's volume (a price variance, as the GL books it
  at receipt);
- payment_delay: days added to the customers' DSO: AR grows by the revenue of those days;
- cash: the run's month-end cash plus the cumulated change in operating income less the change in AR
  (variances follow COGS; opex, payables and inventory are the run's).

So a draw without deviation is the run, to the cent. Same seed, same draws: numpy's Generator(PCG64(seed)),
the draws made in a fixed order, in blocks of BLOCK draws."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from polars._typing import SchemaDict

from ..core.money import round_cents
from ..errors import UserError
from .distributions import Distributions, Per, PriceSpread, Spread
from .linearise import MEASURES, LinearPlan

PERCENTILES = (10, 50, 90)
BLOCK = 2500
#: a share of volume lost below this is float noise of the capacity test, not a loss
NOISE = 1e-9
MONTHS_SCHEMA: SchemaDict = {
    "period": pl.Date,
    "measure": pl.Utf8,
    "p10": pl.Decimal(18, 2),
    "p50": pl.Decimal(18, 2),
    "p90": pl.Decimal(18, 2),
}


@dataclass(frozen=True)
class Band:
    """A guardrail a draw breaches when `measure` (revenue, gross_margin, operating_income or cash) leaves
    [min, max] in any month."""

    name: str
    measure: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Simulation:
    """`months(period, measure, p10, p50, p90)` per month for MEASURES and `cash_low` (the lowest month-end
    cash up to that month), `breaches(guardrail, probability)`."""

    draws: int
    seed: int
    months: pl.DataFrame
    breaches: pl.DataFrame


def simulate(plan: LinearPlan, dists: Distributions | None, bands: Sequence[Band], draws: int, seed: int) -> Simulation:
    """`draws` draws of `plan` under `dists` (None: the demand's spread only), and the share of draws that
    breach each band."""
    if draws < 1:
        raise UserError("{param} must be at least 1", param="draws", value=draws)
    if seed < 0:
        raise UserError("{param} must be 0 or more", param="seed", value=seed)
    dists = dists or Distributions()
    _check_work_centers(plan, dists)
    rng = np.random.Generator(np.random.PCG64(seed))
    blocks = [_block(plan, dists, rng, min(BLOCK, draws - start)) for start in range(0, draws, BLOCK)]
    values = np.concatenate(blocks)  # (draws, months, measures)
    cash = values[:, :, MEASURES.index("cash")]
    low = np.minimum.accumulate(cash, axis=1)
    every = np.concatenate([values, low[:, :, None]], axis=2)
    months = _percentiles(plan, every, [*MEASURES, "cash_low"])
    breaches = pl.DataFrame(
        {"guardrail": [b.name for b in bands], "probability": [_breach(values, b) for b in bands]},
        schema={"guardrail": pl.Utf8, "probability": pl.Float64},
    )
    return Simulation(draws, seed, months, breaches)


def _block(plan: LinearPlan, dists: Distributions, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, months, measures) of n draws."""
    m, p = plan.qty.shape
    demand = _demand(plan, dists, rng, n)
    price = _draw(rng, dists.price, n, m) / 100
    material_price = _draw(rng, dists.material_price, n, m) / 100
    delay_days = _draw(rng, dists.payment_delay, n, m)
    outage = _outages(plan, dists, rng, n)
    sold = demand * _served(plan, demand, outage)
    in_scope = _scope(dists.price, plan.products, plan.families).astype(float)
    revenue = np.einsum("dmp,mp->dm", sold * (1 + price[:, :, None] * in_scope) - 1, plan.revenue)
    cogs = np.einsum("dmp,mp->dm", sold - 1, plan.cogs)
    touched = plan.material[:, _scope(dists.material_price, plan.items, plan.item_families)].sum(axis=1)
    price_variance = material_price * np.einsum("dmp,mp->dm", sold, plan.qty * touched)
    gross_margin = revenue - cogs - cogs * plan.variance_share - price_variance
    receivables = revenue @ plan.ar_count_back.T + delay_days * _depth_revenue(plan, revenue) / plan.delay_days
    collected = receivables - np.concatenate([np.zeros((n, 1)), receivables[:, :-1]], axis=1)
    cash = np.cumsum(gross_margin - collected, axis=1)
    base = {k: np.array([float(v) for v in plan.totals[k]]) for k in MEASURES}
    change = {"revenue": revenue, "gross_margin": gross_margin, "operating_income": gross_margin, "cash": cash}
    return np.stack([base[k] + change[k] for k in MEASURES], axis=2)


def _demand(plan: LinearPlan, dists: Distributions, rng: np.random.Generator, n: int) -> np.ndarray:
    m, p = plan.qty.shape
    sd, per = plan.demand_sd, "month"
    if dists.demand is not None:
        sd, per = np.full((m, p), dists.demand.sd_pct / 100), dists.demand.per
    z = rng.standard_normal((n, m if per == "month" else 1, p))
    return np.maximum(0.0, 1 + sd * z)


def _draw(rng: np.random.Generator, spread: Spread | None, n: int, m: int) -> np.ndarray:
    """(n, m) sizes of `spread` (zeros without one)."""
    if spread is None:
        return np.zeros((n, m))
    shape = (n, m) if spread.per == "month" else (n, 1)
    low, high = float(spread.low or 0), float(spread.high or 0)  # both given unless normal (distributions.py)
    if spread.dist == "normal":
        out = spread.mean + spread.sd * rng.standard_normal(shape)
    elif low == high:
        out = np.full(shape, low)
    elif spread.dist == "uniform":
        out = rng.uniform(low, high, shape)
    else:
        out = rng.triangular(low, float(spread.mode or 0), high, shape)
    return np.broadcast_to(out, (n, m))


def _per(per: Per, n: int, m: int) -> tuple[int, int]:
    return (n, m) if per == "month" else (n, 1)


def _outages(plan: LinearPlan, dists: Distributions, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, months, work centres) hours lost to outages."""
    m, w = plan.required_hours.shape
    lost = np.zeros((n, m, w))
    for outage in dists.outages:
        happens = rng.random(_per(outage.hours.per, n, m)) < outage.probability
        hours = np.maximum(0.0, _draw(rng, outage.hours, n, m)) * happens
        for center in outage.work_centers:
            lost[:, :, plan.work_centers.index(center)] += hours
    return lost


def _served(plan: LinearPlan, demand: np.ndarray, outage: np.ndarray) -> np.ndarray:
    """(n, months, products) the share of each product's drawn volume the work centres can make."""
    loads = plan.qty[:, :, None] * plan.unit_hours[None, :, :]  # (m, p, w) run hours per product
    run_hours = loads.sum(axis=1)
    drawn = np.einsum("dmp,mpw->dmw", demand, loads)
    scale = np.divide(drawn, run_hours, out=np.ones_like(drawn), where=run_hours > 0)
    required = plan.required_hours * scale
    can = np.maximum(plan.available_hours, plan.required_hours) - outage
    short = np.divide(required - can, required, out=np.zeros_like(required), where=required > 0)
    short = np.where(short > NOISE, np.minimum(short, 1.0), 0.0)
    lost = np.zeros_like(demand)
    uses = plan.unit_hours > 0
    for w in range(short.shape[2]):
        if short[:, :, w].any():
            np.maximum(lost, short[:, :, w, None] * uses[None, None, :, w], out=lost)
    return 1 - lost


def _scope(spread: PriceSpread | None, ids: list[str], families: list[str]) -> np.ndarray:
    """A bool per id: inside the spread's scope (empty scope: every id)."""
    if spread is None:
        return np.zeros(len(ids), dtype=bool)
    products, fams = set(spread.scope.products), set(spread.scope.families)
    if not products and not fams:
        return np.ones(len(ids), dtype=bool)
    return np.array([i in products or f in fams for i, f in zip(ids, families, strict=True)], dtype=bool)


def _depth_revenue(plan: LinearPlan, revenue_change: np.ndarray) -> np.ndarray:
    """(n, months) the drawn revenue of the month at the DSO's depth (the run's before the plan)."""
    inside = plan.delay_month >= 0
    change = np.where(inside[None, :], revenue_change[:, np.maximum(plan.delay_month, 0)], 0.0)
    return plan.delay_revenue[None, :] + change


def _percentiles(plan: LinearPlan, values: np.ndarray, measures: list[str]) -> pl.DataFrame:
    cut = np.percentile(values, PERCENTILES, axis=0)  # (3, months, measures)
    rows = [
        (month, measure, *(round_cents(float(cut[q, i, k])) for q in range(len(PERCENTILES))))
        for i, month in enumerate(plan.months)
        for k, measure in enumerate(measures)
    ]
    return pl.DataFrame(rows, schema=MONTHS_SCHEMA, orient="row")


def _breach(values: np.ndarray, band: Band) -> float:
    series = values[:, :, MEASURES.index(band.measure)]
    out = np.zeros(series.shape[0], dtype=bool)
    if band.min is not None:
        out |= (series < band.min).any(axis=1)
    if band.max is not None:
        out |= (series > band.max).any(axis=1)
    return float(out.mean())


def _check_work_centers(plan: LinearPlan, dists: Distributions) -> None:
    for i, outage in enumerate(dists.outages, start=1):
        unknown = [w for w in outage.work_centers if w not in plan.work_centers]
        if unknown:
            raise UserError(
                f"distributions.outages[{i}]: unknown work centre {', '.join(unknown)}; "
                f"work centres with routings are {', '.join(plan.work_centers)}"
            )
