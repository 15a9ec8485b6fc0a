"""The alert record and the words and numbers a controller reads in it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..core.numbers import format_with_unit

DIM_LABELS = {
    "site": "site",
    "work_center": "work centre",
    "machine": "machine",
    "shift": "shift",
    "product": "product",
    "family": "product family",
    "customer": "customer",
    "supplier": "supplier",
    "cost_center": "cost centre",
}
SEVERITIES = ("info", "warn", "stop")
#: sort key of a severity, most severe first (lists of alerts show `stop` on top)
SEVERITY_ORDER = {"stop": 0, "warn": 1, "info": 2}


@dataclass
class Alert:
    """One alert: a guardrail breach or an anomaly, spanning a continuous run of periods."""

    id: str
    kind: str  # 'guardrail' | 'anomaly' | 'forecast_breach'
    kpi: str
    scope: dict[str, str]
    period_start: dt.date
    period_end: dt.date  # last day of the run's last period (clipped by --to)
    value: float | None  # the KPI over the whole run (see docs/alerts.md)
    expected: float | None  # guardrail: the bound's side of the band; anomaly: the baseline
    bound: float | None  # the limit that was crossed
    severity: str
    explanation: str
    grain: str = "month"
    owner: str = ""
    periods: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `opsfin alerts --format json`; a forecast breach adds `version` and
        `months_ahead` (docs/alerts.md)."""
        ahead = {k: self.extra[k] for k in ("version", "months_ahead")} if self.kind == "forecast_breach" else {}
        return {
            "id": self.id,
            "kind": self.kind,
            "kpi": self.kpi,
            "scope": dict(self.scope),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "value": _num(self.value),
            "expected": _num(self.expected),
            "bound": _num(self.bound),
            "severity": self.severity,
            "explanation": self.explanation,
        } | ahead


def _num(x: float | None) -> float | None:
    if x is None or x != x:  # NaN
        return None
    return round(float(x), 6)


def alert_id(kind: str, kpi: str, scope: dict[str, str], period_start: dt.date, *extra: str) -> str:
    """Stable id: the same data and model files give the same ids."""
    key = json.dumps([kind, kpi, sorted(scope.items()), period_start.isoformat(), *extra])
    return "AL-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def scope_words(scope: dict[str, str]) -> str:
    """'at machine P1-ASSY-M04 (work centre P1-ASSY)', 'for customer CUS-0074', 'for the company'."""
    if not scope:
        return "for the company"
    *context, last = scope.items()
    words = "at " if last[0] in ("site", "work_center", "machine", "shift") else "for "
    words += f"{DIM_LABELS.get(last[0], last[0])} {last[1]}"
    if context:
        words += " (" + ", ".join(f"{DIM_LABELS.get(d, d)} {v}" for d, v in context) + ")"
    return words


def fmt_value(x: float | None, unit: str) -> str:
    """A KPI value as a controller writes it: 12.5%, 48,200.00, 41.3 days, 0.52 kWh/unit; `n/a` for none.
    The one formatter of every screen (core.numbers, docs/presentation.md), with the unit after the value."""
    return format_with_unit(x, unit)


def fmt_span(first: dt.date, last: dt.date, grain: str) -> str:
    """'in 2024-09', 'from 2024-09 to 2024-11', 'in the week of 2024-09-02', ..."""

    def one(d: dt.date) -> str:
        if grain == "month":
            return d.strftime("%Y-%m")
        if grain == "quarter":
            return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
        if grain == "year":
            return str(d.year)
        return d.isoformat()

    if grain == "week":
        return (
            f"in the week of {first.isoformat()}"
            if first == last
            else f"from the week of {first.isoformat()} to the week of {last.isoformat()}"
        )
    return f"in {one(first)}" if first == last else f"from {one(first)} to {one(last)}"
