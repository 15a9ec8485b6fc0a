"""Capital rationing (docs/investments.md "Capital rationing"): the cases that maximise total NPV within each
year's capital budget, honouring `requires` (a chosen case's required cases are chosen too) and `excludes`
(two such cases are never both chosen), solved exactly by OR-Tools CP-SAT on amounts in whole cents, with
the solver's proof status. Beside it, the greedy ranking by profitability index and the NPV it leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ortools.sat.python import cp_model

from ..core.money import round_cents

SOLVER_SECONDS = 20.0


@dataclass(frozen=True)
class Option:
    """A case as the portfolio sees it: NPV, capital spend per year, PI and its rules."""

    name: str
    npv: Decimal
    spend: Mapping[int, Decimal]
    profitability_index: float | None = None
    requires: Sequence[str] = ()
    excludes: Sequence[str] = ()


@dataclass(frozen=True)
class Selection:
    """Chosen cases, their total NPV and capital spend per budget year."""

    chosen: list[str]
    npv: Decimal
    spend: dict[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Portfolio:
    """The exact choice with the solver's status (OPTIMAL or FEASIBLE), and the greedy choice by PI."""

    status: str
    best: Selection
    greedy: Selection
    budgets: dict[int, Decimal]

    @property
    def left_on_table(self) -> Decimal:
        """NPV the greedy ranking gives up against the exact choice."""
        return self.best.npv - self.greedy.npv


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2).to_integral_value())


def selection(options: Sequence[Option], chosen: Sequence[str], budgets: Mapping[int, Decimal]) -> Selection:
    """The total NPV and the spend per budget year of the `chosen` cases, in the order of `options`."""
    picked = [o for o in options if o.name in set(chosen)]
    spend = {y: round_cents(sum((o.spend.get(y, Decimal(0)) for o in picked), Decimal(0))) for y in sorted(budgets)}
    return Selection([o.name for o in picked], round_cents(sum((o.npv for o in picked), Decimal(0))), spend)


def feasible(options: Sequence[Option], chosen: set[str], budgets: Mapping[int, Decimal]) -> bool:
    """True when `chosen` keeps every rule and every year's budget."""
    by_name = {o.name: o for o in options}
    for name in chosen:
        o = by_name[name]
        if any(r not in chosen for r in o.requires) or any(x in chosen for x in o.excludes):
            return False
    return all(
        sum((by_name[n].spend.get(y, Decimal(0)) for n in chosen), Decimal(0)) <= cap for y, cap in budgets.items()
    )


def solve(options: Sequence[Option], budgets: Mapping[int, Decimal], seconds: float = SOLVER_SECONDS) -> Portfolio:
    """The exact NPV-maximising choice within `budgets` (year → capital), and the greedy choice beside it."""
    model = cp_model.CpModel()
    pick = {o.name: model.new_bool_var(o.name) for o in options}
    for o in options:
        for r in o.requires:
            model.add_implication(pick[o.name], pick[r])
        for x in o.excludes:
            model.add_bool_or([pick[o.name].Not(), pick[x].Not()])
    for year, cap in budgets.items():
        terms = [(_cents(o.spend[year]), pick[o.name]) for o in options if o.spend.get(year)]
        if terms:
            model.add(sum(c * v for c, v in terms) <= _cents(cap))
    model.maximize(sum(_cents(o.npv) * pick[o.name] for o in options))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    code = solver.solve(model)
    status = solver.status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"the portfolio solver ended {status}")  # the empty choice is always feasible
    chosen = [o.name for o in options if solver.boolean_value(pick[o.name])]
    return Portfolio(status, selection(options, chosen, budgets), greedy(options, budgets), dict(budgets))


def _with_requirements(options: Mapping[str, Option], name: str) -> set[str]:
    """`name` and every case it requires, directly or through others."""
    todo, found = [name], set()
    while todo:
        n = todo.pop()
        if n not in found:
            found.add(n)
            todo.extend(options[n].requires)
    return found


def greedy(options: Sequence[Option], budgets: Mapping[int, Decimal]) -> Selection:
    """Cases by profitability index, highest first (ties by name): a case with PI above 1 is taken with the
    cases it requires when together they keep every budget and rule; otherwise it is skipped."""
    by_name = {o.name: o for o in options}
    ranked = sorted(
        (o for o in options if o.profitability_index is not None and o.profitability_index > 1),
        key=lambda o: (-(o.profitability_index or 0), o.name),
    )
    chosen: set[str] = set()
    for o in ranked:
        trial = chosen | _with_requirements(by_name, o.name)
        if feasible(options, trial, budgets):
            chosen = trial
    return selection(options, sorted(chosen), budgets)
