"""Production scheduled around cash (docs/cash.md, "Production scheduled around cash").

`schedule_production(tables, as_of, config)` reads the problem (`schedule_inputs`), solves the MILP
(`schedule_model`) from the earliest-due-date schedule, and costs both with the one cost function
(`schedule_costs.evaluate`). The MILP's schedule is kept only when it is no worse than the baseline on what
the MILP minimises (total cost + the penalty on cash below the minimum); else the baseline is the answer.
Orders that cannot run inside the horizon (materials too late, no working day left) are left out, each
with a problem line. Pure: tables and config in, frames out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ..planning.operations_config import OperationsConfig
from .schedule_costs import Outcome, Placement, ScheduleProblem, candidates, cash_days, edd_schedule, evaluate
from .schedule_inputs import ScheduleConfig, schedule_problem
from .schedule_model import SHORTFALL_PENALTY, check_solver, solve_schedule

MONEY = pl.Decimal(18, 2)
ORDER_SCHEMA: dict[str, Any] = {
    "order_id": pl.String,
    "product_id": pl.String,
    "qty": pl.Float64,
    "work_center_id": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "due_date": pl.Date,
    "late_days": pl.Int32,
}
LOAD_SCHEMA: dict[str, Any] = {
    "work_center_id": pl.String,
    "date": pl.Date,
    "hours": pl.Float64,
    "capacity_hours": pl.Float64,
}
CASH_SCHEMA: dict[str, Any] = {"date": pl.Date, "closing": MONEY}


@dataclass(frozen=True)
class CashSchedule:
    """The schedule: one row per order, the load per work centre and day, the closing cash per day, its
    costs and the baseline's (`objective` keys), the problems, the solver's status and seconds."""

    as_of: dt.date
    orders: pl.DataFrame
    load: pl.DataFrame
    cash: pl.DataFrame
    objective: dict[str, Any]
    baseline: dict[str, Any]
    problems: list[str]
    status: str
    solve_seconds: float
    baseline_cash: pl.DataFrame | None = None  # the baseline's closing cash per day (CASH_SCHEMA; the Cash page)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape `{orders, load, cash, objective, baseline}` (money as Decimal)."""
        return {
            "orders": self.orders.to_dicts(),
            "load": self.load.to_dicts(),
            "cash": self.cash.to_dicts(),
            "objective": self.objective,
            "baseline": self.baseline,
        }


def schedule_production(
    tables: Any, as_of: dt.date, config: ScheduleConfig | None = None, operations: OperationsConfig | None = None
) -> CashSchedule:
    """The cash-aware schedule of the orders of `config.weeks` weeks after `as_of`, with its baseline."""
    config = config or ScheduleConfig()
    check_solver(config.solver)
    problem, problems = schedule_problem(tables, as_of, config, operations or OperationsConfig())
    return solve_problem(problem, config.time_limit_s, config.solver, problems)


def solve_problem(
    problem: ScheduleProblem, time_limit_s: float = 30.0, solver: str = "SCIP", problems: list[str] | None = None
) -> CashSchedule:
    """Schedule `problem` (module docstring)."""
    notes = list(problems or [])
    options = candidates(problem)
    for order in problem.orders:
        if not options[order.order_id]:
            notes.append(
                f"{order.order_id}: cannot run inside the horizon (earliest start {order.earliest_start}); not scheduled"
            )
    problem = dataclasses.replace(problem, orders=tuple(o for o in problem.orders if options[o.order_id]))
    options = {o.order_id: options[o.order_id] for o in problem.orders}
    grid = cash_days(problem, options)
    edd = edd_schedule(problem, options)
    baseline = evaluate(problem, edd, grid)
    solved = solve_schedule(problem, options, grid, edd, time_limit_s, solver)
    outcome, status, gap = baseline, f"{solved.status}; the baseline kept", None
    if len(solved.chosen) == len(options) and not _overloads(problem, solved.chosen):
        candidate = evaluate(problem, solved.chosen, grid)
        if _penalised(candidate) <= _penalised(baseline):
            outcome, status, gap = candidate, solved.status, solved.gap
    return CashSchedule(
        problem.as_of,
        _order_rows(problem, outcome),
        _load_rows(problem, outcome.placements),
        pl.DataFrame(outcome.closing, schema=CASH_SCHEMA, orient="row"),
        _figures(outcome, problem.min_cash, gap),
        _figures(baseline, problem.min_cash, None),
        notes,
        status,
        solved.seconds,
        pl.DataFrame(baseline.closing, schema=CASH_SCHEMA, orient="row"),
    )


def _penalised(outcome: Outcome) -> Decimal:
    return outcome.total + Decimal(str(SHORTFALL_PENALTY)) * outcome.shortfall_days


def _overloads(problem: ScheduleProblem, chosen: dict[str, Placement]) -> bool:
    used: dict[tuple[str, dt.date], float] = defaultdict(float)
    for p in chosen.values():
        for wc, day, hours in p.loads:
            used[(wc, day)] += hours
    return any(h > problem.capacity.get(key, 0.0) + 1e-6 for key, h in used.items())


def _figures(outcome: Outcome, min_cash: Decimal | None, gap: float | None) -> dict[str, Any]:
    return {
        "total": outcome.total,
        "lateness_cost": outcome.lateness_cost,
        "financing_cost": outcome.financing_cost,
        "holding_cost": outcome.holding_cost,
        "late_orders": outcome.late_orders,
        "late_days": outcome.late_days,
        "cash_low_point": outcome.cash_low_point,
        "feasible": outcome.feasible(min_cash),
        "gap": None if gap is None else round(gap, 6),
    }


def _order_rows(problem: ScheduleProblem, outcome: Outcome) -> pl.DataFrame:
    rows = []
    for o in problem.orders:
        p = outcome.placements[o.order_id]
        wc = o.steps[0].work_center_id if o.steps else None
        rows.append(
            (o.order_id, o.product_id, o.qty, wc, p.start, p.end, o.due_date, max(0, (p.end - o.due_date).days))
        )
    return pl.DataFrame(rows, schema=ORDER_SCHEMA, orient="row").sort("start_date", "order_id")


def _load_rows(problem: ScheduleProblem, chosen: dict[str, Placement]) -> pl.DataFrame:
    """Every (work centre, day) of the horizon with hours available or used: hours and capacity to 0.01 h
    (rounding both keeps hours ≤ capacity)."""
    used: dict[tuple[str, dt.date], float] = defaultdict(float)
    for p in chosen.values():
        for wc, day, hours in p.loads:
            used[(wc, day)] += hours
    keys = sorted(set(problem.capacity) | set(used))
    rows = [
        (wc, day, round(used.get((wc, day), 0.0), 2), round(problem.capacity.get((wc, day), 0.0), 2))
        for wc, day in keys
    ]
    return pl.DataFrame(rows, schema=LOAD_SCHEMA, orient="row")
