"""The unit kind of every figure a screen shows (docs/presentation.md "Units").

A KPI's unit comes from the KPI catalog (kpis/definitions.py, model/kpis.yaml), never from here.
Any other column is declared once below, by its name; a column that is not declared gets its kind from
its values: an exact Decimal is money, an integer a count, a float a plain number. How each kind is
written is opsfin.core.numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..core.numbers import kind_of_unit

# columns by exact name (those whose values alone would not tell)
COLUMN_KINDS: dict[str, str] = {
    "cm_ratio": "ratio",
    "pce": "ratio",
    "capacity_utilization": "ratio",
    "runner_up_utilization": "ratio",
    "utilization": "ratio",
    "score": "score",
    "csat": "score",
    "units": "quantity",
    "qty": "quantity",
    "qty_good": "quantity",
    "qty_scrap": "quantity",
    "received_qty": "quantity",
    "planned_qty": "quantity",
    "output": "quantity",
    "orders": "count",
    "operations": "count",
    "lines_picked": "count",
    "tickets_closed": "count",
    "rows_read": "count",
    "rows_accepted": "count",
    "rows_quarantined": "count",
    "periods": "count",
    "expected_impact": "money",
    # identifiers that happen to be numbers: no thousands separator
    "line": "text",
    "step": "text",
    "po_line": "text",
    "run_id": "text",
    "id": "text",
    "source_row": "text",
    "year": "text",
    "version": "text",
}
# a name ending so has that kind (value_added_hours, mean_wait_minutes, kwh, …)
SUFFIX_KINDS: tuple[tuple[str, str], ...] = (
    ("_ratio", "ratio"),
    ("_share", "ratio"),
    ("_utilization", "ratio"),
    ("_pct", "ratio"),
    ("_hours", "hours"),
    ("_minutes", "minutes"),
    ("_kwh", "kwh"),
    ("_cost", "money"),
    ("_price", "money"),
    ("_amount", "money"),
)

# columns whose values are names with a label (present.labels): a table shows the label
LABELLED_COLUMNS = ("category", "status", "direction")

KindOf = str | Callable[[Mapping[str, Any]], str]


def column_kind(name: str, values: list[Any] | None = None) -> str:
    """The kind of a column from its name, or else from its (first non-null) value."""
    if name in COLUMN_KINDS:
        return COLUMN_KINDS[name]
    for suffix, kind in SUFFIX_KINDS:
        if name.endswith(suffix):
            return kind
    sample = next((v for v in values or () if v is not None), None)
    return value_kind(sample)


def value_kind(value: Any) -> str:
    """The kind a value's type says: Decimal → money, int → count, float → number, date(time), text."""
    if isinstance(value, bool):
        return "text"
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, int):
        return "count"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return "text"


def kpi_value_kind(catalog: Mapping[str, Any], kpi_column: str = "kpi") -> Callable[[Mapping[str, Any]], str]:
    """For rows of several KPIs: the kind of a row's `value`, from its KPI's unit in the catalog."""

    def kind(row: Mapping[str, Any]) -> str:
        kpi = catalog.get(row.get(kpi_column) or "")
        return kind_of_unit(kpi.unit) if kpi is not None else "number"

    return kind


def kpi_kind(catalog: Mapping[str, Any], kpi_id: str) -> str:
    """The kind of one KPI's values (its catalog unit)."""
    kpi = catalog.get(kpi_id)
    return kind_of_unit(kpi.unit) if kpi is not None else "number"
