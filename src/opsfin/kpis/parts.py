"""The building blocks of the KPI definitions (definitions.py, definitions_process.py): a KPI, its parts,
the constructors that write a part in the expression language of custom KPIs (expressions.py) and make a
KPI's formula text from it (`formula_of`: the formula shown is the formula computed), and the joins
several parts share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis.expr.types as ir

from .expressions import Expression
from .sources import SOURCES, cost_center_kind, fx_to_base

Expr = Callable[[ir.Table], ir.Value]


@dataclass(frozen=True)
class Part:
    source: str
    num: Expr | None = None
    den: Expr | None = None
    keep: Expr | None = None  # row filter
    prepare: Callable[[object, ir.Table], ir.Table] | None = None  # extra joins (t, rel) -> rel
    exclude_dims: frozenset[str] = frozenset()
    rows: str = ""  # what `prepare` adds, for the formula text


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    unit: str
    direction: str
    owner: str
    formula: str
    description: str
    parts: tuple[Part, ...] = ()
    kind: str = "ratio"  # ratio: value = numerator / denominator; sum: value = numerator; balance
    money: bool = False
    scale: float = 1.0  # value = scale × numerator / denominator
    company_only: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def dims(self) -> frozenset[str]:
        if self.company_only or not self.parts:
            return frozenset()
        sets = [SOURCES[p.source].dims - p.exclude_dims for p in self.parts]
        return frozenset.intersection(*sets)


def production_cost_centers(t, rel: ir.Table) -> ir.Table:
    """The rows booked to production cost centres (a `prepare` join)."""
    return cost_center_kind(t, rel, "production")


def support_cost_centers(t, rel: ir.Table) -> ir.Table:
    """The rows booked to support cost centres (a `prepare` join)."""
    return cost_center_kind(t, rel, "support")


def with_standard_cost(t, rel: ir.Table) -> ir.Table:
    """The rows with their product's `std_unit_cost` and `_rate`, the rate of their `currency` to the base
    currency on their date (a `prepare` join)."""
    p = t("products").select(_p="product_id", std_unit_cost="std_unit_cost")
    rel = rel.join(p, rel.product == p._p).drop("_p")
    return fx_to_base(t, rel, "currency", "_date", t.base_currency)


def part(
    source: str,
    num: str | None,
    den: str | None = None,
    where: str | None = None,
    prepare: Callable[[object, ir.Table], ir.Table] | None = None,
    rows: str = "",
    exclude_dims: set[str] | frozenset[str] = frozenset(),
) -> Part:
    """A part written in the KPI expression language, the language of custom KPIs (expressions.py)."""

    def at(side: str) -> str:
        return f"built-in KPI part over {source} {side}"

    return Part(
        source,
        Expression(num, at("numerator")) if num else None,
        Expression(den, at("denominator")) if den else None,
        Expression(where, at("filter")) if where else None,
        prepare,
        frozenset(exclude_dims),
        rows,
    )


def formula_of(parts: tuple[Part, ...], kind: str, scale: float = 1.0) -> str:
    """The formula text of expression parts, exactly what the engine sums: `sum(num) / sum(den) over source`."""

    def context(p: Part) -> str:
        text = f"over {p.source}" + (f" {p.rows}" if p.rows else "")
        return text + (f" where {p.keep.text}" if isinstance(p.keep, Expression) else "")

    def side(attr: str) -> str:
        chosen = [p for p in parts if getattr(p, attr) is not None]
        terms = [f"sum({getattr(p, attr).text})" + (f" {context(p)}" if len(parts) > 1 else "") for p in chosen]
        return " + ".join(terms)

    text = side("num") if kind == "sum" else f"{side('num')} / {side('den')}"
    if kind != "sum" and scale != 1.0:
        text = f"{scale:g} * {text}"
    return text if len(parts) > 1 else f"{text} {context(parts[0])}"


def define(
    id: str,
    name: str,
    unit: str,
    direction: str,
    owner: str,
    description: str,
    *parts: Part,
    kind: str = "ratio",
    money: bool = False,
    scale: float = 1.0,
) -> Kpi:
    """A built-in KPI of expression parts, its formula text made from them."""
    return Kpi(
        id,
        name,
        unit,
        direction,
        owner,
        formula_of(parts, kind, scale),
        description,
        parts,
        kind=kind,
        money=money,
        scale=scale,
    )
