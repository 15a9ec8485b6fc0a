"""A KPI figure beside what a controller reads it against (docs/presentation.md "KPI figures"): its change
from the month before, against its budget, its distance to a guardrail bound, the units of its numerator and denominator, and
a guardrail bound written in the unit of the tile (a ratio's band as `33.0`, in %, not `0.33`).

Only text is made here; every value comes from the KPI engine or model/guardrails.yaml."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..core.numbers import format_number, format_with_unit, kind_of_unit

# kpi id → (numerator, its unit, denominator, its unit) of the built-in catalog (kpis/definitions.py).
# "money" is the base currency; a sum KPI has no denominator. A KPI not listed (a custom one of
# model/kpis.yaml) shows "numerator" and "denominator" without a unit.
KPI_PARTS: dict[str, tuple[str, str, str | None, str | None]] = {
    "availability": ("run time", "min", "planned time", "min"),
    "performance": ("ideal time of the units made", "s", "run time", "s"),
    "quality_rate": ("good units", "units", "units made", "units"),
    "oee": ("ideal time of the good units", "s", "planned time", "s"),
    "capacity_utilization": ("ideal time of the units made", "s", "planned time", "s"),
    "output_units": ("units produced", "units", None, None),
    "throughput_per_hour": ("good units", "units", "run time", "min"),
    "scrap_rate": ("units scrapped", "units", "units processed", "units"),
    "first_pass_yield": ("units passed", "units", "units inspected", "units"),
    "labor_productivity": ("units produced", "units", "paid hours", "h"),
    "overtime_share": ("overtime hours", "h", "paid hours", "h"),
    "support_utilization": ("ticket handling time", "min", "paid time", "min"),
    "picks_per_hour": ("lines picked", "lines", "picking hours", "h"),
    "on_time_delivery": ("units shipped on time", "units", "units shipped", "units"),
    "csat": ("sum of the scores", "points", "rated tickets", "tickets"),
    "energy_per_unit": ("energy", "kWh", "good units", "units"),
    "maintenance_cost": ("maintenance cost", "money", None, None),
    "maintenance_parts_cost": ("parts cost", "money", None, None),
    "supplier_on_time": ("units received on time", "units", "units received", "units"),
    "ppv_rate": ("price variance", "money", "standard cost of the receipts", "money"),
    "days_to_pay": ("amount paid × days", "money·days", "amount paid", "money"),
    "revenue": ("revenue", "money", None, None),
    "cogs": ("cost of goods sold", "money", None, None),
    "gross_margin": ("gross margin", "money", None, None),
    "opex": ("operating expenses", "money", None, None),
    "dso": ("average receivables × days", "money·days", "revenue", "money"),
    "dio": ("average inventory × days", "money·days", "cost of goods sold", "money"),
    "dpo": ("average payables × days", "money·days", "cost of goods sold", "money"),
    "inventory_turns": ("cost of goods sold × 365", "money·days", "average inventory × days", "money·days"),
}
_PART_KINDS = {"min": "minutes", "s": "number", "h": "hours", "units": "quantity", "lines": "count"}
_PART_KINDS |= {"tickets": "count", "kWh": "kwh", "money": "money", "money·days": "money", "points": "count"}


def part_headers(kpi_id: str, currency: str) -> tuple[str, str | None]:
    """The headers of a KPI's numerator and denominator columns with their units: `planned time (min)`,
    `revenue (EUR)`; the denominator is None for a KPI that is a sum (it has none)."""
    parts = KPI_PARTS.get(kpi_id)
    if parts is None:
        return "numerator", "denominator"
    num, num_unit, den, den_unit = parts

    def header(name: str, unit: str) -> str:
        return f"{name} ({unit.replace('money', currency)})"

    return header(num, num_unit), header(den, den_unit) if den and den_unit else None


def part_text(kpi_id: str, side: str, value: Any) -> str:
    """A numerator (`side="numerator"`) or denominator in the kind of its unit (`7,995,600`, `1,234.5`)."""
    parts = KPI_PARTS.get(kpi_id)
    unit = (parts[1] if side == "numerator" else parts[3]) if parts else None
    kind = _PART_KINDS.get(unit or "", "number")
    if kind == "number" and unit == "s" and value is not None:
        return f"{round(value):,}"  # seconds: whole seconds
    return format_number(value, kind)


def change_text(value: Any, previous: Any, unit: str, currency: str) -> str:
    """The change from `previous` to `value`, signed: `+1.2 pp` for a ratio, `+EUR 3,005.04 (+0.4%)` for
    money, `-2.1 days (-4.5%)` otherwise; '' when either is missing."""
    if value is None or previous is None:
        return ""
    diff = _minus(value, previous)
    sign = "+" if diff > 0 else "-" if diff < 0 else "±"
    if kind_of_unit(unit) == "ratio":
        return f"{sign}{abs(float(diff)) * 100:.1f} pp"
    size = _amount(abs(diff), unit, currency)
    relative = f" ({sign}{abs(float(diff) / float(previous)):.1%})" if previous else ""
    return f"{sign}{size}{relative}"


def budget_text(value: Any, budget: Any, version: str, unit: str, currency: str) -> str:
    """The value against its budget: `-3.2% vs budget B2024 (EUR 826,613.80)`, the difference relative to the
    budget (`+EUR 1,200.00 vs budget B2024 (EUR 0.00)` on a budget of 0); '' when either is missing."""
    if value is None or budget is None:
        return ""
    diff = _minus(value, budget)
    sign = "+" if diff > 0 else "-" if diff < 0 else "±"
    planned = _amount(budget, unit, currency)
    if not budget:
        return f"{sign}{_amount(abs(diff), unit, currency)} vs budget {version} ({planned})"
    return f"{sign}{abs(float(diff) / float(budget)):.1%} vs budget {version} ({planned})"


def change_tone(value: Any, previous: Any, direction: str) -> str:
    """`good`, `bad` or `flat`: whether the change goes the KPI's way (`higher_is_better`…)."""
    if value is None or previous is None or value == previous:
        return "flat"
    up = value > previous
    return "good" if up == (direction != "lower_is_better") else "bad"


def gap_text(value: Any, low: float | None, high: float | None, unit: str, currency: str) -> str:
    """Where `value` stands against a band: `2.1 pp below the minimum 33.0%`, `EUR 4,000.00 above the
    maximum EUR 85,000.00`, or inside it, its headroom to the nearer bound; '' without value or band."""
    if value is None or (low is None and high is None):
        return ""
    v = float(value)
    if low is not None and v < low:
        return f"{_gap(low - v, unit, currency)} below the minimum {_bound(low, unit, currency)}"
    if high is not None and v > high:
        return f"{_gap(v - high, unit, currency)} above the maximum {_bound(high, unit, currency)}"
    room = [(v - low, "above the minimum", low)] if low is not None else []
    room += [(high - v, "below the maximum", high)] if high is not None else []
    size, where, bound = min(room, key=lambda r: r[0])
    return f"inside the guardrail, {_gap(size, unit, currency)} {where} {_bound(bound, unit, currency)}"


def bound_input(bound: Any, unit: str) -> str:
    """A guardrail bound as the editor shows it, in the tile's unit: a ratio in % (0.33 → `33.0`, a
    finer bound keeps its digits: 0.125 → `12.5`), any other value as it is written in the file."""
    if not isinstance(bound, int | float | Decimal) or isinstance(bound, bool):
        return ""  # an open side (absent from the file)
    if kind_of_unit(unit) == "ratio":
        percent = Decimal(str(bound)) * 100
        return f"{percent:.1f}" if percent == round(percent, 1) else format(percent.normalize(), "f")
    return format(Decimal(str(bound)).normalize(), "f")


def bound_suffix(unit: str, currency: str) -> str:
    """The unit written after a guardrail editor's input: `%`, `EUR`, `days`, `kWh/unit`."""
    kind = kind_of_unit(unit)
    return "%" if kind == "ratio" else currency if kind == "money" else unit


def _minus(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a - b
    return float(a) - float(b)


def _amount(size: Any, unit: str, currency: str) -> str:
    if kind_of_unit(unit) == "money":
        return format_number(size, "money", currency=currency)
    return format_with_unit(size, unit)


def _gap(size: float, unit: str, currency: str) -> str:
    if kind_of_unit(unit) == "ratio":
        return f"{size * 100:.1f} pp"
    return _amount(size, unit, currency)


def _bound(bound: float, unit: str, currency: str) -> str:
    if kind_of_unit(unit) == "money":
        return format_number(bound, "money", currency=currency)
    return format_with_unit(bound, unit)
