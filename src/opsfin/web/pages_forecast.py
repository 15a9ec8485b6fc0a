"""The Forecast page (`/forecast`): a stored demand-forecast version (`version=`, default the newest) drawn
per family and per site — the actual shipments, the forecast (P50) and its P10–P90 band — and its
accuracy so far (docs/forecasting.md "The Forecast page").

Everything comes from `runs/forecast_accuracy.forecast_page`, the reads and the engine call behind
`opsfin forecast accuracy`. Site scope: a user limited to sites, or a view filtered to one site, sees the
series of those sites only; the family series mix every site's shipments, so they are left out then."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..present.forecast_rows import records
from . import charts
from .pages import Period, SiteQ, page_scope, render, state
from .pages_data import attempt
from .problems import Problem

router = APIRouter(include_in_schema=False)

ACCURACY_COLUMNS = ("level", "months_ahead", "points", "wape", "mase", "bias", "coverage", "wape_naive", "fva")


def accuracy_rows(report) -> list[dict[str, Any]]:
    return [{c: r[c] for c in ACCURACY_COLUMNS} for r in records(report.rows)] if report is not None else []


def series_charts(page) -> list[dict[str, Any]]:
    """One Plotly figure per series: `{id, level, key, figure}`."""
    out = []
    for i, s in enumerate(page.series):
        title = f"{s['level'].capitalize()} {s['key']}"
        figure = charts.forecast_band(title, s["actuals"], s["forecast"], unit="units shipped")
        out.append({"id": f"forecast-{i}", "level": s["level"], "key": s["key"], "figure": figure})
    return out


@router.get("/forecast", response_class=HTMLResponse)
def forecast_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    version: Annotated[str | None, Query(description="a stored forecast version")] = None,
) -> Response:
    from ..runs.forecast_accuracy import forecast_page as read_page
    from ..runs.forecast_accuracy import stored_versions

    grant, view, sites = page_scope(request, period, site)
    results = state(request).results
    ws = results.ws
    # a new version is a load (runs/forecast.py writes `loads` rows), so the cache empties with it
    stored = results.cache.get(("forecast_versions",), lambda: stored_versions(ws))
    if version and version not in set(stored["version"]):
        names = ", ".join(stored["version"]) or "none is stored yet"
        raise Problem(400, f"version {version!r}: unknown forecast version; stored versions: {names}")
    key = ("forecast_page", version or None, tuple(sites) if sites is not None else None)
    page, error = attempt(results.cache.get, key, lambda: read_page(ws, version or None, sites))
    return render(
        request,
        "forecast.html",
        grant,
        view,
        "forecast",
        page=page,
        error=error,
        charts=series_charts(page) if page else [],
        accuracy=accuracy_rows(page.accuracy) if page else [],
        notes=page.accuracy.notes if page and page.accuracy else [],
        families_hidden=sites is not None,
        latest_month=view.months[-1].strftime("%Y-%m") if view.months else "YYYY-MM",
    )
