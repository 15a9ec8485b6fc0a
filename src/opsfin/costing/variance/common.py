"""The variance bridge's vocabulary: its categories, the GL roles they explain, the dimensions each splits by,
a `Piece` (one category's amount for a month with its members' exact shares), and the exact helpers every
part of the bridge uses (docs/variances.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ...canonical.tables import VARIANCE_ROLES
from ...core.dimensions import supported_dims
from ...core.money import half_even, half_even_div, half_even_div_sql, round_shares
from ...kpis.engine import Tables
from .reads import gl_month_role

UNASSIGNED = "(unassigned)"
MAX_MONTHS = 1200  # a hundred years: --to 9999-12 is a mistake, not a request
#: the dimensions the bridge splits by: a subset of core/dimensions.py's, in the order `--by` lists them
DIMENSIONS = supported_dims("product", "work_center", "machine", "shift", "supplier", "customer")

SALES_CATEGORIES = ("sales_price", "sales_mix", "sales_quantity")
MANUFACTURING_CATEGORIES = (
    "material_price",
    "invoice_price",
    "material_usage",
    "labor_rate",
    "labor_efficiency",
    "energy_price",
    "energy_usage",
    "var_overhead_spending",
    "var_overhead_efficiency",
    "fixed_overhead_spending",
    "production_volume",
    "scrap",
    "other_manufacturing",
)
CATEGORIES = SALES_CATEGORIES + MANUFACTURING_CATEGORIES

#: GL role(s) each manufacturing category explains (the category pair sums to minus the role's postings).
GL_ROLES = {
    "material_price": ("variance_material_price",),
    "invoice_price": ("variance_invoice_price",),
    "material_usage": ("variance_material_usage",),
    "scrap": ("variance_scrap",),
    "labor_rate": ("variance_labor_rate",),
    "labor_efficiency": ("variance_labor_efficiency",),
    "energy_price": ("variance_energy",),
    "energy_usage": ("variance_energy",),
    "var_overhead_spending": ("variance_overhead",),
    "var_overhead_efficiency": ("variance_overhead",),
    "fixed_overhead_spending": ("variance_overhead",),
    "production_volume": ("variance_volume",),
}

#: The dimensions whose members each category's source rows carry (the rest goes to `(unassigned)`).
SPLITS: dict[str, tuple[str, ...]] = {
    "sales_price": ("product", "customer"),
    "sales_mix": ("product",),
    "sales_quantity": ("product",),
    "material_price": ("supplier", "product"),
    "invoice_price": ("supplier", "product"),
    "material_usage": ("product",),
    "scrap": ("product", "work_center", "machine", "shift"),
    "labor_rate": ("work_center", "shift"),
    "labor_efficiency": ("work_center", "shift"),
    "energy_price": ("work_center", "machine"),
    "energy_usage": ("work_center", "machine"),
    "var_overhead_spending": ("work_center",),
    "var_overhead_efficiency": ("work_center", "machine", "shift", "product"),
    "fixed_overhead_spending": ("work_center",),
    "production_volume": ("work_center",),
    "other_manufacturing": (),
}


# ------------------------------------------------------------------------------------------ exact helpers
he = half_even  # a Fraction of cents to whole cents, half to even (core/money)
he_div = half_even_div  # integer division rounded half to even (core/money)
_he_sql = half_even_div_sql  # the same in SQL (core/money)


def apportion(target: int, parts: Mapping[Any, Fraction | float | int]) -> dict[Any, int]:
    """Split `target` cents among members so the split sums to `target` exactly.

    `parts` are the members' exact (or very nearly exact) shares in cents. A difference of more than a cent
    between their sum and the target is a part the rows could not place: it goes to `(unassigned)`. The
    rounding is core/money's `round_shares` over the members in name order: largest remainders first, a tie
    to the larger share, then to the member first by name."""
    fr = {k: Fraction(v) for k, v in parts.items() if v}
    rest = Fraction(target) - sum(fr.values(), Fraction(0))
    if (not fr and rest) or abs(rest) > 1:
        fr[UNASSIGNED] = fr.get(UNASSIGNED, Fraction(0)) + rest
    if not fr:
        return {}
    split = round_shares(target, sorted(fr.items(), key=lambda kv: str(kv[0])))
    return {k: v for k, v in split.items() if v}


def _cents(d: Decimal | int | None) -> int:
    return int((Decimal(d or 0) * 100).to_integral_value())


def _to_1e4(d: Decimal | None) -> int:
    return int((Decimal(d or 0) * 10000).to_integral_value())


# ------------------------------------------------------------------------------------------ pieces
@dataclass
class Piece:
    """One category's amount for one month and rounding unit, with its members' exact shares."""

    category: str
    month: dt.date
    target: int  # cents
    parts: dict[str, dict[str, Fraction]] = field(default_factory=dict)  # dim -> member -> exact cents


def _add(parts: dict[str, dict[str, Fraction]], dim: str, member: Any, value: Fraction | int) -> None:
    key = UNASSIGNED if member is None else str(member)
    d = parts.setdefault(dim, {})
    d[key] = d.get(key, Fraction(0)) + Fraction(value)


def _month_key(d: dt.date | dt.datetime) -> dt.date:
    return (d.date() if isinstance(d, dt.datetime) else d).replace(day=1)


def _gl_by_month_role(t: Tables, lo: dt.date, hi: dt.date) -> dict[tuple[dt.date, str], int]:
    """Cents per (month, role) of revenue, COGS and the variance roles in [lo, hi]."""
    return {
        (_month_key(r["month"]), r["role"]): _cents(r["amount"])
        for r in gl_month_role(t, ("revenue", "cogs", *VARIANCE_ROLES), lo, hi)
    }
