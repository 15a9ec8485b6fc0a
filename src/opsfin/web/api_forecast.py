"""REST API of forecast accuracy (`GET /api/v1/forecast/accuracy`): the JSON of `opsfin forecast accuracy
--format json`, limited to the caller's site scope (docs/forecasting.md "Accuracy and backtests")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..present.forecast_rows import accuracy_json
from .api import Site, grant_for, json_rows, name_query, results
from .problems import PROBLEM_RESPONSES

# a version's name (runs/forecast.py VERSION_NAME), or empty for "not given"
VERSION = r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)?$"

router = APIRouter(prefix="/api/v1", tags=["read"], responses=PROBLEM_RESPONSES)


@router.get("/forecast/accuracy", summary="How stored demand forecasts did against the actuals since")
def forecast_accuracy(
    request: Request,
    version: Annotated[str | None, name_query("one stored version (default, or empty: every one)", VERSION)] = None,
    site: Site = None,
) -> Response:
    """`{versions, rows, notes}`: WAPE, MASE, bias, P10–P90 coverage and FVA per version, level and months
    ahead (`months_ahead` null: every month ahead). Site-scoped users, or `site=`, get the members of their
    sites only (the site and product × site levels)."""
    from ..runs.forecast_accuracy import accuracy_report

    grant = grant_for(request)
    sites = grant.site_filter([site] if site else None)
    cache = results(request).cache
    key = ("forecast_accuracy", version or None, tuple(sites) if sites is not None else None)
    report = cache.get(key, lambda: accuracy_report(results(request).ws, version or None, sites))
    return json_rows(accuracy_json(report))
