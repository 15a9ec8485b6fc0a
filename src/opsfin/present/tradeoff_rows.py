"""The shapes of `opsfin tradeoff speed|reliability` (docs/scenarios.md "Trade-offs") for the CLI and the
API: one JSON object per trade-off (its window, assumptions and rows), and the unit kind of each figure a
table shows. Money stays exact (Decimal → string in JSON)."""

from __future__ import annotations

from typing import Any

from .units import KindOf

SPEED_KINDS: dict[str, KindOf] = {
    "on_time_delivery": "ratio",
    "recovered_qty": "quantity",
    "step_points": "count",
}
RELIABILITY_KINDS: dict[str, KindOf] = {
    "availability": "ratio",
    "planned_per_month": "number",
    "breakdown_hours_per_planned_hour": "number",
}


def _window(window: Any) -> dict[str, str]:
    return {"from": f"{window.first:%Y-%m}", "to": f"{window.last:%Y-%m}"}


def speed_json(window: Any, assumptions: Any, curve: Any) -> dict[str, Any]:
    """`{"tradeoff": "speed", "from", "to", "assumptions", "on_time_delivery", "shipped_qty", "late_qty",
    "margin_at_risk", "points": [{step_points, on_time_delivery, recovered_qty, overtime_hours,
    overtime_cost, expediting_cost, stock_cost, cost, margin_protected, net}]}`."""
    return {
        "tradeoff": "speed",
        **_window(window),
        "assumptions": assumptions.model_dump(),
        "on_time_delivery": curve.on_time_delivery,
        "shipped_qty": curve.shipped_qty,
        "late_qty": curve.late_qty,
        "margin_at_risk": curve.margin_at_risk,
        "points": curve.points.to_dicts(),
    }


def reliability_json(window: Any, assumptions: Any, result: Any) -> dict[str, Any]:
    """`{"tradeoff": "reliability", "from", "to", "assumptions", "hours_avoided_per_service",
    "observations", "machines": [one object per machine]}`."""
    return {
        "tradeoff": "reliability",
        **_window(window),
        "assumptions": assumptions.model_dump(),
        "hours_avoided_per_service": result.hours_avoided_per_service,
        "observations": result.observations,
        "machines": result.machines.to_dicts(),
    }


SPEED_COLUMNS = (
    "step_points",
    "on_time_delivery",
    "cost",
    "margin_protected",
    "net",
    "recovered_qty",
    "overtime_cost",
    "expediting_cost",
    "stock_cost",
)


def speed_table(curve: Any) -> list[dict[str, Any]]:
    """The points for reading: the totals first (a narrow terminal leaves out the rightmost columns), then
    the units recovered and the cost of each lever; the hours are in CSV and JSON."""
    return [{k: r[k] for k in SPEED_COLUMNS} for r in curve.points.to_dicts()]


def reliability_table_rows(result: Any) -> list[dict[str, Any]]:
    """One short row per machine for reading; CSV and JSON keep every column."""
    keep = (
        "machine_id",
        "availability",
        "breakdown_hours",
        "planned_spend",
        "breakdown_spend",
        "lost_contribution",
        "extra_service_net",
        "recommendation",
    )
    return [{k: r[k] for k in keep} for r in result.machines.to_dicts()]
