"""The rows of `opsfin drivers` (docs/scenarios.md "The driver tree") for the CLI and the API.

JSON is the report's own shape (`{"period", "version", "nodes": [...]}`) and CSV its node rows; a table for
people indents each node under its parent and writes each figure in its node's unit (core.numbers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core.numbers import kind_of_unit
from .units import KindOf

FIGURES = ("value", "budget", "prior", "vs_budget", "vs_prior")
SENSITIVITIES = ("sensitivity_operating_income", "sensitivity_cash")


def _node_kind(row: Mapping[str, Any]) -> str:
    return kind_of_unit(str(row.get("unit") or ""))


#: the unit kind of each column: the figures in their node's unit, the sensitivities in money
DRIVER_KINDS: dict[str, KindOf] = {
    **dict.fromkeys(FIGURES, _node_kind),
    **dict.fromkeys(SENSITIVITIES, "money"),
}


def _depth(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    parent = {r["id"]: r["parent"] for r in rows}
    depth: dict[str, int] = {}
    for node in parent:
        d, p = 0, parent[node]
        while p is not None and d < len(parent):
            d, p = d + 1, parent.get(p)
        depth[node] = d
    return depth


def table_rows(nodes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The nodes in tree order (each parent before its children), labelled and indented by depth."""
    depth = _depth(nodes)
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for r in nodes:
        children.setdefault(r["parent"], []).append(r)
    ordered: list[Mapping[str, Any]] = []

    def visit(parent: str | None) -> None:
        for r in children.get(parent, []):
            ordered.append(r)
            visit(r["id"])

    visit(None)
    # a narrow terminal leaves out the rightmost columns first: the sensitivities stay beside the value
    keep = ("value", *SENSITIVITIES, "budget", "vs_budget", "prior", "vs_prior", "unit")
    return [{"driver": "  " * depth[r["id"]] + r["label"], **{k: r[k] for k in keep}} for r in ordered]
