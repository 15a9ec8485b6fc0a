"""Values as a person reads them, for every front end: CLI tables, web pages, the pack
(docs/presentation.md). One formatter per unit kind (opsfin.core.numbers); this module picks the kind
of each cell (present.units) and turns rows into text.

Only what a person reads is humanised: `--format csv|json`, the REST API and the pack's Excel cells
keep every digit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.numbers import NUMERIC_KINDS, format_number, format_with_unit, kind_of_unit
from .labels import label
from .units import LABELLED_COLUMNS, KindOf, column_kind

__all__ = [
    "TICK_FORMATS",
    "HumanTable",
    "format_number",
    "format_value",
    "format_with_unit",
    "humanise",
    "kind_of_unit",
]

# kind → the d3 format a chart axis writes its ticks in (plotly.js), matching format_value
TICK_FORMATS = {
    "ratio": ".0%",
    "money": ",.2f",
    "number": ",.2f",
    "count": ",d",
    "quantity": ",.0f",
    "hours": ",.1f",
    "minutes": ",.1f",
    "kwh": ",.1f",
    "days": ",.1f",
    "rate": ",.3r",
    "score": ".2f",
}


def format_value(value: Any, kind: str = "number", currency: str | None = None) -> str:
    """One value as its kind is written (`46.7%`, `-1,234,567.50`, `1,234`, `2024-03-31`)."""
    return format_number(value, kind, currency=currency)


@dataclass(frozen=True)
class HumanTable:
    """Rows as text: a label per column, whether the column holds numbers, and the cells."""

    columns: tuple[str, ...]
    labels: tuple[str, ...]
    numeric: tuple[bool, ...]
    cells: tuple[tuple[str, ...], ...]


def humanise(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    kinds: Mapping[str, KindOf] | None = None,
) -> HumanTable:
    """`records` as text. A column's kind is `kinds[column]` (a kind, or a function of the row for a column
    whose unit varies by row, such as a KPI's `value`), or else declared by name or read from its values
    (present.units). A value that is already text is kept as it is, except in a column of names that
    have a label (a variance category, a match status: `var_overhead_spending` → "Variable overhead spending")."""
    kinds = kinds or {}
    fixed: dict[str, str] = {}
    for c in columns:
        given = kinds.get(c)
        if isinstance(given, str):
            fixed[c] = given
        elif given is None:
            fixed[c] = column_kind(c, [r.get(c) for r in records[:50]])
    cells = []
    for r in records:
        row = []
        for c in columns:
            kind = fixed[c] if c in fixed else kinds[c](r)  # type: ignore[operator]
            value = r.get(c)
            if isinstance(value, str):
                row.append(label(value) if c in LABELLED_COLUMNS else value)
            else:
                row.append(format_number(value, kind))
        cells.append(tuple(row))
    numeric = tuple(_is_numeric(c, fixed.get(c), [r.get(c) for r in records]) for c in columns)
    return HumanTable(tuple(columns), tuple(label(c) for c in columns), numeric, tuple(cells))


def _is_numeric(column: str, kind: str | None, values: list[Any]) -> bool:
    """A column of figures (right-aligned, never split): a numeric kind over numbers, or a per-row kind."""
    if kind is None:
        return True
    if kind not in NUMERIC_KINDS:
        return False
    return any(v is not None and not isinstance(v, str | bool) for v in values) or all(
        v is None or (isinstance(v, str) and _looks_numeric(v)) for v in values
    )


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace("%", "").replace("-", "").replace(".", "").strip()
    return stripped.isdigit()
