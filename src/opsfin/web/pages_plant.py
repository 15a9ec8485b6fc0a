"""The page `/plant`: what a plant made in a month (docs/web.md "A plant's view"); the figures come from
plant_view.py, which the overview also uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from . import pages, pages_data
from .plant_view import plant_panel, plant_sites

router = APIRouter(include_in_schema=False)


@router.get("/plant", response_class=HTMLResponse)
def plant_page(request: Request, period: str | None = None, site: str | None = None) -> Response:
    """What a plant made in a month (the overview of a plant without sales links here)."""
    grant = pages.page_grant(request)
    results = request.app.state.opsfin.results
    view = pages_data.make_view(results, grant, period, site)
    panel: dict[str, Any] = {"sites": [], "rows": []}
    if plant_sites(grant, view):
        panel = plant_panel(results, grant, view, pages_data.variances(results, grant, view))
    return pages.render(request, "plant_costs.html", grant, view, "overview", plant=panel)
