"""The textbook variance formulas, exact on Fractions (Horngren, Datar & Rajan, *Cost Accounting*)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any


def sales_volume_split(
    budget: dict[Any, tuple[Fraction, Fraction]], actual_qty: dict[Any, Fraction]
) -> tuple[dict[Any, Fraction], dict[Any, Fraction]]:
    """Horngren ch. 14: the sales-volume variance (AQ − BQ)·BCM per product, split into
    sales-quantity (AQtot − BQtot)·BMix·BCM and sales-mix AQtot·(AMix − BMix)·BCM. `budget` maps a product
    to (budgeted quantity, budgeted contribution margin per unit). Signed: favourable +. Exact."""
    bq_tot = sum((Fraction(q) for q, _ in budget.values()), Fraction(0))
    aq_tot = sum((Fraction(q) for q in actual_qty.values()), Fraction(0))
    quantity: dict[Any, Fraction] = {}
    mix: dict[Any, Fraction] = {}
    for p in list(budget) + [p for p in actual_qty if p not in budget]:
        bq, bcm = (Fraction(budget[p][0]), Fraction(budget[p][1])) if p in budget else (Fraction(0), Fraction(0))
        aq = Fraction(actual_qty.get(p, 0))
        if bq_tot:
            bmix = bq / bq_tot
            quantity[p] = (aq_tot - bq_tot) * bmix * bcm
            mix[p] = (aq - aq_tot * bmix) * bcm
        else:  # nothing planned: the whole volume effect is quantity
            quantity[p], mix[p] = aq * bcm, Fraction(0)
    return quantity, mix


def price_efficiency(actual_cost, actual_input, std_price, std_input_allowed) -> tuple[Fraction, Fraction]:
    """Horngren ch. 7 (and ch. 8 for variable overhead spending/efficiency), as effects on margin
    (favourable +): price = −(actual cost − AQ·SP), efficiency = −(AQ·SP − SQ·SP), SQ = standard input
    allowed for the actual output."""
    aq_sp = Fraction(actual_input) * Fraction(std_price)
    return -(Fraction(actual_cost) - aq_sp), -(aq_sp - Fraction(std_input_allowed) * Fraction(std_price))
