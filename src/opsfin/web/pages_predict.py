"""The Predict page (`/predict`; docs/web.md "Predict"): the machines ranked by breakdown risk with the money
of each (expected failure cost, planned maintenance cost, recommendation), each drillable to its sensor trend
(`/predict/machines/{machine_id}`); the drivers of quality defects with the cost they explain; and, behind a
button (`roster=1`, CP-SAT with a 15 s limit), the staffing roster as a grid by employee and day with its
coverage against demand and its cost against the baseline.

Every input is in the query string (a GET form: nothing is written), so a link shows the same view. A
malformed as-of day or number is a 400 page naming the parameter; an engine refusing the input shows an
error box in that part. What a site-scoped user sees: predict_page.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from . import predict_page as pp
from .pages import Period, SiteQ, page_scope, render, state
from .pages_data import attempt
from .problems import Problem

router = APIRouter(include_in_schema=False)

FORM_FIELDS = ("as_of", "horizon_days", "weeks")


def _setup(request: Request, period: str | None, site: str | None) -> tuple[Any, Any, list[str] | None, Any]:
    """(grant, view, the sites shown — None for all —, the checked form)."""
    grant, view, sites = page_scope(request, period, site)
    query = {k: request.query_params.get(k) for k in FORM_FIELDS}
    return grant, view, sites, pp.read_form(state(request).results, query)


def _roster_part(results: Any, form: pp.PredictForm, site_map: Any, sites: list[str] | None) -> dict[str, Any]:
    roster = pp.roster_of(results, form)
    days = pp.roster_days(roster)
    rows = pp.visible(roster["roster"], sites, lambda r: pp.unit_site(site_map, r["work_center_id"]))
    coverage = pp.visible(roster["coverage"], sites, lambda r: r["site_id"])
    return {
        "result": roster,
        "days": days,
        "grid": pp.roster_grid(rows, days),
        "coverage": pp.coverage_grid(coverage, days),
        "cost": pp.cost_rows(roster),
    }


@router.get("/predict", response_class=HTMLResponse)
def predict_page(request: Request, period: Period = None, site: SiteQ = None) -> Response:
    grant, view, sites, form = _setup(request, period, site)
    results = state(request).results
    site_map = results.site_map()
    risk, risk_error = attempt(pp.risk_of, results, form)
    machines = pp.machine_rows(risk, site_map, sites) if risk else []

    def machine_link(machine_id: str) -> str:
        return f"/predict/machines/{machine_id}?{view.query(**form.params())}"

    defects, defects_error = (None, None)
    if sites is None:  # one model over every inspection: the company's figures
        defects, defects_error = attempt(pp.defects_of, results, form)
    roster, roster_error = (None, None)
    if request.query_params.get("roster"):
        roster, roster_error = attempt(_roster_part, results, form, site_map, sites)
    return render(
        request,
        "predict.html",
        grant,
        view,
        "predict",
        form=form,
        params=form.params(),
        risk=risk,
        risk_error=risk_error,
        machines=machines,
        risk_chart=pp.risk_chart(machines, machine_link) if machines else None,
        machine_link=machine_link,
        defects=defects,
        defects_error=defects_error,
        drivers_chart=pp.drivers_chart(defects["drivers"]) if defects else None,
        roster=roster,
        roster_error=roster_error,
        time_limit=pp.WEB_TIME_LIMIT_S,
        company_view=sites is None,
    )


@router.get("/predict/machines/{machine_id}", response_class=HTMLResponse)
def machine_page(request: Request, machine_id: str, period: Period = None, site: SiteQ = None) -> Response:
    grant, view, sites, form = _setup(request, period, site)
    results = state(request).results
    machine_site = results.site_map().site_of("machine", machine_id)
    if machine_site is None:
        raise Problem(404, f"no machine {machine_id!r}")
    if not grant.sees(machine_site):
        raise Problem(403, f"machine {machine_id} is at site {machine_site}, outside your site scope")
    risk, risk_error = attempt(pp.risk_of, results, form)
    found = [m for m in (risk or {"machines": []})["machines"] if m["machine_id"] == machine_id]
    daily, events = pp.history_of(results, form.as_of)
    trend, marked = pp.sensor_trend(daily, events, machine_id, form.as_of)
    return render(
        request,
        "predict_machine.html",
        grant,
        view,
        "predict",
        form=form,
        params=form.params(),
        machine_id=machine_id,
        machine_site=machine_site,
        machine=found[0] if found else None,
        risk_error=risk_error,
        trend=trend,
        events=marked,
        trend_days=pp.TREND_DAYS,
        back=f"/predict?{view.query(**form.params())}",
    )
