"""What a KPI figure is read against on the pages: the month before, its budget (the money KPIs, where a
budget version covers the month) or else the guardrail band that applies to the view, and the band drawn
on the KPI's trend chart. Text comes from present.kpi_figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..core.periods import add_months
from ..present.kpi_figures import budget_text, change_text, change_tone, gap_text


def applicable(guardrails, kpi_id: str, where: dict[str, list[str]]) -> list:
    """The month guardrails of `kpi_id` that cover the series filtered by `where`: each of its `where`
    members holds every member the series keeps. A band `by: site` applies to each site, so it is kept
    (the page says "per site")."""
    out = []
    for g in guardrails:
        if g.kpi != kpi_id or (g.grain or "month") != "month":
            continue
        if all(d in where and set(where[d]) <= set(v) for d, v in g.where.items()):
            out.append(g)
    return out


def exact_first(bands: list, where: dict[str, list[str]]) -> list:
    """`bands` with those that apply to this very series first (their `by` dimensions filtered to one member)."""
    return sorted(bands, key=lambda g: not all(len(where.get(d, [])) == 1 for d in g.by))


def tile_context(
    kpi, series: dict[dt.date, Any], period: dt.date, bands: list, currency: str, budget: tuple | None = None
) -> dict[str, Any]:
    """A tile's change against the month before, and against its budget (`budget`: (version, value)) where one
    applies, else its distance to the first band that applies."""
    value = series.get(period)
    before = add_months(period, -1)
    previous = series.get(before)
    band = bands[0] if bands else None
    if budget is not None and value is not None:
        version, planned = budget
        return {
            "previous_month": before.strftime("%Y-%m"),
            "change": change_text(value, previous, kpi.unit, currency),
            "change_tone": change_tone(value, previous, kpi.direction),
            "budget": budget_text(value, planned, version, kpi.unit, currency),
            "budget_tone": change_tone(value, planned, kpi.direction),
            "gap": "",
            "gap_breach": False,
        }
    return {
        "previous_month": before.strftime("%Y-%m"),
        "change": change_text(value, previous, kpi.unit, currency),
        "change_tone": change_tone(value, previous, kpi.direction),
        "gap": gap_text(value, band.min, band.max, kpi.unit, currency) if band else "",
        "gap_breach": bool(
            band
            and value is not None
            and ((band.min is not None and value < band.min) or (band.max is not None and value > band.max))
        ),
    }


def chart_bands(bands: list, unit: str) -> list[dict[str, Any]]:
    """The bands a trend chart draws: low and high bounds (None: open) and a label (`min 33.0% per site`)."""
    from ..alerts.model import fmt_value

    out = []
    for g in bands:
        per = f" per {', '.join(g.by).replace('_', ' ')}" if g.by else ""
        parts = [f"min {fmt_value(g.min, unit)}"] if g.min is not None else []
        parts += [f"max {fmt_value(g.max, unit)}"] if g.max is not None else []
        out.append({"low": g.min, "high": g.max, "label": f"guardrail {' · '.join(parts)}{per}"})
    return out
