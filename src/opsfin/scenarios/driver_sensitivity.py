"""The sensitivities of the driver tree (docs/scenarios.md "The driver tree"): the change in the period's
operating income and month-end cash for one unit of each driver, found by RUNNING the plan engine with one
small move of the driver and dividing by the move's size — never by a formula of our own.

A move is scenario shocks for `run_scenario` (engine.py), or, for a driver no shock kind reaches, the base's
plan rebuilt with one planning setting changed (DIO: one more day of finished-goods cover) or one fact
changed (DPO: every supplier's payment terms one day longer). How each driver maps to a move:

| driver | move | its size in the driver's unit |
| --- | --- | --- |
| volume | demand +1 % | 1 % of the base's planned units |
| price | price +1 % | 1 % of the base's average price |
| mix | demand shifted: 1 % of the units from the products below the mix to those above | Δ mix |
| material_price | material_price +1 % | one point of the ppv rate |
| scrap_rate | material_price +(1−s)/(1−s−0.01) − 1 | one point of scrap: the material per good unit |
| labor_productivity | wage −(1 − 1/1.01), all work centres | +1 % of the period's units per hour |
| overtime_share | wage +(m−1)·0.01/(1+s(m−1)), all work centres | one point of overtime (m: multiplier) |
| energy_per_unit | energy_price +1 % | 1 % of the period's kWh per unit |
| availability:<wc> | capacity: available h × 0.01 ÷ availability lost | one point less (sign turned) |
| dso | payment_delay +5 days | 5 days |
| dio | days_of_cover +5 | 5 days |
| dpo | suppliers paid 5 days later: terms, and due dates from the period on, +5 days | 5 days |
| opex | fixed_cost +1,000 a month | 1,000 |

Pure: a `BaseCase` and the driver values in; the sensitivities out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import polars as pl

from ..core.money import round_cents, to_decimal
from ..planning.engine import PlanInputs, PlanResult, build_plan
from .config import Shock
from .drivers import AVAILABILITY
from .engine import BaseCase, month_end_cash, run_scenario

Progress = Callable[[str], None]
OPEX_STEP = Decimal(1000)
#: the days DSO, DIO and DPO are moved by (a whole number: a one-day move of a one-month plan is too coarse
#: to see, e.g. no supplier invoice due on the month's last day)
DAYS_STEP = 5.0


@dataclass(frozen=True)
class Move:
    """One run of the engine for one driver: its shocks, or a planning config / tables to rebuild the base
    plan with; `size`: the driver's change this move makes, in the driver's unit of sensitivity."""

    node_id: str
    size: float
    shocks: tuple[Shock, ...] = ()
    config: Any = None
    tables: Any = None


class LaterSupplierPayments:
    """The warehouse tables with every supplier paid `days` later from `since` on (the DPO move): its
    `payment_terms_days` longer, and the booked supplier invoices due on or after `since` due that much
    later (those due before stay as paid, so the balances before `since` do not change)."""

    def __init__(self, tables: Any, days: int, since: dt.date) -> None:
        self._tables, self._days, self._since = tables, days, since

    def __call__(self, name: str) -> Any:
        table = self._tables(name)
        if name == "suppliers":
            return table.mutate(payment_terms_days=(table.payment_terms_days + self._days).cast("int32"))
        if name == "ap_invoices":
            later = (table.due_date + ibis.interval(days=self._days)).cast("date")
            return table.mutate(due_date=ibis.ifelse(table.due_date >= self._since, later, table.due_date))
        return table

    def __getattr__(self, name: str) -> Any:  # backend, base_currency
        return getattr(self._tables, name)


def moves(
    base: BaseCase,
    period: dt.date,
    value: Mapping[str, float | None],
    overtime_multiplier: float,
    unit_margins: Mapping[str, Decimal],
) -> list[Move]:
    """The move of each driver that can be moved, for `period` (see the module's table). `value`: the
    drivers' values in the period (volume and price from the base plan; ratios as fractions);
    `unit_margins`: each product's list price − standard cost (the mix's weights)."""

    def shock(kind: str, size: float | Decimal, scope: dict | None = None) -> tuple[Shock, ...]:
        one = {"kind": kind, "scope": scope or {}, "start": period, "end": period, "size": Decimal(repr(float(size)))}
        return (Shock.model_validate(one),)

    out: list[Move] = []
    for node, kind in (("volume", "demand"), ("price", "price")):
        if value.get(node):
            out.append(Move(node, 0.01 * float(value[node] or 0), shock(kind, 1)))
    out.extend(_mix_move(base, period, unit_margins, shock))
    out.append(Move("material_price", 1.0, shock("material_price", 1)))
    scrap = value.get("scrap_rate")
    if scrap is not None and scrap < 0.98:
        out.append(Move("scrap_rate", 1.0, shock("material_price", 100 * ((1 - scrap) / (1 - scrap - 0.01) - 1))))
    wcs = {"work_centers": sorted(base.facts.wc_site)}  # production labour only, not payroll opex
    if value.get("labor_productivity"):
        size = 0.01 * float(value["labor_productivity"] or 0)
        out.append(Move("labor_productivity", size, shock("wage", -100 * (1 - 1 / 1.01), wcs)))
    share = value.get("overtime_share")
    if share is not None and overtime_multiplier > 1:
        premium = overtime_multiplier - 1
        out.append(Move("overtime_share", 1.0, shock("wage", 100 * premium * 0.01 / (1 + share * premium), wcs)))
    if value.get("energy_per_unit"):
        out.append(Move("energy_per_unit", 0.01 * float(value["energy_per_unit"] or 0), shock("energy_price", 1)))
    out.extend(_availability_moves(base, period, value, shock))
    out.append(Move("dso", DAYS_STEP, shock("payment_delay", DAYS_STEP)))
    ops = base.config.operations
    cover = ops.model_copy(
        update={
            "days_of_cover": ops.days_of_cover + DAYS_STEP,
            "days_of_cover_by_product": {p: d + DAYS_STEP for p, d in ops.days_of_cover_by_product.items()},
        }
    )
    out.append(Move("dio", DAYS_STEP, config=base.config.model_copy(update={"operations": cover})))
    out.append(Move("dpo", DAYS_STEP, tables=LaterSupplierPayments(base.tables, int(DAYS_STEP), period)))
    out.append(Move("opex", float(OPEX_STEP), shock("fixed_cost", OPEX_STEP)))
    return out


def _mix_move(base: BaseCase, period: dt.date, margins: Mapping[str, Decimal], shock: Callable) -> list[Move]:
    """Shift 1 % of the period's planned units from the products with a unit margin below the mix (the
    units' average margin) to those above, the units unchanged: demand +k/Q_high and −k/Q_low. The mix
    moves by k × (mean margin above − mean margin below) ÷ Q."""
    sold = base.volumes.shipments.filter(pl.col("period") == period).group_by("product_id").agg(pl.col("qty").sum())
    qty = {p: to_decimal(q) for p, q in sold.iter_rows() if q}
    total = sum(qty.values(), Decimal(0))
    if not total:
        return []
    mix = sum((q * margins.get(p, Decimal(0)) for p, q in qty.items()), Decimal(0)) / total
    high = sorted(p for p in qty if margins.get(p, Decimal(0)) > mix)
    low = sorted(p for p in qty if p not in high)
    q_high, q_low = (sum((qty[p] for p in g), Decimal(0)) for g in (high, low))
    if not high or not q_low:
        return []
    k = total / 100  # the units shifted

    def mean_margin(group: list[str], units: Decimal) -> Decimal:
        return sum((qty[p] * margins.get(p, Decimal(0)) for p in group), Decimal(0)) / units

    size = k * (mean_margin(high, q_high) - mean_margin(low, q_low)) / total
    shocks = shock("demand", 100 * k / q_high, {"products": high}) + shock(
        "demand", -100 * k / q_low, {"products": low}
    )
    return [Move("mix", float(size), shocks)]


def _availability_moves(
    base: BaseCase, period: dt.date, value: Mapping[str, float | None], shock: Callable
) -> list[Move]:
    """One point less availability at each work centre: its planned available hours × 0.01 ÷ availability."""
    cap = base.plan.capacity.filter(pl.col("period") == period)
    out = []
    for wc, hours in zip(cap["work_center_id"].to_list(), cap["available_hours"].to_list(), strict=True):
        availability = value.get(f"{AVAILABILITY}:{wc}")
        if availability and hours:
            lost = hours * 0.01 / availability
            out.append(Move(f"{AVAILABILITY}:{wc}", -1.0, shock("capacity", lost, {"work_centers": [wc]})))
    return out


def sensitivities(
    base: BaseCase, period: dt.date, driver_moves: list[Move], progress: Progress | None = None
) -> dict[str, tuple[Decimal, Decimal]]:
    """(Δ operating income, Δ month-end cash) of `period` per unit of each driver: each move run through
    the engine, its difference from the base divided by the move's size, rounded to the cent."""
    say = progress or (lambda _text: None)
    base_oi, base_cash = _outcome(base.plan, month_end_cash(base, base.plan), period)
    out = {}
    for i, move in enumerate(driver_moves, 1):
        say(f"sensitivity {i}/{len(driver_moves)}: {move.node_id}")
        plan, cash = _run(base, move)
        oi, end_cash = _outcome(plan, cash, period)
        size = Decimal(repr(move.size))
        out[move.node_id] = (_per_unit(oi - base_oi, size), _per_unit(end_cash - base_cash, size))
    return out


def _run(base: BaseCase, move: Move) -> tuple[PlanResult, pl.DataFrame]:
    if move.shocks:
        run = run_scenario(base, list(move.shocks))
        return run.plan, run.cash
    tables = move.tables if move.tables is not None else base.tables
    config = move.config if move.config is not None else base.config
    plan = build_plan(PlanInputs(tables, base.volumes, base.months, config, base.budgets))
    return plan, month_end_cash(base, plan)


def _outcome(plan: PlanResult, cash: pl.DataFrame, period: dt.date) -> tuple[Decimal, Decimal]:
    """The period's operating income (all sites) and month-end cash."""
    oi = plan.pnl.filter((pl.col("period") == period) & (pl.col("line") == "operating_income"))["amount"].sum()
    end = cash.filter(pl.col("period") == period)["amount"]
    return to_decimal(oi), to_decimal(end[0]) if end.len() else Decimal(0)


def _per_unit(change: Decimal, size: Decimal) -> Decimal:
    """`change` ÷ `size` to the cent, without a negative zero."""
    value = round_cents(change / size)
    return value if value != 0 else abs(value)
