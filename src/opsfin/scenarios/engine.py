"""The scenario engine (docs/scenarios.md "Running a scenario"): a base plan's inputs, frozen once
(`prepare_base`), run again through the SAME plan engine (opsfin.planning.engine.build_plan) with a
scenario's shocks applied to its inputs (`run_scenario`), and reported line by line against the base
(`compare`).

The shocks change the volumes and prices the plan is driven from (shocks.py), what gives when demand exceeds
capacity is decided by a small LP (lost_sales.py), and the rest goes in through the plan engine's hooks
(planning.engine.PlanHooks): hours lost, purchases repriced, stock held for a late supplier, extra costs
and later payments. With no shocks the run IS the base plan, line for line.

Pure: warehouse tables and the planning config in, frames out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from polars._typing import SchemaDict

from ..core.money import to_decimal
from ..planning.engine import PlanInputs, PlanResult, Progress, build_plan
from ..planning.volumes import MONEY
from .base import BaseCase
from .config import Shock
from .facts import read_facts
from .lost_sales import LOST_SCHEMA, decide_lost_sales
from .shocks import hooks_for, shocked_volumes

CASH_SCHEMA: SchemaDict = {"period": pl.Date, "amount": MONEY}


@dataclass(frozen=True)
class ScenarioRun:
    """One run of the plan engine: `plan` (pnl, capacity, balances, problems), `lost_sales(period, product_id,
    qty, contribution, reason)` — what the LP gave up —, `cash(period, amount)` month-end cash (the opening
    cash plus the plan's net cash flows), and the problems of the run."""

    plan: PlanResult
    lost_sales: pl.DataFrame
    cash: pl.DataFrame
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScenarioReport:
    """`opsfin scenario run`'s JSON: the scenario's every P&L line, capacity per work centre and month-end
    cash against the base's (base, scenario, delta), and its lost sales. `as_json()` gives the documented
    shape."""

    scenario: str
    base: str
    pnl: pl.DataFrame  # period, site_id, line, base, scenario, delta
    capacity: pl.DataFrame  # period, work_center_id, base, scenario, delta (required hours)
    cash: pl.DataFrame  # period, base, scenario, delta
    lost_sales: pl.DataFrame  # period, product_id, qty, contribution, reason
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (f"{v:%Y-%m}" if isinstance(v, dt.date) else v) for k, v in r.items()} for r in frame.to_dicts()
            ]

        return {
            "scenario": self.scenario,
            "base": self.base,
            "pnl": rows(self.pnl),
            "capacity": rows(self.capacity),
            "cash": rows(self.cash),
            "lost_sales": rows(self.lost_sales),
        }


def prepare_base(
    inputs: PlanInputs,
    *,
    opening_cash: Decimal = Decimal(0),
    overtime_share: float = 0.0,
    name: str = "base",
    progress: Progress | None = None,
) -> BaseCase:
    """The base's inputs, frozen: the base plan is built once here (build_plan) and the facts the shocks
    read (routings, standard-cost content, suppliers, currencies, customers) are read once."""
    tables, volumes, config = inputs.tables, inputs.volumes, inputs.config
    months, budgets = tuple(sorted(inputs.months)), tuple(inputs.budgets)
    plan = build_plan(inputs, progress)
    facts = read_facts(tables, volumes, months, config)
    return BaseCase(tables, volumes, months, config, budgets, plan, facts, opening_cash, overtime_share, name)


def run_scenario(base: BaseCase, shocks: Sequence[Shock], progress: Progress | None = None) -> ScenarioRun:
    """The plan of `base` with `shocks` applied, built by the plan engine. No shock: the base plan itself
    (the same PlanResult), with no lost sales."""
    if not shocks:
        return ScenarioRun(base.plan, pl.DataFrame(schema=LOST_SCHEMA), month_end_cash(base, base.plan), [])
    volumes, problems = shocked_volumes(base, shocks)
    volumes, lost, lp_problems = decide_lost_sales(base, volumes, shocks)
    hooks = hooks_for(base, shocks)
    plan = build_plan(base.driven_by(volumes), progress, hooks)
    return ScenarioRun(plan, lost, month_end_cash(base, plan), problems + lp_problems)


def month_end_cash(base: BaseCase, plan: PlanResult) -> pl.DataFrame:
    """The opening cash plus the cumulated `net_cash_flow` of the plan, per month."""
    flows = plan.balances.filter(pl.col("role") == "net_cash_flow").sort("period")
    cash, rows = base.opening_cash, []
    for period, amount in zip(flows["period"].to_list(), flows["amount"].to_list(), strict=True):
        cash += to_decimal(amount)
        rows.append((period, cash))
    return pl.DataFrame(rows, schema=CASH_SCHEMA, orient="row")


def compare(base_run: ScenarioRun, run: ScenarioRun, scenario: str = "scenario", base: str = "base") -> ScenarioReport:
    """The scenario against its base: every P&L line per month and site, the required hours per work
    centre and month, the month-end cash; base, scenario and delta (scenario − base)."""
    pnl = _against(base_run.plan.pnl, run.plan.pnl, ["period", "site_id", "line"], "amount")
    capacity = _against(base_run.plan.capacity, run.plan.capacity, ["period", "work_center_id"], "required_hours")
    cash = _against(base_run.cash, run.cash, ["period"], "amount")
    return ScenarioReport(scenario, base, pnl, capacity, cash, run.lost_sales, list(run.problems))


def _against(base: pl.DataFrame, scen: pl.DataFrame, keys: list[str], value: str) -> pl.DataFrame:
    left = base.select(*keys, pl.col(value).alias("base"))
    right = scen.select(*keys, pl.col(value).alias("scenario"))
    both = left.join(right, on=keys, how="full", coalesce=True, nulls_equal=True, maintain_order="left")
    zero = pl.lit(0, dtype=left.schema["base"])
    both = both.with_columns(pl.col("base").fill_null(zero), pl.col("scenario").fill_null(zero))
    return both.with_columns(delta=pl.col("scenario") - pl.col("base")).select(*keys, "base", "scenario", "delta")
