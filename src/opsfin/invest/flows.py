"""A case's cash flows (docs/investments.md "Cases"): its explicit `cash_flows`, the capital spend on each
capex month's first day, the tax saved by depreciation at each year's end from the first capex month, the
salvage at the end of the life, and the after-tax effect flows the scenario engine gives for `effects`.

All money is Decimal to the cent; one flow per date, sorted."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from ..core.money import round_cents, split_cents
from ..core.periods import add_months
from .config import Case

Flow = tuple[dt.date, Decimal]


def depreciation(case: Case) -> list[Decimal]:
    """The depreciation of each year of the life: capital spend less salvage, straight line (to the cent,
    years adding up exactly) or declining balance at 2 / life on the book value, the last year writing the
    book down to salvage."""
    if not case.capex or case.depreciation == "none" or case.life_years is None:
        return []
    life = case.life_years
    base = sum((c.amount for c in case.capex), Decimal(0)) - case.salvage
    if base <= 0:
        return []
    if case.depreciation == "straight_line":
        return list(split_cents(base, [(year, 1) for year in range(life)]).values())
    book, years = base + case.salvage, []
    for year in range(life):
        left = book - case.salvage
        charge = left if year == life - 1 else min(left, round_cents(book * 2 / life))
        years.append(charge)
        book -= charge
    return years


def capital_flows(case: Case) -> list[Flow]:
    """Capex out, the tax saved by each year's depreciation, and the salvage in at the end of the life."""
    if not case.capex:
        return []
    first = min(c.month for c in case.capex)
    out: list[Flow] = [(c.month, -c.amount) for c in case.capex]
    rate = Decimal(repr(case.tax_rate))
    for year, charge in enumerate(depreciation(case), start=1):
        shield = round_cents(charge * rate)
        if shield:
            out.append((add_months(first, 12 * year), shield))
    if case.salvage and case.life_years:
        out.append((add_months(first, 12 * case.life_years), case.salvage))
    return out


def after_tax(flows: Iterable[Flow], tax_rate: float) -> list[Flow]:
    """Operating-income changes after tax at `tax_rate`."""
    keep = 1 - Decimal(repr(tax_rate))
    return [(d, round_cents(a * keep)) for d, a in flows]


def case_flows(case: Case, effect_flows: Sequence[Flow] | None = None) -> list[Flow]:
    """Every flow of `case`, one per date, sorted. `effect_flows` are the pre-tax operating-income changes
    of the case's `effects` (the scenario engine's delta), taxed here at the case's rate."""
    total: dict[dt.date, Decimal] = defaultdict(Decimal)
    parts: list[Flow] = [(f.date, f.amount) for f in case.cash_flows]
    parts += capital_flows(case)
    parts += after_tax(effect_flows or [], case.tax_rate)
    for day, amount in parts:
        total[day] += amount
    return sorted(total.items())
