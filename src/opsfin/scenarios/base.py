"""A scenario's base (docs/scenarios.md "Running a scenario"): the inputs of the base plan, read once by
`engine.prepare_base` and shared by every run of the scenario engine."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..planning.engine import PlanInputs, PlanResult
from .facts import Facts


@dataclass(frozen=True)
class BaseCase(PlanInputs):
    """A base plan's inputs (PlanInputs: the tables, its volumes and months, the planning config and the
    budgets giving opex), read once, the base plan built from them, the facts the shocks need (facts.py),
    the month-end cash before the plan, and the overtime guardrail (the largest overtime share of paid hours
    allowed)."""

    plan: PlanResult
    facts: Facts
    opening_cash: Decimal = Decimal(0)
    overtime_share: float = 0.0
    name: str = "base"
