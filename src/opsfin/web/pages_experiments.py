"""The Experiments page (`/experiments`); docs/web.md "Experiments".

Each experiment of `model/experiments.yaml` as `opsfin experiment analyze NAME` reports it (runs/experiments.py:
the KPI engine's rows, the controls, the difference-in-differences with its 95 % interval, the pre-trend
check, the money a year), and per metric the monthly series of the treated units and their controls over
the experiment's window (the same KPI rows the estimate is made on) with the start month marked. Read-only;
company figures (units of several sites against each other): site-scoped users are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from .pages import page_grant, render, state, view_for
from .pages_data import attempt

router = APIRouter(include_in_schema=False)
TREATED, CONTROL = "#d55e00", "#0072b2"  # colour-blind-safe pair


def _experiments(ws: Any) -> list[Any]:
    from ..runs.experiments import load_experiments

    return list(load_experiments(ws.model_dir).experiments)


def analysis(results: Any, name: str) -> dict[str, Any]:
    """The report (`opsfin experiment analyze NAME`'s JSON) and, per metric, the window's rows of the treated
    units and the controls: cached per warehouse load and model files."""

    def compute() -> dict[str, Any]:
        from ..experiments.analysis import window
        from ..runs.experiments import analyze_named, find_experiment, metric_panels
        from ..runs.model import load_catalog
        from ..runs.tables import reading_tables

        report = analyze_named(results.ws, name)
        experiment = find_experiment(results.ws, name)
        units = [*experiment.treated, *report.controls]
        with reading_tables(results.ws) as t:
            panels = metric_panels(t, experiment, load_catalog(results.ws.model_dir))
        series = {m: _unit_rows(window(experiment, rows), units) for m, rows in panels.items()}
        return {"report": report.as_json(), "series": series}

    return results.cache.get(("experiment_page", name), compute)


def _unit_rows(rows: Any, units: list[str]) -> dict[str, list[tuple[dt.date, float | None]]]:
    import polars as pl

    kept = rows.filter(pl.col("unit").is_in(units)).sort("unit", "period_start")
    out: dict[str, list[tuple[dt.date, float | None]]] = {u: [] for u in units}
    for unit, period, value in kept.select("unit", "period_start", "value").iter_rows():
        out[unit].append((period, value))
    return out


def series_chart(metric: str, unit: str, report: dict[str, Any], series: dict[str, list]) -> dict[str, Any]:
    """The metric by month for each treated unit (solid) and each control (dashed), the start marked."""
    treated = set(report["treated"])
    data = []
    for name, points in series.items():
        colour = TREATED if name in treated else CONTROL
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{name} ({'treated' if name in treated else 'control'})",
                "x": [f"{p:%Y-%m}" for p, _ in points],
                "y": [v for _, v in points],
                "line": {"color": colour, "dash": "solid" if name in treated else "dash"},
            }
        )
    start = report["start"]
    marker = {"type": "line", "xref": "x", "x0": start, "x1": start, "yref": "paper", "y0": 0, "y1": 1}
    layout = {
        "title": {"text": f"{metric}: treated and control units, start {start}"},
        "height": 320,
        "margin": {"l": 80, "r": 20, "t": 40, "b": 50},
        "xaxis": {"type": "category", "title": {"text": "month"}},
        "yaxis": {"title": {"text": unit or metric}},
        "legend": {"orientation": "h"},
        "shapes": [marker | {"line": {"color": "#455a64", "dash": "dot"}}],
    }
    return {"data": data, "layout": layout}


@router.get("/experiments", response_class=HTMLResponse)
def experiments_page(request: Request) -> Response:
    grant = page_grant(request, company_level=True)
    view = view_for(request, grant, None, None)
    st = state(request)
    found, file_error = attempt(_experiments, st.ws)
    shown = []
    for experiment in found or []:
        done, error = attempt(analysis, st.results, experiment.name)
        charts = []
        if done is not None:
            for m in done["report"]["metrics"]:
                figure = series_chart(m["metric"], m["unit"], done["report"], done["series"][m["metric"]])
                charts.append({"id": f"series-{experiment.name}-{m['metric']}", "figure": figure})
        shown.append(
            {"experiment": experiment, "report": done["report"] if done else None, "error": error, "charts": charts}
        )
    return render(request, "experiments.html", grant, view, "experiments", experiments=shown, file_error=file_error)
