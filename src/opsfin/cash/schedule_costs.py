"""The production schedule around cash: the problem, where an order's work and cash land for a start day,
the one cost function, and the earliest-due-date baseline (docs/cash.md, "Production scheduled around cash").

Pure: plain values in, plain values out. The MILP (`schedule_model`) and the baseline choose start days;
`evaluate` costs any choice the same way, so the two are compared on one measure.

- **Where an order runs.** Its routing steps run one after another, each on the next working days of its
  work centre (a day with capacity): a step takes ⌈hours ÷ the centre's largest day⌉ working days (at least
  one), its hours spread evenly over them; the next step starts the working day after. The order ends on
  the last step's last day and ships on max(end, due date): early goods wait for their due date.
- **Cash.** Each material payment falls `lag` days after the start (its supplier's terms from the need
  date); the sale is collected `collection_days` after the shipment. The closing balance of a day is the
  opening balance + the flows that do not depend on the schedule (open documents at their expected dates)
  + the schedule's flows, every day from the day after as-of to the last day a start in the horizon could
  pay for materials.
- **Costs.** lateness = Σ late days × the order's cost per late day; holding = Σ days finished before due ×
  its holding cost per day; financing = Σ over the days of max(0, −closing) × the overdraft rate ÷ 365.
  Each is rounded half-even to the cent; `total` is their sum. The cash is `feasible` when no closing is
  below the minimum cash (always, without one)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..core.money import round_cents

DAYS_A_YEAR = 365
ZERO = Decimal(0)


@dataclass(frozen=True)
class Step:
    """A routing step of an order: its work centre and the machine hours it needs."""

    work_center_id: str
    hours: float


@dataclass(frozen=True)
class ScheduleOrder:
    """A production order to schedule. `material_payments`: (days after the start, amount paid, > 0);
    `revenue` is collected `collection_days` after the shipment; the costs are per day."""

    order_id: str
    product_id: str
    qty: float
    due_date: dt.date
    earliest_start: dt.date
    steps: tuple[Step, ...]
    material_payments: tuple[tuple[int, Decimal], ...] = ()
    revenue: Decimal = ZERO
    collection_days: int = 0
    late_cost_per_day: Decimal = ZERO
    holding_cost_per_day: Decimal = ZERO


@dataclass(frozen=True)
class ScheduleProblem:
    """The orders, the days they may run on, the hours of each (work centre, day) (absent: none), the
    opening bank balance, the flows that do not depend on the schedule (by date), the minimum cash (None:
    none) and the annual overdraft rate."""

    as_of: dt.date
    days: tuple[dt.date, ...]
    capacity: Mapping[tuple[str, dt.date], float]
    orders: tuple[ScheduleOrder, ...]
    opening_balance: Decimal = ZERO
    fixed_flows: Mapping[dt.date, Decimal] = field(default_factory=dict)
    min_cash: Decimal | None = None
    overdraft_rate: Decimal = Decimal("0.08")


@dataclass(frozen=True)
class Placement:
    """An order started on `start`: its hours per (work centre, day), end, shipment and dated cash flows."""

    start: dt.date
    end: dt.date
    ship: dt.date
    loads: tuple[tuple[str, dt.date, float], ...]
    flows: tuple[tuple[dt.date, Decimal], ...]


@dataclass(frozen=True)
class Outcome:
    """A schedule costed: {order: placement}, the closing balance per day, the costs and figures."""

    placements: dict[str, Placement]
    closing: list[tuple[dt.date, Decimal]]
    lateness_cost: Decimal
    financing_cost: Decimal
    holding_cost: Decimal
    late_orders: int
    late_days: int
    cash_low_point: Decimal
    shortfall_days: Decimal  # Σ over the days of max(0, min cash − closing): what the MILP penalises

    @property
    def total(self) -> Decimal:
        return self.lateness_cost + self.financing_cost + self.holding_cost

    def feasible(self, min_cash: Decimal | None) -> bool:
        return min_cash is None or self.cash_low_point >= min_cash


def largest_day(problem: ScheduleProblem) -> dict[str, float]:
    """{work centre: its largest hours of a day over the horizon}."""
    out: dict[str, float] = defaultdict(float)
    for (wc, _day), hours in problem.capacity.items():
        out[wc] = max(out[wc], hours)
    return dict(out)


def place(
    order: ScheduleOrder, start: dt.date, problem: ScheduleProblem, biggest: dict[str, float]
) -> Placement | None:
    """Where `order` started on `start` runs (module docstring); None when the start is not a working day of
    its first step, is before its earliest start, or the steps do not fit in the horizon."""
    if start < order.earliest_start:
        return None
    days = [d for d in problem.days if d >= start]
    loads: list[tuple[str, dt.date, float]] = []
    position, end = 0, start
    for k, step in enumerate(order.steps):
        working = [i for i in range(position, len(days)) if problem.capacity.get((step.work_center_id, days[i]), 0) > 0]
        if k == 0 and (not working or working[0] != 0):
            return None
        size = biggest.get(step.work_center_id, 0.0)
        n = max(1, math.ceil(step.hours / size - 1e-9)) if size > 0 else 1
        if len(working) < n:
            return None
        for i in working[:n]:
            loads.append((step.work_center_id, days[i], step.hours / n))
        end = days[working[n - 1]]
        position = working[n - 1] + 1
    if not order.steps and start not in problem.days:
        return None
    ship = max(end, order.due_date)
    flows = [(start + dt.timedelta(days=lag), -amount) for lag, amount in order.material_payments]
    if order.revenue:
        flows.append((ship + dt.timedelta(days=order.collection_days), order.revenue))
    return Placement(start, end, ship, tuple(loads), tuple(flows))


def candidates(problem: ScheduleProblem) -> dict[str, list[Placement]]:
    """{order: every placement it can take, by start day}."""
    biggest = largest_day(problem)
    out: dict[str, list[Placement]] = {}
    for order in problem.orders:
        found = (place(order, day, problem, biggest) for day in problem.days)
        out[order.order_id] = [p for p in found if p is not None]
    return out


def cash_days(problem: ScheduleProblem, options: dict[str, list[Placement]]) -> list[dt.date]:
    """The days of the cash curve: from the day after as-of to the last day any placement pays for
    materials (at least the horizon's last day). A collection after it is off the curve: finishing later
    can push cash out of sight, never bring it in."""
    paid = (day for ps in options.values() for p in ps for day, amount in p.flows if amount < 0)
    last = max([*problem.days, *paid])
    first = problem.as_of + dt.timedelta(days=1)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def base_flows(problem: ScheduleProblem, grid: list[dt.date]) -> dict[dt.date, Decimal]:
    """The fixed flows on the grid: one before its first day counts on it, one after its last is left out."""
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, amount in problem.fixed_flows.items():
        if day <= grid[-1]:
            out[max(day, grid[0])] += amount
    return out


def evaluate(problem: ScheduleProblem, chosen: dict[str, Placement], grid: list[dt.date]) -> Outcome:
    """The cost function of every schedule (module docstring), over the cash days `grid`."""
    flows = base_flows(problem, grid)
    for placement in chosen.values():
        for day, amount in placement.flows:
            flows[day] += amount
    closing, balance, overdraft, short = [], problem.opening_balance, ZERO, ZERO
    for day in grid:
        balance += flows.get(day, ZERO)
        closing.append((day, round_cents(balance)))
        overdraft += max(ZERO, -balance)
        if problem.min_cash is not None:
            short += max(ZERO, problem.min_cash - balance)
    late = holding = ZERO
    late_orders = late_days = 0
    for order in problem.orders:
        p = chosen[order.order_id]
        days_late = max(0, (p.end - order.due_date).days)
        late += days_late * order.late_cost_per_day
        holding += max(0, (order.due_date - p.end).days) * order.holding_cost_per_day
        late_orders += days_late > 0
        late_days += days_late
    low = min((c for _, c in closing), default=round_cents(problem.opening_balance))
    financing = overdraft * problem.overdraft_rate / DAYS_A_YEAR
    return Outcome(
        chosen,
        closing,
        round_cents(late),
        round_cents(financing),
        round_cents(holding),
        late_orders,
        late_days,
        low,
        short,
    )


def edd_schedule(problem: ScheduleProblem, options: dict[str, list[Placement]]) -> dict[str, Placement]:
    """Earliest due date first: each order (by due date, then id) takes its earliest placement that fits the
    hours left; when none fits, the one that overloads least."""
    used: dict[tuple[str, dt.date], float] = defaultdict(float)
    chosen: dict[str, Placement] = {}
    for order in sorted(problem.orders, key=lambda o: (o.due_date, o.order_id)):
        best, best_over = None, math.inf
        for p in options[order.order_id]:
            over = sum(
                max(0.0, used[(wc, day)] + hours - problem.capacity.get((wc, day), 0.0)) for wc, day, hours in p.loads
            )
            if over <= 1e-9:
                best = p
                break
            if over < best_over:
                best, best_over = p, over
        if best is None:
            continue
        chosen[order.order_id] = best
        for wc, day, hours in best.loads:
            used[(wc, day)] += hours
    return chosen
