"""The plan engine's one entry point (docs/planning.md): `build_plan(PlanInputs(tables, volumes, months, config,
budgets))`.

Volumes (volumes.py) → the operations they need (production, materials, capacity, inventory:
operations.py) → the P&L per month and site (pnl.py) → the balances and the cash flow (balances.py).
Pure: warehouse `Tables` and a `PlanningConfig` in, frames and problems out; the I/O layer
(opsfin.runs.planning) reads the tables and writes the result as a plan version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
from polars._typing import SchemaDict

from .balances import plan_balances
from .capacity import CAPACITY_SCHEMA
from .inputs import PlanInputs
from .operations import OperationsPlan, plan_operations
from .pnl import PNL_SCHEMA, Opex, plan_pnl
from .volumes import MONEY

BALANCES_SCHEMA: SchemaDict = {"period": pl.Date, "role": pl.Utf8, "amount": MONEY}
#: what a step reports while it runs: a short line for people (the CLI prints it on stderr)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanResult:
    """A built plan: the `plan_pnl`, `plan_capacity` and `plan_balances` rows without `version`, the
    problems found (an overloaded work centre, a month without volumes…), and where each month's opex came
    from (pnl.Opex.sources)."""

    pnl: pl.DataFrame
    capacity: pl.DataFrame
    balances: pl.DataFrame
    problems: list[str] = field(default_factory=list)
    opex_sources: dict[dt.date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanHooks:
    """Where a caller changes the plan between its steps (the scenario engine's shocks, docs/scenarios.md);
    each hook left None leaves the plan as it is.
    - `operations`: the operations plan → a changed one (hours lost, purchases repriced, stock held);
    - `costs`: the (changed) operations plan → P&L rows added (period, site_id, line `variances` or `opex`,
      amount);
    - `payment_days`: (month, customer) → days added to the customer's DSO at that month end."""

    operations: Callable[[OperationsPlan], OperationsPlan] | None = None
    costs: Callable[[OperationsPlan], pl.DataFrame] | None = None
    payment_days: Callable[[dt.date, str | None], Decimal] | None = None


def build_plan(inputs: PlanInputs, progress: Progress | None = None, hooks: PlanHooks | None = None) -> PlanResult:
    """The plan of the inputs' months driven by their volumes (PlanInputs). `hooks`: changes between the
    steps (PlanHooks)."""
    say = progress or (lambda _text: None)
    hooks = hooks or PlanHooks()
    tables, volumes, config = inputs.tables, inputs.volumes, inputs.config
    months = sorted(inputs.months)
    problems = list(volumes.problems)
    say("operations: production, materials and capacity")
    operations = plan_operations(tables, volumes.shipments, months, config.operations)
    if hooks.operations is not None:
        operations = hooks.operations(operations)
    problems.extend(operations.problems)
    say("P&L: revenue, cost of goods sold, variances and opex")
    extra = hooks.costs(operations) if hooks.costs is not None else None
    pnl, opex = plan_pnl(inputs, extra)
    say("balances and cash")
    balances = plan_balances(tables, pnl, operations, months, config.balances, hooks.payment_days)
    balances = _balances(balances)
    return PlanResult(pnl, _capacity(operations), balances, problems, opex.sources)


def _capacity(operations: OperationsPlan) -> pl.DataFrame:
    return operations.capacity.select(pl.col(c).cast(t) for c, t in CAPACITY_SCHEMA.items())


def _balances(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(t) for c, t in BALANCES_SCHEMA.items())


__all__ = ["PNL_SCHEMA", "Opex", "PlanHooks", "PlanInputs", "PlanResult", "build_plan"]
