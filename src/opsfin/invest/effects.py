"""An investment's driver changes as monthly flows (docs/investments.md "Effects through the scenario
engine").

A case's `effects:` are scenario shocks (opsfin.scenarios.config.Shock: price +2 %, energy per unit −10 %
at a work centre, two fewer operators as a fixed cost −X a month, scrap −1 point…). They are run through
the scenario engine against a base plan (`scenarios.engine.run_scenario`, the plan engine itself, never a
copy), and each month's flow is the scenario's change against the base:

- `operating_income` (the default, the case's flow): the change in the plan's `operating_income` line,
  summed over the sites. It is BEFORE tax: the case's cash flows (invest/flows.py) take the tax on it.
- `cash`: the change in the plan's net cash flow of the month (the operating-income change shifted by the
  customers' and suppliers' terms and the stock held).

The plan covers its own months only. A case's life runs from `start` for `months` months; a month beyond
the plan's last is given the last plan month's change (extended flat: the effect in force at the end of
the plan is taken to last), a month before the plan's first the first plan month's. Each flow is dated the
first day of its month, the plan's period. Pure: the frozen base case and the shocks in, flows out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import polars as pl

from ..core.money import to_decimal
from ..core.periods import add_months
from ..errors import UserError
from ..scenarios.base import BaseCase
from ..scenarios.config import Shock
from ..scenarios.engine import ScenarioRun, run_scenario

Basis = Literal["operating_income", "cash"]
BASES: tuple[Basis, ...] = ("operating_income", "cash")


def effect_flows(
    base_case: BaseCase,
    effects: Sequence[Shock],
    start: dt.date,
    months: int,
    basis: Basis = "operating_income",
) -> list[tuple[dt.date, Decimal]]:
    """The monthly change the `effects` make to the base plan, for `months` months from `start`'s month,
    extended flat beyond the plan (module docstring). No effect: no flows."""
    if months < 1:
        raise UserError(f"an investment's life is at least one month, not {months}")
    if basis not in BASES:
        raise UserError(f"unknown basis {basis!r}: {', '.join(BASES)}")
    if not effects:
        return []
    deltas = monthly_deltas(run_scenario(base_case, []), run_scenario(base_case, effects), basis)
    return extend(deltas, start.replace(day=1), months)


def monthly_deltas(base_run: ScenarioRun, run: ScenarioRun, basis: Basis) -> dict[dt.date, Decimal]:
    """Per plan month, scenario − base of the `basis` (operating income over the sites, or net cash flow)."""
    if basis == "operating_income":
        return _diff(_per_month(base_run.plan.pnl, "line", basis), _per_month(run.plan.pnl, "line", basis))
    return _diff(
        _per_month(base_run.plan.balances, "role", "net_cash_flow"),
        _per_month(run.plan.balances, "role", "net_cash_flow"),
    )


def extend(deltas: dict[dt.date, Decimal], start: dt.date, months: int) -> list[tuple[dt.date, Decimal]]:
    """`months` monthly flows from `start`: a plan month's delta, the nearest plan month's outside it."""
    if not deltas:
        return []
    first, last = min(deltas), max(deltas)
    out = []
    for i in range(months):
        month = add_months(start, i)
        key = last if month > last else first if month < first else month
        out.append((month, deltas.get(key, Decimal(0))))
    return out


def _per_month(frame: pl.DataFrame, column: str, value: str) -> dict[dt.date, Decimal]:
    rows = frame.filter(pl.col(column) == value)
    out: dict[dt.date, Decimal] = {}
    for period, amount in zip(rows["period"].to_list(), rows["amount"].to_list(), strict=True):
        out[period] = out.get(period, Decimal(0)) + to_decimal(amount)
    return out


def _diff(base: dict[dt.date, Decimal], scenario: dict[dt.date, Decimal]) -> dict[dt.date, Decimal]:
    return {m: scenario.get(m, Decimal(0)) - base.get(m, Decimal(0)) for m in sorted(set(base) | set(scenario))}
