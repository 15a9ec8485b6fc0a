"""What gives when demand exceeds capacity (docs/scenarios.md "When demand exceeds capacity").

Per month, a small linear programme (OR-Tools GLOP) decides how much of each product to make:

    maximise   Σ_p contribution_p × made_p − Σ_w premium_w × overtime_w
    subject to Σ_p hours_pw × made_p ≤ room_w + overtime_w      for every work centre w
               0 ≤ overtime_w ≤ overtime allowed_w
               0 ≤ made_p ≤ demand_p

`contribution_p` is the product's unit price less its standard unit cost (the margin each unit brings),
`hours_pw` its machine run hours per unit at w (its made components' included), `premium_w` the cost of an
overtime hour beyond the standard rate (facts.py). A product's volume not made is lost sales; products with
the lowest contribution per hour of the bottleneck lose volume first, as the LP's optimum does.

The room and the overtime allowed come from the base plan, so that a scenario without shocks loses
nothing: room_w = the hours available (less the hours a capacity shock takes) − the hours the base needs
beyond its shipments' run hours (setups, stock building); overtime allowed_w = the guardrail's overtime share
of paid hours (share ÷ (1 − share) × available) plus any overtime the base already needed beyond it (the
base plan accepted it). The LP runs only in months where the scenario's load exceeds that."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
from polars._typing import SchemaDict

from ..core.money import round_cents, to_decimal
from ..planning.volumes import MONEY, Volumes
from .base import BaseCase
from .config import Shock
from .shocks import revalue

LOST_SCHEMA: SchemaDict = {
    "period": pl.Date,
    "product_id": pl.Utf8,
    "qty": pl.Float64,
    "contribution": MONEY,
    "reason": pl.Utf8,
}
TOLERANCE = 1e-6
#: the cost of an hour no overtime can cover (a load the LP cannot shed): far above any contribution
SHORT_COST = 1e9


@dataclass(frozen=True)
class MonthLoad:
    """One month's LP data (module docstring): per product the demand, contribution per unit and hours per
    unit at each work centre; per work centre the room, the overtime allowed and its premium."""

    demand: dict[str, float]
    contribution: dict[str, float]
    hours: dict[str, dict[str, float]]
    room: dict[str, float]
    overtime: dict[str, float]
    premium: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MonthPlan:
    """The LP's answer: units made per product, overtime hours per work centre, each product's bottleneck
    (the binding work centre it needs most hours of), and hours no overtime could cover."""

    made: dict[str, float]
    overtime: dict[str, float]
    bottleneck: dict[str, str]
    short: dict[str, float]


def overloaded(load: MonthLoad) -> bool:
    """True when making every unit demanded needs more than the room plus the overtime allowed somewhere."""
    need: dict[str, float] = defaultdict(float)
    for p, qty in load.demand.items():
        for wc, h in load.hours.get(p, {}).items():
            need[wc] += h * qty
    return any(need[wc] > load.room.get(wc, 0.0) + load.overtime.get(wc, 0.0) + TOLERANCE for wc in need)


def solve_month(load: MonthLoad) -> MonthPlan:
    """The LP of one month (module docstring)."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    products = sorted(load.demand)
    centres = sorted({wc for p in products for wc in load.hours.get(p, {})})
    made = {p: solver.NumVar(0.0, max(load.demand[p], 0.0), f"made_{i}") for i, p in enumerate(products)}
    extra = {w: solver.NumVar(0.0, max(load.overtime.get(w, 0.0), 0.0), f"ot_{i}") for i, w in enumerate(centres)}
    short = {w: solver.NumVar(0.0, solver.infinity(), f"short_{i}") for i, w in enumerate(centres)}
    rows = {}
    for w in centres:
        row = solver.Constraint(-solver.infinity(), load.room.get(w, 0.0), f"hours_{w}")
        for p in products:
            h = load.hours.get(p, {}).get(w, 0.0)
            if h:
                row.SetCoefficient(made[p], h)
        row.SetCoefficient(extra[w], -1.0)
        row.SetCoefficient(short[w], -1.0)
        rows[w] = row
    objective = solver.Objective()
    for p in products:
        objective.SetCoefficient(made[p], load.contribution.get(p, 0.0))
    for w in centres:
        objective.SetCoefficient(extra[w], -load.premium.get(w, 0.0))
        objective.SetCoefficient(short[w], -SHORT_COST)
    objective.SetMaximization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:  # pragma: no cover - the LP is always feasible (short hours)
        return MonthPlan(dict(load.demand), {}, {}, {})
    duals = {w: rows[w].dual_value() for w in centres}
    bottleneck = {}
    for p in products:
        binding = [(duals[w] * h, w) for w, h in load.hours.get(p, {}).items() if h and duals.get(w, 0.0) > TOLERANCE]
        if binding:
            bottleneck[p] = max(binding)[1]
    return MonthPlan(
        {p: v.solution_value() for p, v in made.items()},
        {w: v.solution_value() for w, v in extra.items() if v.solution_value() > TOLERANCE},
        bottleneck,
        {w: v.solution_value() for w, v in short.items() if v.solution_value() > TOLERANCE},
    )


# ------------------------------------------------------------------------------------------ a scenario
def decide_lost_sales(
    base: BaseCase, volumes: Volumes, shocks: Sequence[Shock]
) -> tuple[Volumes, pl.DataFrame, list[str]]:
    """The scenario's volumes after what gives, its lost sales and problems (module docstring)."""
    empty = pl.DataFrame(schema=LOST_SCHEMA)
    if not any(s.kind in ("demand", "capacity") for s in shocks) or volumes.lines.is_empty():
        return volumes, empty, []
    lines = volumes.lines
    factors = [Decimal(1)] * lines.height
    lost_rows, problems = [], []
    for month in base.months:
        if month in volumes.actual_months:
            continue
        load = month_load(base, volumes, shocks, month)
        if not overloaded(load):
            continue
        plan = solve_month(load)
        for wc, hours in sorted(plan.short.items()):
            problems.append(f"{wc} in {month:%Y-%m}: {hours:.1f} h more than available and overtime allow")
        for p in sorted(load.demand):
            gone = load.demand[p] - plan.made.get(p, 0.0)
            if gone <= TOLERANCE * max(1.0, load.demand[p]):
                continue
            lost_rows.append(_lost_row(base, load, plan, month, p, gone))
            keep = to_decimal(plan.made.get(p, 0.0)) / to_decimal(load.demand[p])
            for i in _rows_of(lines, month, p):
                factors[i] = keep
    if not lost_rows:
        return volumes, empty, problems
    cut = revalue(volumes, factors, [Decimal(1)] * lines.height)
    return cut, pl.DataFrame(lost_rows, schema=LOST_SCHEMA, orient="row"), problems


def _rows_of(lines: pl.DataFrame, month: dt.date, product: str) -> list[int]:
    hit = lines.with_row_index("_i").filter((pl.col("period") == month) & (pl.col("product_id") == product))
    return hit["_i"].to_list()


def _lost_row(
    base: BaseCase, load: MonthLoad, plan: MonthPlan, month: dt.date, product: str, gone: float
) -> tuple[dt.date, str, float, Decimal, str]:
    unit = load.contribution.get(product, 0.0)
    wc = plan.bottleneck.get(product)
    cur = base.facts.base_currency
    if wc is None:
        reason = "capacity: overtime costs more than the volume brings"
    else:
        per_hour = unit / load.hours[product][wc]
        reason = f"capacity {wc} (bottleneck), contribution {cur} {per_hour:,.2f} per bottleneck hour"
    return (month, product, round(gone, 4), round_cents(to_decimal(round(gone, 6)) * to_decimal(unit)), reason)


def month_load(base: BaseCase, volumes: Volumes, shocks: Sequence[Shock], month: dt.date) -> MonthLoad:
    """The LP data of `month` for the scenario's `volumes` (module docstring)."""
    facts = base.facts
    demand = _per_product(volumes.shipments, month)
    before = _per_product(base.volumes.shipments, month)
    hours = {p: facts.unit_hours.get(p, {}) for p in demand}
    cap = base.plan.capacity.filter(pl.col("period") == month)
    share = min(max(base.overtime_share, 0.0), 0.95)
    allowed = share / (1 - share)
    room, overtime = {}, {}
    for wc, need, available in cap.select("work_center_id", "required_hours", "available_hours").iter_rows():
        run = sum(facts.unit_hours.get(p, {}).get(wc, 0.0) * q for p, q in before.items())
        lost = float(
            sum(
                (s.size for s in shocks if s.kind == "capacity" and s.covers(month) and wc in s.scope.work_centers),
                Decimal(0),
            )
        )
        now = max(available - lost, 0.0)
        room[wc] = now - (need - run)
        overtime[wc] = allowed * now + max(0.0, need - available * (1 + allowed))
    return MonthLoad(
        demand,
        _contributions(volumes.lines, month),
        hours,
        room,
        overtime,
        {wc: float(v) for wc, v in facts.premium.items()},
    )


def _per_product(shipments: pl.DataFrame, month: dt.date) -> dict[str, float]:
    rows = shipments.filter(pl.col("period") == month).group_by("product_id").agg(pl.col("qty").sum())
    return {p: q for p, q in rows.iter_rows() if q > 0}


def _contributions(lines: pl.DataFrame, month: dt.date) -> dict[str, float]:
    """Price − standard cost per unit, averaged over the product's lines of the month (qty-weighted)."""
    value: dict[str, Decimal] = defaultdict(Decimal)
    qty: dict[str, Decimal] = defaultdict(Decimal)
    for r in lines.filter(pl.col("period") == month).iter_rows(named=True):
        q = to_decimal(r["qty"])
        value[r["product_id"]] += q * (to_decimal(r["unit_price"]) - to_decimal(r["std_unit_cost"]))
        qty[r["product_id"]] += q
    return {p: float(value[p] / qty[p]) for p in value if qty[p]}
