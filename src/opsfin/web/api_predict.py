"""REST API of predictions (docs/web.md "Predict"): the JSON of `opsfin predict maintenance` and `opsfin predict
defects` (`--format json`), through the same runs-layer calls and the same cache as the Predict page.

A site-scoped caller gets the machines of their sites; the defect drivers are the company's (one model over
every inspection): a 403 for site-scoped callers (web/authz.py `company_level`). The roster is on the page
only (a CP-SAT solve per request): `opsfin plan staffing --format json` gives its JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from . import predict_page as pp
from .api import grant_for, json_rows, optional_day, results
from .problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1/predict", tags=["read"], responses=PROBLEM_RESPONSES)

# empty means "not given" (as the page's form sends it), so the patterns allow the empty string
AsOf = Annotated[str | None, optional_day("YYYY-MM-DD (default: the last day of the machine readings)")]
Horizon = Annotated[
    str | None, Query(json_schema_extra={"pattern": r"^([0-9]{1,2})?$"}, description="days, 1 to 90 (default 14)")
]


@router.get("/maintenance", summary="Machine breakdown risk priced in money (opsfin predict maintenance)")
def predict_maintenance(request: Request, as_of: AsOf = None, horizon_days: Horizon = None) -> Response:
    """`{as_of, horizon_days, machines: [{machine_id, risk, expected_failure_cost, planned_maintenance_cost,
    recommendation, drivers}]}`, machines by expected failure cost, highest first; a site-scoped caller gets
    the machines of their sites. An as-of day outside the machine readings is a 400."""
    grant = grant_for(request)
    form = pp.read_form(results(request), {"as_of": as_of, "horizon_days": horizon_days})
    risk = pp.risk_of(results(request), form)
    site_map = results(request).site_map()
    machines = [m for m in risk["machines"] if grant.sees(site_map.site_of("machine", m["machine_id"]))]
    return json_rows(risk | {"machines": machines})


@router.get("/defects", summary="Quality-defect drivers with their cost (opsfin predict defects)")
def predict_defects(request: Request, as_of: AsOf = None) -> Response:
    """`{from, to, inspections, defects, defect_rate, cost_of_defects, drivers: [{rank, driver, group, meaning,
    worst, where, defects_explained, share_of_defects, cost_explained}]}` from every inspection up to `as_of`
    (`opsfin predict defects --to AS_OF`); company figures: a 403 for site-scoped callers."""
    grant_for(request, company_level=True)
    form = pp.read_form(results(request), {"as_of": as_of})
    return json_rows(pp.defects_of(results(request), form))
