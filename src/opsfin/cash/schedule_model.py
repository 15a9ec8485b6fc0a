"""The MILP that schedules production around cash (docs/cash.md, "Production scheduled around cash").

OR-Tools' linear solver with one of its bundled MIP solvers (SCIP by default; CBC or HiGHS).

- x[o, s] ∈ {0, 1}: order o takes its placement s (a start day, `schedule_costs.place`); Σ_s x[o, s] = 1.
- Capacity: Σ hours of the placements on (work centre, day) ≤ its capacity hours.
- Cash: balance[t] = balance[t−1] + fixed flows of t + Σ flows of the chosen placements on t, from the
  opening bank balance; overdraft[t] ≥ −balance[t]; shortfall[t] ≥ min cash − balance[t]; both ≥ 0.
- Minimise Σ x × (lateness + holding cost of the placement) + Σ overdraft × rate ÷ 365
  + SHORTFALL_PENALTY × Σ shortfall: the minimum cash is a soft constraint whose breach costs far more than
  any lateness, so it is met wherever it can be.

The earliest-due-date schedule is given as a hint (a first solution; not to HiGHS, whose OR-Tools wrapper
crashes on hints), and the solver stops at the time limit
with the best schedule found and its bound: `gap` = (objective − bound) ÷ |objective|."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ortools.linear_solver import pywraplp

from ..errors import UserError
from .schedule_costs import DAYS_A_YEAR, Placement, ScheduleProblem, base_flows

SOLVERS = ("SCIP", "CBC", "HIGHS")
#: per currency unit and day below the minimum cash: 100 % a day, far above any lateness or interest
SHORTFALL_PENALTY = 1.0


@dataclass(frozen=True)
class Solved:
    """The solver's schedule ({order: placement}; empty when it found none), its gap and status."""

    chosen: dict[str, Placement]
    gap: float | None
    status: str
    seconds: float


def solve_schedule(
    problem: ScheduleProblem,
    options: dict[str, list[Placement]],
    grid: list[dt.date],
    hint: dict[str, Placement],
    time_limit_s: float,
    solver_name: str = "SCIP",
) -> Solved:
    """The MILP of the module docstring over the cash days `grid`, started from `hint`."""
    solver = _solver(solver_name, time_limit_s)
    x = {(order, i): solver.BoolVar(f"x[{order},{i}]") for order, places in options.items() for i in range(len(places))}
    objective = solver.Objective()
    loads: dict[tuple[str, dt.date], list[tuple[pywraplp.Variable, float]]] = {}
    flows: dict[dt.date, list[tuple[pywraplp.Variable, float]]] = {}
    costs = {o.order_id: o for o in problem.orders}
    for order, places in options.items():
        once = solver.Constraint(1, 1, f"once[{order}]")
        for i, p in enumerate(places):
            var = x[(order, i)]
            once.SetCoefficient(var, 1)
            objective.SetCoefficient(var, _placement_cost(costs[order], p))
            for wc, day, hours in p.loads:
                loads.setdefault((wc, day), []).append((var, hours))
            for day, amount in p.flows:
                flows.setdefault(day, []).append((var, float(amount)))
    for (wc, day), terms in loads.items():
        row = solver.Constraint(-solver.infinity(), problem.capacity.get((wc, day), 0.0), f"cap[{wc},{day}]")
        for var, hours in terms:
            row.SetCoefficient(var, row.GetCoefficient(var) + hours)
    _cash_rows(solver, problem, grid, flows)
    if check_solver(solver_name) != "HIGHS":  # OR-Tools 9.15's HiGHS wrapper crashes on a hint
        _hint(solver, x, options, hint)
    objective.SetMinimization()
    status = solver.Solve()
    seconds = solver.wall_time() / 1000
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return Solved({}, None, _STATUS.get(status, "no solution"), seconds)
    chosen = {
        order: places[i] for (order, i), var in x.items() if var.solution_value() > 0.5 for places in [options[order]]
    }
    value, bound = objective.Value(), objective.BestBound()
    gap = 0.0 if status == pywraplp.Solver.OPTIMAL else max(0.0, (value - bound) / max(abs(value), 1e-9))
    return Solved(chosen, gap, _STATUS[status], seconds)


_STATUS = {
    pywraplp.Solver.OPTIMAL: "optimal",
    pywraplp.Solver.FEASIBLE: "time limit",
    pywraplp.Solver.INFEASIBLE: "infeasible",
}


def check_solver(name: str) -> str:
    """The solver's name in capitals; a UserError for one OR-Tools does not bundle."""
    if name.upper() not in SOLVERS:
        raise UserError("{param} " + f"{name!r}: choose {', '.join(SOLVERS)}", param="solver", value=name)
    return name.upper()


def _solver(name: str, time_limit_s: float) -> pywraplp.Solver:
    solver = pywraplp.Solver.CreateSolver(check_solver(name))
    if solver is None:
        raise UserError(f"the MIP solver {name} is not available in this OR-Tools build")
    solver.SetTimeLimit(int(time_limit_s * 1000))
    solver.SetNumThreads(1)
    return solver


def _placement_cost(order, p: Placement) -> float:
    late = max(0, (p.end - order.due_date).days) * order.late_cost_per_day
    early = max(0, (order.due_date - p.end).days) * order.holding_cost_per_day
    return float(late + early)


def _cash_rows(
    solver: pywraplp.Solver,
    problem: ScheduleProblem,
    grid: list[dt.date],
    flows: dict[dt.date, list[tuple[pywraplp.Variable, float]]],
) -> None:
    """balance, overdraft and shortfall per day of `grid`, with their rows and objective terms."""
    objective = solver.Objective()
    fixed = base_flows(problem, grid)
    interest = float(problem.overdraft_rate) / DAYS_A_YEAR
    previous: pywraplp.Variable | None = None
    opening = float(problem.opening_balance)
    for day in grid:
        balance = solver.NumVar(-solver.infinity(), solver.infinity(), f"balance[{day}]")
        known = float(fixed.get(day, Decimal(0))) + (opening if previous is None else 0.0)
        row = solver.Constraint(known, known, f"flow[{day}]")  # balance − previous − Σ flows = known
        row.SetCoefficient(balance, 1)
        if previous is not None:
            row.SetCoefficient(previous, -1)
        for var, amount in flows.get(day, []):
            row.SetCoefficient(var, row.GetCoefficient(var) - amount)
        overdraft = solver.NumVar(0, solver.infinity(), f"overdraft[{day}]")
        below = solver.Constraint(0, solver.infinity(), f"overdraft_def[{day}]")  # overdraft + balance ≥ 0
        below.SetCoefficient(overdraft, 1)
        below.SetCoefficient(balance, 1)
        objective.SetCoefficient(overdraft, interest)
        if problem.min_cash is not None:
            short = solver.NumVar(0, solver.infinity(), f"shortfall[{day}]")
            floor = solver.Constraint(float(problem.min_cash), solver.infinity(), f"min_cash[{day}]")
            floor.SetCoefficient(short, 1)
            floor.SetCoefficient(balance, 1)
            objective.SetCoefficient(short, SHORTFALL_PENALTY)
        previous = balance


def _hint(
    solver: pywraplp.Solver,
    x: dict[tuple[str, int], pywraplp.Variable],
    options: dict[str, list[Placement]],
    hint: dict[str, Placement],
) -> None:
    """Start from `hint` (the baseline): its start day per order as a first solution."""
    variables, values = [], []
    for order, places in options.items():
        chosen = hint.get(order)
        for i, p in enumerate(places):
            variables.append(x[(order, i)])
            values.append(1.0 if chosen is not None and p.start == chosen.start else 0.0)
    solver.SetHint(variables, values)
