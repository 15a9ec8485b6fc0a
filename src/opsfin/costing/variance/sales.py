"""The sales side of the bridge, per month: sales price, sales mix and sales quantity (Horngren ch. 14),
from the GL (actual revenue and COGS at standard) and the volume plan (docs/variances.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from ...core.periods import month_end
from ...kpis.engine import Tables
from .common import Piece, _add, _month_key, he
from .reads import plan_volumes, product_standards, revenue_lines
from .textbook import sales_volume_split


def _sales(
    t: Tables, months: list[dt.date], versions: dict[dt.date, str], gl: dict
) -> tuple[list[Piece], dict[dt.date, int]]:
    lo, hi = months[0], month_end(months[-1])
    std = {
        r["product_id"]: (Decimal(r["std_unit_cost"] or 0), Decimal(r["list_price"] or 0)) for r in product_standards(t)
    }
    plan: dict[dt.date, dict[str, tuple[Fraction, Fraction]]] = defaultdict(dict)
    for r in plan_volumes(t, lo, hi):
        if versions.get(r["period"]) == r["version"]:
            plan[r["period"]][r["product_id"]] = (
                Fraction(Decimal(str(r["qty"]))),
                Fraction(r["unit_price"]),
            )
    # actual: revenue GL per AR invoice, shared over its lines by line amount; quantities from the lines
    actual: dict[dt.date, list[tuple]] = defaultdict(list)
    for r in revenue_lines(t, lo, hi):
        actual[_month_key(r["month"])].append(
            (
                r["product_id"],
                r["customer_id"],
                Fraction(r["qty"] or 0),
                Fraction(Decimal(str(r["revenue"] or 0))),
            )
        )
    pieces: list[Piece] = []
    static_by_month: dict[dt.date, int] = {}
    for m in months:
        bplan = plan.get(m, {})

        def bp(p: str, bplan: dict = bplan) -> Fraction:
            return bplan[p][1] if p in bplan else Fraction(std.get(p, (0, 0))[1])

        def bcm(p: str) -> Fraction:
            return bp(p) - Fraction(std.get(p, (Decimal(0), 0))[0])

        static = he(sum((q * bcm(p) for p, (q, _) in bplan.items()), Fraction(0)) * 100)
        static_by_month[m] = static
        aq: dict[str, Fraction] = defaultdict(Fraction)
        for product, _c, qty, _r in actual.get(m, []):
            aq[product] += qty
        flexible = he(sum((q * bcm(p) for p, q in aq.items()), Fraction(0)) * 100)
        revenue, cogs = -gl.get((m, "revenue"), 0), gl.get((m, "cogs"), 0)
        price = Piece("sales_price", m, (revenue - cogs) - flexible)
        for product, customer, qty, rev in actual.get(m, []):
            v = (rev - qty * bp(product)) * 100
            _add(price.parts, "product", product, v)
            _add(price.parts, "customer", customer, v)
        budget_cm = {p: (q, bcm(p)) for p, (q, _) in bplan.items()}
        budget_cm.update({p: (Fraction(0), bcm(p)) for p in aq if p not in bplan})
        qty_parts, mix_parts = sales_volume_split(budget_cm, aq)
        quantity = Piece("sales_quantity", m, he(sum(qty_parts.values(), Fraction(0)) * 100))
        for p, v in qty_parts.items():
            _add(quantity.parts, "product", p, v * 100)
        mix = Piece("sales_mix", m, (flexible - static) - quantity.target)
        for p, v in mix_parts.items():
            _add(mix.parts, "product", p, v * 100)
        pieces += [price, mix, quantity]
    return pieces, static_by_month
