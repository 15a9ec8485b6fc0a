"""The driver tree (docs/scenarios.md "The driver tree"): operational drivers → revenue and cost of sales →
gross margin → operating income → cash, each node with its value, budget and prior value, and its
sensitivity (driver_sensitivity.py: the plan engine run with one small shock per driver).

Pure: the values come in as mappings (the I/O layer reads them from the KPI engine and the plan), the tree
and the tornado ranking go out. Ratios are fractions (0.05, not 5) and their unit of change is one
percentage point (0.01)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..core.money import round_cents, round_per_unit, to_decimal

AVAILABILITY = "availability"
Figure = float | Decimal | None


@dataclass(frozen=True)
class Node:
    """A node of the tree: its id, its parent's id (None at the root), its label and unit."""

    id: str
    parent: str | None
    label: str
    unit: str


#: the tree without the work centres (availability gets one child per work centre: `availability:<wc>`)
TREE: tuple[Node, ...] = (
    Node("cash_flow", None, "Net cash flow", "money"),
    Node("operating_income", "cash_flow", "Operating income", "money"),
    Node("working_capital", "cash_flow", "Cash conversion cycle", "days"),
    Node("gross_margin", "operating_income", "Gross margin", "money"),
    Node("opex", "operating_income", "Operating expenses", "money"),
    Node("revenue", "gross_margin", "Revenue", "money"),
    Node("cost_of_sales", "gross_margin", "Cost of sales", "money"),
    Node("volume", "revenue", "Volume shipped", "units"),
    Node("price", "revenue", "Average selling price", "money/unit"),
    Node("mix", "revenue", "Mix: list margin per unit", "money/unit"),
    Node("material_price", "cost_of_sales", "Material price vs standard (ppv rate)", "ratio"),
    Node("scrap_rate", "cost_of_sales", "Scrap rate", "ratio"),
    Node("labor_productivity", "cost_of_sales", "Labour productivity", "units/h"),
    Node("overtime_share", "cost_of_sales", "Overtime share", "ratio"),
    Node("energy_per_unit", "cost_of_sales", "Energy per unit", "kWh/unit"),
    Node(AVAILABILITY, "cost_of_sales", "Availability", "ratio"),
    Node("dso", "working_capital", "Days sales outstanding", "days"),
    Node("dio", "working_capital", "Days inventory outstanding", "days"),
    Node("dpo", "working_capital", "Days payables outstanding", "days"),
)
#: the unit of change of a sensitivity, per node unit: one percentage point for a ratio, else one unit
STEP = {"ratio": 0.01}
FIGURES = ("value", "budget", "prior", "vs_budget", "vs_prior")


def tree_nodes(work_centers: Iterable[str]) -> list[Node]:
    """The tree's nodes, one availability child per work centre (`availability:<id>`)."""
    wcs = [Node(f"{AVAILABILITY}:{wc}", AVAILABILITY, f"Availability {wc}", "ratio") for wc in sorted(work_centers)]
    return [*TREE, *wcs]


def unit_step(unit: str) -> float:
    """The change a sensitivity is quoted for: 0.01 (one point) for a ratio, 1 otherwise."""
    return STEP.get(unit, 1.0)


def driver_tree(
    nodes: Sequence[Node],
    value: Mapping[str, Figure],
    budget: Mapping[str, Figure],
    prior: Mapping[str, Figure],
    sensitivity: Mapping[str, tuple[Decimal | None, Decimal | None]],
) -> list[dict[str, Any]]:
    """One row per node: id, parent, label, unit, value, budget, prior, vs_budget (value − budget),
    vs_prior (value − prior) — null when either side is missing; money and money per unit exact (Decimal),
    any other unit a float — and sensitivity_operating_income, sensitivity_cash: the change for one unit of the driver
    (`unit_step`), null for a node without one (the totals)."""
    rows = []
    for n in nodes:
        v, b, p = (_figure(m.get(n.id), n.unit) for m in (value, budget, prior))
        oi, cash = sensitivity.get(n.id, (None, None))
        rows.append(
            {
                "id": n.id,
                "parent": n.parent,
                "label": n.label,
                "unit": n.unit,
                "value": v,
                "budget": b,
                "prior": p,
                "vs_budget": _minus(v, b),
                "vs_prior": _minus(v, p),
                "sensitivity_operating_income": oi,
                "sensitivity_cash": cash,
            }
        )
    return rows


def _figure(x: Figure, unit: str) -> Figure:
    """Money to the cent and money per unit to 4 decimals (exact); any other unit a float."""
    if x is None:
        return None
    if unit == "money":
        return round_cents(x)
    return round_per_unit(x) if unit == "money/unit" else float(x)


def _minus(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def tornado(
    nodes: Sequence[Mapping[str, Any]],
    measure: str = "operating_income",
    typical: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """The drivers with a sensitivity, ranked by |sensitivity × typical change|, largest first (the tornado
    chart). `measure`: `operating_income` or `cash`. A driver's typical change is `typical[id]` when given,
    else |vs_prior|, else |vs_budget|, in units of its sensitivity (points for a ratio); a driver with none
    is left out. Each row: id, label, unit, sensitivity, typical_change, impact (signed: sensitivity ×
    typical change)."""
    out = []
    for r in nodes:
        sens = r.get(f"sensitivity_{measure}")
        if sens is None:
            continue
        change = _typical(r, typical or {})
        if change is None:
            continue
        impact = to_decimal(sens) * to_decimal(change)
        out.append(
            {
                "id": r["id"],
                "label": r["label"],
                "unit": r["unit"],
                "sensitivity": to_decimal(sens),
                "typical_change": change,
                "impact": round_cents(impact),
            }
        )
    return sorted(out, key=lambda x: (-abs(x["impact"]), x["id"]))


def _typical(row: Mapping[str, Any], typical: Mapping[str, float]) -> float | None:
    if row["id"] in typical:
        return abs(float(typical[row["id"]]))
    for key in ("vs_prior", "vs_budget"):
        if row.get(key) is not None:
            return abs(float(row[key])) / unit_step(row["unit"])
    return None
