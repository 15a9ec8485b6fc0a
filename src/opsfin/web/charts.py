"""Plotly figures as plain dicts (plotly.js draws them; static/app.js wires clicks to drill-down links).

Each trace may carry `customdata` holding the URL a click on a point opens. Figures only lay out the
engine's numbers; they never compute a figure. Sparklines are tiny inline SVGs (no chart library)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..present.formatters import TICK_FORMATS, format_value

FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}
GOOD, BAD, TOTAL = "#2e7d32", "#c62828", "#37474f"
# cividis: a scale readers with any colour vision see the same way (dark blue low, yellow high), never red
# against green; a cell without a value is grey and says so
SCALE = "Cividis"
EMPTY_CELL, EMPTY_TEXT = "#eceff1", "no data"


def _layout(title: str, **kw: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **kw,
    }


def _num(x: Any) -> float | None:
    if x is None:
        return None
    return float(x) if isinstance(x, Decimal | int | float) else None


def _heatmap_trace(
    rows: Sequence[str], columns: Sequence[str], z: list[list[Any]], text: list[list[str]], **kw: Any
) -> dict[str, Any]:
    """A heatmap trace of rows × columns, each cell labelled with its `text` (also on hover); `kw` adds
    the colours and the rest."""
    return {
        "type": "heatmap",
        "x": list(columns),
        "y": list(rows),
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "hoverongaps": False,
        "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>",
        **kw,
    }


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: dict[tuple[str, str], float | None],
    links: dict[tuple[str, str], str],
    percent: bool = True,
) -> dict[str, Any]:
    """A heatmap of rows × columns (e.g. work centre × shift); a click opens `links[(row, column)]`."""
    z = [[values.get((r, c)) for c in columns] for r in rows]
    kind = "ratio" if percent else "number"
    text = [[format_value(v, kind) for v in line] for line in z]
    custom = [[links.get((r, c), "") for c in columns] for r in rows]
    trace = _heatmap_trace(
        rows,
        columns,
        z,
        text,
        customdata=custom,
        colorscale=SCALE,
        colorbar={"tickformat": TICK_FORMATS[kind], "thickness": 14},
    )
    empty = [
        {"x": c, "y": r, "text": EMPTY_TEXT, "showarrow": False, "font": {"size": 11, "color": "#546e7a"}}
        for r, line in zip(rows, z, strict=True)
        for c, v in zip(columns, line, strict=True)
        if v is None
    ]
    layout = _layout(
        title,
        height=100 + 36 * max(len(rows), 3),
        yaxis={"autorange": "reversed"},
        margin={"l": 100, "r": 20, "t": 40, "b": 40},
        annotations=empty,
    )
    return {"data": [trace], "layout": layout | {"plot_bgcolor": EMPTY_CELL}}


def lines(
    title: str,
    series: dict[str, list[tuple[Any, float | None]]],
    links: dict[str, str] | None = None,
    percent: bool = False,
    unit: str = "",
    bands: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One line per series name: [(x, y), …]; a click opens the series' link. `unit` titles the value axis;
    `bands` ({low, high, label}, a bound None when open) are drawn behind the lines (the guardrails)."""
    data = []
    for name, points in series.items():
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [_label(x) for x, _ in points],
                "y": [_num(y) for _, y in points],
                "customdata": [(links or {}).get(name, "")] * len(points),
            }
        )
    yaxis: dict[str, Any] = {"tickformat": TICK_FORMATS["ratio"]} if percent else {}
    if unit:
        yaxis["title"] = {"text": unit}
    layout = _layout(title, height=320, yaxis=yaxis, legend={"orientation": "h"}, xaxis={"type": "category"})
    if bands:
        layout |= guardrail_shapes(bands)
    return {"data": data, "layout": layout}


GUARDRAIL_FILL, GUARDRAIL_LINE = "rgba(0, 114, 178, 0.10)", "#0072b2"


def guardrail_shapes(bands: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Plotly shapes and labels of guardrail bands: a dashed line at each bound, the band between two
    bounds shaded, across the whole x axis."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    across = {"xref": "paper", "x0": 0, "x1": 1, "yref": "y", "layer": "below"}
    for band in bands:
        low, high = _num(band.get("low")), _num(band.get("high"))
        if low is not None and high is not None:
            shapes.append(
                across | {"type": "rect", "y0": low, "y1": high, "fillcolor": GUARDRAIL_FILL, "line": {"width": 0}}
            )
        for bound in (b for b in (low, high) if b is not None):
            line = {"color": GUARDRAIL_LINE, "width": 1.5, "dash": "dash"}
            shapes.append(across | {"type": "line", "y0": bound, "y1": bound, "line": line})
        top = high if high is not None else low
        notes.append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "yref": "y",
                "y": top,
                "yanchor": "bottom",
                "text": band.get("label", "guardrail"),
                "showarrow": False,
                "font": {"size": 11, "color": GUARDRAIL_LINE},
            }
        )
    return {"shapes": shapes, "annotations": notes}


def _label(x: Any) -> str:
    """A month's first day as YYYY-MM, other periods as ISO dates."""
    if isinstance(x, dt.date) and x.day == 1:
        return x.strftime("%Y-%m")
    return str(x)


def bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[Any],
    links: Sequence[str],
    horizontal: bool = True,
    unit: str = "",
) -> dict[str, Any]:
    """Signed bars (green ≥ 0, red < 0); a click opens the bar's link. `unit` titles the value axis."""
    nums = [_num(v) or 0.0 for v in values]
    colors = [GOOD if v >= 0 else BAD for v in nums]
    trace: dict[str, Any] = {
        "type": "bar",
        "marker": {"color": colors},
        "customdata": list(links),
        "text": [f"{v:,.0f}" for v in nums],
        "textposition": "auto",
    }
    if horizontal:
        trace |= {"orientation": "h", "y": list(labels), "x": nums}
        layout = _layout(
            title,
            height=100 + 26 * max(len(labels), 4),
            yaxis={"autorange": "reversed"},
            xaxis={"title": {"text": unit}} if unit else {},
            margin={"l": 180, "r": 20, "t": 40, "b": 50},
        )
    else:
        trace |= {"x": list(labels), "y": nums}
        layout = _layout(title, height=360, yaxis={"title": {"text": unit}} if unit else {})
    return {"data": [trace], "layout": layout}


def waterfall(title: str, steps: Sequence[tuple[str, Any, str, str]], unit: str = "") -> dict[str, Any]:
    """A bridge: steps of (label, amount, measure 'absolute'|'relative'|'total', link); `unit` titles the
    value axis (the currency)."""
    trace = {
        "type": "waterfall",
        "orientation": "v",
        "x": [s[0] for s in steps],
        "y": [_num(s[1]) for s in steps],
        "measure": [s[2] for s in steps],
        "customdata": [s[3] for s in steps],
        "text": [f"{_num(s[1]) or 0:,.0f}" for s in steps],
        "textposition": "outside",
        "increasing": {"marker": {"color": GOOD}},
        "decreasing": {"marker": {"color": BAD}},
        "totals": {"marker": {"color": TOTAL}},
        "connector": {"line": {"color": "#90a4ae"}},
        "hovertemplate": "%{x}: %{y:,.2f}<extra></extra>",
    }
    yaxis = _bridge_range(steps) | ({"title": {"text": unit}} if unit else {})
    return {
        "data": [trace],
        "layout": _layout(
            title,
            height=460,
            margin={"l": 80, "r": 20, "t": 40, "b": 140},
            xaxis={"tickangle": -40},
            yaxis=yaxis,
        ),
    }


def _bridge_range(steps: Sequence[tuple[str, Any, str, str]]) -> dict[str, Any]:
    """Zoom the value axis onto the levels the bridge walks through (a bridge from 4.5M to 4.6M with parts
    of thousands is unreadable from 0); the axis starts at 0 when a level is at or below it."""
    level, levels = 0.0, []
    for _, amount, measure, _ in steps:
        value = _num(amount) or 0.0
        level = value if measure in ("absolute", "total") else level + value
        levels.append(level)
    if not levels or min(levels) <= 0:
        return {}
    lo, hi = min(levels), max(levels)
    pad = max((hi - lo) * 0.25, abs(hi) * 0.005, 1.0)
    return {"range": [max(lo - pad, 0.0), hi + pad]} if lo - pad > 0 else {}


def sparkline(values: Sequence[float | None], width: int = 120, height: int = 28) -> str:
    """An inline SVG polyline of the values (gaps skipped); '' when fewer than two values."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    coords = " ".join(
        f"{i * (width - 4) / n + 2:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}" for i, v in points
    )
    last_x, last_y = coords.split(" ")[-1].split(",")
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true"><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{coords}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.2" fill="currentColor"/></svg>'
    )


BAND = "rgba(25, 118, 210, 0.18)"


def forecast_band(
    title: str,
    actuals: Sequence[tuple[Any, Any]],
    forecast: Sequence[tuple[Any, Any, Any, Any]],
    unit: str = "",
) -> dict[str, Any]:
    """Actuals [(month, y), …] as a line, and the forecast [(month, p10, p50, p90), …] as its median line
    inside the P10–P90 band (the upper edge drawn first, the lower one filled up to it)."""
    months = [_label(m) for m, *_ in forecast]
    edge = {"type": "scatter", "mode": "lines", "x": months, "line": {"width": 0}, "hoverinfo": "skip"}
    data = [
        edge | {"name": "P90", "y": [_num(r[3]) for r in forecast], "showlegend": False},
        edge | {"name": "P10–P90", "y": [_num(r[1]) for r in forecast], "fill": "tonexty", "fillcolor": BAND},
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "forecast (P50)",
            "x": months,
            "y": [_num(r[2]) for r in forecast],
            "line": {"dash": "dash", "color": "#1976d2"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "actual",
            "x": [_label(m) for m, _ in actuals],
            "y": [_num(y) for _, y in actuals],
            "line": {"color": TOTAL},
        },
    ]
    yaxis: dict[str, Any] = {"title": {"text": unit}} if unit else {}
    xaxis = {"type": "category", "categoryorder": "category ascending", "tickangle": -90}
    legend = {"orientation": "h", "x": 0, "y": -0.42, "yanchor": "top"}  # below the month labels
    margin = {"l": 60, "r": 20, "t": 40, "b": 110}
    return {"data": data, "layout": _layout(title, height=340, yaxis=yaxis, xaxis=xaxis, legend=legend, margin=margin)}


# ---------------------------------------------------------------- the Plan page (docs/web.md "Plan")
OVERLOAD_MARK = "#000000"


def utilization_heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: dict[tuple[str, str], float | None],
) -> dict[str, Any]:
    """Projected utilization of work centres (rows) by month (columns) on the colour-blind safe Cividis
    scale, 0 to at least 120 %; a cell over 100 % is labelled "▲ 112%" and outlined, an empty cell (no
    plan row) is labelled "no plan"."""
    z = [[values.get((r, c)) for c in columns] for r in rows]
    text = [
        ["no plan" if v is None else ("▲ " if v > 1 else "") + format_value(v, "ratio") for v in line] for line in z
    ]
    peak = max((v for line in z for v in line if v is not None), default=1.0)
    trace = _heatmap_trace(
        rows,
        columns,
        z,
        text,
        colorscale="Cividis",
        zmin=0,
        zmax=max(1.2, peak),
        colorbar={"tickformat": TICK_FORMATS["ratio"], "thickness": 14, "title": {"text": "utilization"}},
    )
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y",
            "x0": i - 0.5,
            "x1": i + 0.5,
            "y0": j - 0.5,
            "y1": j + 0.5,
            "line": {"color": OVERLOAD_MARK, "width": 3},
        }
        for j, line in enumerate(z)
        for i, v in enumerate(line)
        if v is not None and v > 1
    ]
    empty = [
        {"x": columns[i], "y": rows[j], "text": "no plan", "showarrow": False, "font": {"color": TOTAL}}
        for j, line in enumerate(z)
        for i, v in enumerate(line)
        if v is None
    ]
    layout = _layout(
        title,
        height=120 + 36 * max(len(rows), 3),
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category"},
        margin={"l": 100, "r": 20, "t": 40, "b": 60},
        shapes=shapes,
        annotations=empty,
    )
    return {"data": [trace], "layout": layout}
