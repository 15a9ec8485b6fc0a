"""The pack's charts (docs/export-pack.md "Charts"): the variance waterfall, from the Variances section's
rows, and the KPI trends of the twelve months to the pack's month with their guardrail bands, from the
KPI engine (`ws.kpi`, as the KPI section). Figures come from the engines; a site pack's waterfall steps
are its category rows added up, as the section's footing is.

Drawing is the renderers' job: `svg(chart)` here for the page (inline SVG: the page stays one file with
no script), native charts in the workbook (pack_xlsx.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any

from ..core.numbers import format_number, kind_of_unit
from ..core.periods import add_months
from .pack_model import Chart, Section

# the KPIs whose trends the pack draws, when the catalog has them and the scope may see them
TREND_KPIS = ("revenue", "gross_margin", "oee", "on_time_delivery", "scrap_rate", "dso")
GOOD, BAD, TOTAL, LINE, BAND = "#2e7d32", "#c62828", "#37474f", "#0072b2", "#0072b2"


def waterfall_chart(section: Section) -> Chart | None:
    """The bridge's categories in the section's order, then its total; None when the section is empty."""
    steps: dict[str, Decimal] = {}
    total: Decimal | None = None
    for row in section.table.iter_rows(named=True):
        if row.get("amount") is None:
            continue
        if row.get("part") == "total" or row.get("category") == "total":
            total = row["amount"]
            continue
        steps[row["category"]] = steps.get(row["category"], Decimal(0)) + row["amount"]
    if not steps:
        return None
    end = total if total is not None else sum(steps.values(), Decimal(0))
    labels = (*steps, "total")
    values = (*(float(v) for v in steps.values()), float(end))
    return Chart("waterfall", "Variance bridge (favourable +, unfavourable −)", "waterfall", "money", labels, values)


def trend_charts(ws, last: dt.date, scope: tuple[str, ...] | None) -> list[Chart]:
    """The monthly values of TREND_KPIS over the twelve months to `last` (the scope's sites together)."""
    from ..runs.model import load_guardrails
    from .pack_sections import kpi_series

    catalog = ws.kpi_catalog()
    ids = [k for k in TREND_KPIS if k in catalog and (scope is None or "site" in catalog[k].dims)]
    if not ids:
        return []
    first = add_months(last.replace(day=1), -11)
    months = [add_months(first, i) for i in range(12)]
    where = {"site": list(scope)} if scope else None
    series = kpi_series(ws, catalog, ids, [], where, first, last)
    guardrails = [g for g in load_guardrails(ws.model_dir, catalog) if not g.where and g.grain == "month"]
    charts = []
    for kpi_id in ids:
        values = series.get((kpi_id, ()), {})
        if not values:
            continue
        kpi = catalog[kpi_id]
        band = next((g for g in guardrails if g.kpi == kpi_id), None)
        per = f" (guardrail per {', '.join(band.by)})" if band is not None and band.by else ""
        charts.append(
            Chart(
                f"trend-{kpi_id}",
                f"{kpi.name}, last 12 months{per}",
                "line",
                kpi.unit,
                tuple(m.strftime("%Y-%m") for m in months),
                tuple(None if values.get(m) is None else float(values[m]) for m in months),
                band.min if band is not None else None,
                band.max if band is not None else None,
            )
        )
    return charts


def axis_text(value: float, unit: str) -> str:
    """A tick or bar label as the tables write the unit (`45.0%`, `-12,345`, `41.3`)."""
    kind = kind_of_unit(unit)
    if kind == "money":
        return f"{value:,.0f}"
    return format_number(value, kind)


# ---------------------------------------------------------------- inline SVG for the page
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 260, 78, 16, 24, 70


def svg(chart: Chart) -> str:
    """The chart as an inline SVG element (text escaped; no script, no external reference)."""
    body = _waterfall(chart) if chart.kind == "waterfall" else _line(chart)
    return (
        f'<svg class="chart" role="img" aria-label="{escape(chart.title)}" viewBox="0 0 {W} {H}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(chart.title)}</title>{body}</svg>"
    )


def _scale(lo: float, hi: float):
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM)

    return y, lo, hi


def _axis(y, lo: float, hi: float, unit: str) -> list[str]:
    parts = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#90a4ae"/>']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10" fill="#5f6b7a">'
            f"{escape(axis_text(v, unit))}</text>"
            f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{W - RIGHT}" y2="{y(v):.1f}" stroke="#eceff1"/>'
        )
    return parts


def _xlabel(x: float, text: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{H - BOTTOM + 12}" font-size="10" fill="#1f2933" text-anchor="end" '
        f'transform="rotate(-35 {x:.1f} {H - BOTTOM + 12})">{escape(text)}</text>'
    )


def _waterfall(chart: Chart) -> str:
    levels, level = [], 0.0
    for i, v in enumerate(chart.values):
        start = 0.0 if i == len(chart.values) - 1 else level
        end = (v or 0.0) if i == len(chart.values) - 1 else level + (v or 0.0)
        levels.append((start, end))
        level = end
    y, lo, hi = _scale(min(min(a, b) for a, b in levels + [(0.0, 0.0)]), max(max(a, b) for a, b in levels))
    step = (W - LEFT - RIGHT) / len(levels)
    parts = _axis(y, lo, hi, "money")
    parts.append(f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{W - RIGHT}" y2="{y(0):.1f}" stroke="#90a4ae"/>')
    for i, ((a, b), label, v) in enumerate(zip(levels, chart.labels, chart.values, strict=True)):
        x = LEFT + i * step + step * 0.15
        colour = TOTAL if i == len(levels) - 1 else GOOD if (v or 0) >= 0 else BAD
        top, height = min(y(a), y(b)), max(abs(y(a) - y(b)), 1.0)
        parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{top - 3:.1f}" font-size="9" text-anchor="middle">'
            f"{escape(axis_text(v or 0.0, 'money'))}</text>"
        )
        parts.append(_xlabel(x + step * 0.35, label.replace("_", " ")))
    return "".join(parts)


def _line(chart: Chart) -> str:
    known = [v for v in chart.values if v is not None]
    bounds = [b for b in (chart.low, chart.high) if b is not None]
    y, lo, hi = _scale(min(known + bounds), max(known + bounds))
    step = (W - LEFT - RIGHT) / max(len(chart.labels) - 1, 1)
    parts = _axis(y, lo, hi, chart.unit)
    if chart.low is not None and chart.high is not None:
        top, bottom = y(chart.high), y(chart.low)
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{W - LEFT - RIGHT}" height="{bottom - top:.1f}" fill="{BAND}" fill-opacity="0.1"/>'
        )
    for name, bound in (("min", chart.low), ("max", chart.high)):
        if bound is not None:
            parts.append(
                f'<line class="guardrail" x1="{LEFT}" y1="{y(bound):.1f}" x2="{W - RIGHT}" y2="{y(bound):.1f}" '
                f'stroke="{BAND}" stroke-dasharray="5 4"/><text x="{W - RIGHT}" y="{y(bound) - 3:.1f}" font-size="10" '
                f'text-anchor="end" fill="{BAND}">guardrail {name} {escape(axis_text(bound, chart.unit))}</text>'
            )
    points = [(LEFT + i * step, y(v)) for i, v in enumerate(chart.values) if v is not None]
    path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
    parts.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="{path}"/>')
    parts += [f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.5" fill="{LINE}"/>' for x, yy in points]
    parts += [_xlabel(LEFT + i * step, label) for i, label in enumerate(chart.labels)]
    return "".join(parts)


def chart_rows(chart: Chart) -> list[dict[str, Any]]:
    """The chart's data as rows (label, value), for the workbook's Charts sheet."""
    return [{"label": lab, "value": v} for lab, v in zip(chart.labels, chart.values, strict=True)]
