"""REST API: the scenarios of `model/scenarios.yaml` (`/api/v1/scenarios`; docs/web.md "Scenarios").

Reads only: the list, a scenario's run against its base (`opsfin scenario run --format json`, not stored) and
its simulation (`opsfin scenario simulate --format json`). A site-scoped caller gets the P&L and capacity
rows of their sites, and `cash` and `lost_sales` as null (company figures); the simulation is the company's,
so it is refused to them (403). Scenarios are edited on the page (`POST /scenarios`) or in the file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from .api import NAME, json_rows
from .auth import identify
from .authz import authorize
from .pages_data import attempt
from .problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/api/v1", tags=["scenarios"], responses=PROBLEM_RESPONSES)
ScenarioName = Annotated[
    str, Path(min_length=1, max_length=100, pattern=NAME, description="the scenario's name in model/scenarios.yaml")
]


def _scenario(request: Request, name: str) -> Any:
    from ..runs.scenarios import load_scenarios

    found, error = attempt(load_scenarios, request.app.state.opsfin.ws.model_dir)
    if error is not None:
        raise Problem(400, error)
    scenario = found.get(name)
    if scenario is None:
        raise Problem(404, f"no scenario named {name!r} in model/scenarios.yaml")
    return scenario


@router.get("/scenarios", summary="The scenarios of model/scenarios.yaml with their base and shocks")
def list_scenarios(request: Request) -> Response:
    from ..runs.scenarios import load_scenarios

    authorize(identify(request).user, "read")
    found, error = attempt(load_scenarios, request.app.state.opsfin.ws.model_dir)
    if error is not None:
        raise Problem(400, error)
    return json_rows([s.model_dump(mode="json", exclude_none=True) for s in found.scenarios])


@router.get("/scenarios/{name}/run", summary="A scenario against its base, as `opsfin scenario run` (not stored)")
def run_scenario(request: Request, name: ScenarioName) -> Response:
    from . import scenario_page as sp

    grant = authorize(identify(request).user, "read")
    scenario = _scenario(request, name)
    report, error = attempt(sp.run_report, request.app.state.opsfin.results, scenario)
    if error is not None:
        raise Problem(400, error)
    data = report.as_json()
    if grant.scoped:
        sites = sorted(grant.sites or ())
        site_of = request.app.state.opsfin.results.site_map().members.get("work_center", {})
        data["pnl"] = [r for r in data["pnl"] if r["site_id"] in sites]
        centres = {wc for wc, site in site_of.items() if site in sites}
        data["capacity"] = [r for r in data["capacity"] if r["work_center_id"] in centres]
        data["cash"] = data["lost_sales"] = None
    return json_rows(data)


@router.get(
    "/scenarios/{name}/simulate", summary="Monte Carlo draws of a scenario, as `opsfin scenario simulate` (company)"
)
def simulate_scenario(
    request: Request,
    name: ScenarioName,
    draws: Annotated[int, Query(ge=1, le=10000, description="number of draws (1,000 by default)")] = 1000,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1, description="the random generator's seed")] = 0,
) -> Response:
    from . import scenario_page as sp

    authorize(identify(request).user, "read", company_level=True)
    scenario = _scenario(request, name)
    done, error = attempt(sp.simulation, request.app.state.opsfin.results, scenario.name, draws, seed)
    if error is not None:
        raise Problem(400, error)
    return json_rows(done.as_json())
