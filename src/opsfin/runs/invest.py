"""Investment cases on a workspace (docs/investments.md): read model/investments.yaml, build each case's cash
flows (opsfin.invest.flows), evaluate them (opsfin.invest.metrics) and choose a portfolio within yearly
budgets (opsfin.invest.portfolio). Cases with `effects` need the scenario engine's effect flows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cash.levers import parse_rate
from ..core.money import round_cents
from ..errors import UserError
from ..invest.config import FILE, Case, InvestmentFile, parse_investments
from ..invest.flows import Flow, case_flows
from ..invest.metrics import Worth, worth
from ..invest.portfolio import Option, Portfolio, solve
from .model import read_optional_mapping

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

BUDGET_ITEM = re.compile(r"\s*(\d{4})\s*:\s*([0-9_.,]+)\s*")


@dataclass(frozen=True)
class Evaluated:
    """A case, the flows it was evaluated on and its figures."""

    case: Case
    flows: list[Flow]
    worth: Worth

    def as_json(self) -> dict[str, Any]:
        w = self.worth
        out: dict[str, Any] = {"name": self.case.name, "owner": self.case.owner, "npv": w.npv, "irr": w.irr}
        if w.reason:
            out["reason"] = w.reason
        out |= {
            "mirr": w.mirr,
            "payback_months": w.payback_months,
            "discounted_payback_months": w.discounted_payback_months,
            "profitability_index": w.profitability_index,
            "cash_flows": [{"date": d, "amount": a} for d, a in self.flows],
        }
        return out


def load_investments(model_dir: Path | None) -> InvestmentFile:
    """model/investments.yaml; no cases without the file."""
    found = read_optional_mapping(model_dir, FILE)
    return parse_investments(*found) if found else InvestmentFile()


def discount_rate(text: str | None, default: float) -> float:
    """`--rate` as a fraction (`0.08`, or `8%` read as 0.08; cash.levers.parse_rate); None → `default`."""
    return default if text is None else float(parse_rate(text))


def parse_budgets(text: str) -> dict[int, Decimal]:
    """`2026:500000,2027:300000` → {2026: 500000, 2027: 300000}."""
    budgets: dict[int, Decimal] = {}
    for item in text.split(","):
        found = BUDGET_ITEM.fullmatch(item)
        try:
            amount = Decimal(found.group(2).replace("_", "")) if found else None
        except InvalidOperation:
            amount = None
        if found is None or amount is None or not amount.is_finite():
            raise UserError(f"--budget {item.strip()!r}: expected YEAR:AMOUNT, e.g. 2026:500000")
        year = int(found.group(1))
        if year in budgets:
            raise UserError(f"--budget: year {year} is given twice")
        budgets[year] = round_cents(amount)
    return budgets


def effect_flows(ws: WorkspaceFolder, case: Case) -> list[Flow]:
    """The pre-tax operating-income changes of a case's `effects`: the scenario engine run on the case's
    `base` plan version, from the first effect month for `life_years` × 12 months (opsfin.invest.effects)."""
    from ..invest.effects import effect_flows as scenario_flows
    from .scenarios import base_case

    start, life = case.effect_start, case.life_years
    if start is None or life is None or case.base is None:  # config validation makes these present
        return []
    try:
        with base_case(ws, case.base) as base:
            return scenario_flows(base, case.effects, start, 12 * life)
    except UserError as exc:
        raise UserError(f"case {case.name!r} (effects on plan version {case.base!r}): {exc}") from None


def flows_of(ws: WorkspaceFolder, case: Case) -> list[Flow]:
    """Every flow of a case; a case whose flows are empty or on one day is refused."""
    flows = case_flows(case, effect_flows(ws, case) if case.effects else None)
    if len(flows) < 2:
        raise UserError(f"case {case.name!r}: needs flows on at least two dates to be evaluated")
    return flows


def pick_cases(found: InvestmentFile, names: Sequence[str]) -> list[Case]:
    """The named cases (all without names); an unknown name is a UserError listing the names there are."""
    if not names:
        if not found.investments:
            raise UserError(f"no investment cases: add them to model/{FILE} (docs/investments.md)")
        return list(found.investments)
    out = []
    for name in names:
        case = found.get(name)
        if case is None:
            known = ", ".join(c.name for c in found.investments) or f"none: add one to model/{FILE}"
            raise UserError(f"{name!r}: no such investment case (cases: {known})")
        out.append(case)
    return out


def evaluate(ws: WorkspaceFolder, names: Sequence[str] = (), rate: str | None = None) -> list[Evaluated]:
    """The named cases (all without names) evaluated at `rate` (the file's `discount_rate` without it)."""
    found = load_investments(ws.model_dir)
    at = discount_rate(rate, found.discount_rate)
    out = []
    for case in pick_cases(found, names):
        flows = flows_of(ws, case)
        out.append(Evaluated(case, flows, worth(flows, at)))
    return out


def portfolio(ws: WorkspaceFolder, budget: str, rate: str | None = None) -> tuple[Portfolio, list[Evaluated]]:
    """The best choice of cases within the yearly `budget`, and every case evaluated."""
    budgets = parse_budgets(budget)
    cases = evaluate(ws, (), rate)
    options = [
        Option(
            e.case.name,
            e.worth.npv,
            e.case.capital_by_year,
            e.worth.profitability_index,
            tuple(e.case.requires),
            tuple(e.case.excludes),
        )
        for e in cases
    ]
    return solve(options, budgets), cases


def portfolio_json(result: Portfolio, cases: Sequence[Evaluated]) -> dict[str, Any]:
    """The portfolio as docs/investments.md "Capital rationing" shows it."""
    npv = {e.case.name: e.worth.npv for e in cases}

    def side(chosen: list[str], total: Decimal, spend: dict[int, Decimal]) -> dict[str, Any]:
        return {
            "cases": [{"name": n, "npv": npv[n]} for n in chosen],
            "npv": total,
            "spend": [{"year": y, "spend": s, "budget": result.budgets[y]} for y, s in spend.items()],
        }

    return {
        "status": result.status,
        "budgets": [{"year": y, "budget": b} for y, b in sorted(result.budgets.items())],
        "best": side(result.best.chosen, result.best.npv, result.best.spend),
        "greedy_by_pi": side(result.greedy.chosen, result.greedy.npv, result.greedy.spend),
        "left_on_table": result.left_on_table,
    }


def check(ws: WorkspaceFolder) -> InvestmentFile:
    """Validate model/investments.yaml; every case without `effects` must have flows on two dates."""
    found = load_investments(ws.model_dir)
    for case in found.investments:
        if not case.effects and len(case_flows(case)) < 2:
            raise UserError(f"model/{FILE}: case {case.name!r}: needs flows on at least two dates")
    return found
