"""The Plan page (`/plan`, `/plan/{name}`; docs/web.md "Plan"): the plan versions with the approval steps
the caller may take, and for one version its P&L against the budget, the actuals and the latest rolling
forecast (with the demand forecast's P10–P90 band on units shipped), the projected utilization of each work
centre by month, and the balances and cash.

The forms (`POST /plan/{name}/submit|approve|reject|archive`) check the CSRF token and take the step through
the app database as the API does (web/api_plans.py): the same rules, the same audit entries. A refusal is
shown on the page with its status (403 who may not, 409 the status does not allow it), never a traceback."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..appdb.errors import AppDbError
from ..appdb.plans import PlanConflict, PlanNotFound, PlanRefused
from . import charts
from .api import VersionName
from .auth import check_csrf, identify
from .authz import authorize
from .pages import Period, SiteQ, page_scope, render, state
from .pages_data import attempt
from .plan_files import plan_file_links
from .plan_page import CHART_LINES, allowed_steps, default_version, overloads, plan_figures
from .problems import Problem

router = APIRouter(include_in_schema=False)

# step -> (the permission of web/authz.py, the app database's method, what the page says after it)
STEPS = {
    "submit": ("submit_plans", "submit_plan_version", "submitted"),
    "approve": ("approve_plans", "approve_plan_version", "approved"),
    "reject": ("approve_plans", "reject_plan_version", "rejected (back to draft)"),
    "archive": ("approve_plans", "archive_plan_version", "archived"),
}
PLAN_LINE_LAYOUT = {
    "height": 360,
    "xaxis": {"type": "category", "categoryorder": "category ascending", "tickangle": -90},
    "legend": {"orientation": "h", "x": 0, "y": -0.42, "yanchor": "top"},
    "margin": {"l": 70, "r": 20, "t": 40, "b": 120},
}
REFUSALS = ((PlanRefused, 403), (PlanNotFound, 404), (PlanConflict, 409), (AppDbError, 400))


def versions_of(request: Request) -> list[dict[str, Any]]:
    """Every version, registered or only in the warehouse (as `opsfin plan list`); the status is read fresh
    from the app database at each request, the warehouse part is small."""
    from ..runs.plan_versions import list_versions

    st = state(request)
    return list_versions(st.ws, st.app_db())


def chart_figures(figures) -> list[dict[str, Any]]:
    """One line chart per P&L line (actual, budget, this version, the latest forecast) and one band chart
    per forecast member (units shipped)."""
    from ..present.labels import label

    out = []
    for line in CHART_LINES:
        series = figures.series.get(line) or {}
        if series:
            figure = charts.lines(label(line), series, unit="base currency")
            figure["layout"] |= PLAN_LINE_LAYOUT  # months on end, the legend below them
            out.append({"id": f"pnl-{line}", "figure": figure})
    for i, member in enumerate(figures.band):
        title = f"Units shipped · {member['key']} · {figures.demand} P10–P90"
        figure = charts.forecast_band(title, member["actuals"], member["forecast"], unit="units shipped")
        out.append({"id": f"band-{i}", "figure": figure})
    return out


def heatmap_figure(figures) -> dict[str, Any] | None:
    capacity = figures.capacity
    if capacity is None or capacity.is_empty():
        return None
    centres = sorted(set(capacity["work_center_id"]))
    months = [f"{m:%Y-%m}" for m in sorted(set(capacity["period"]))]
    values = {
        (wc, f"{p:%Y-%m}"): u for wc, p, u in capacity.select("work_center_id", "period", "utilization").iter_rows()
    }
    return charts.utilization_heatmap("Projected utilization by work centre", centres, months, values)


def plan_view(
    request: Request,
    name: str | None,
    period: str | None,
    site: str | None,
    status: int = 200,
    error: str | None = None,
    message: str | None = None,
) -> Response:
    grant, view, sites = page_scope(request, period, site)
    versions = versions_of(request)
    name = name or default_version(versions)
    by_name = {v["name"]: v for v in versions}
    if name is not None and name not in by_name:
        raise Problem(404, f"no plan version named {name!r}; `opsfin plan list` shows the versions")
    user = identify(request).user
    steps = {v["name"]: allowed_steps(user, v) for v in versions}
    current = by_name.get(name) if name else None
    if message in STEPS and current is not None:  # after a step (`?done=approve`): what it led to, as stored
        who = current.get(f"{STEPS[message][2].split()[0]}_by") or ""
        message = f"Plan version {name} is {current['status']}" + (f" ({STEPS[message][2]} by {who})." if who else ".")
    else:
        message = None
    figures, figures_error = (None, None)
    if current is not None and "plan_pnl" in current["tables"]:
        results = state(request).results
        figures, figures_error = attempt(plan_figures, results, current, versions, sites)
    return render(
        request,
        "plan.html",
        grant,
        view,
        "plan",
        status=status,
        versions=versions,
        steps=steps,
        current=current,
        figures=figures,
        error=error,
        figures_error=figures_error,
        message=message,
        charts=chart_figures(figures) if figures else [],
        heatmap=heatmap_figure(figures) if figures else None,
        overloads=overloads(figures.capacity) if figures else [],
        links=plan_file_links(name) if name else None,
        company_hidden=sites is not None,
    )


@router.get("/plan", response_class=HTMLResponse)
def plan_page(request: Request, period: Period = None, site: SiteQ = None, done: str | None = None) -> Response:
    return plan_view(request, None, period, site, message=done)


@router.get("/plan/{name}", response_class=HTMLResponse)
def plan_version_page(
    request: Request, name: VersionName, period: Period = None, site: SiteQ = None, done: str | None = None
) -> Response:
    return plan_view(request, name, period, site, message=done)


@router.post("/plan/{name}/{step}")
def plan_step_submit(
    request: Request,
    name: VersionName,
    step: str,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str | None, Form()] = None,
) -> Response:
    """Take one approval step as the logged-in user; a refusal renders the page with the reason."""
    if step not in STEPS:
        raise Problem(404, f"no plan step {step!r}; the steps are {', '.join(STEPS)}")
    permission, method, _ = STEPS[step]
    caller = identify(request)
    try:
        authorize(caller.user, permission)
        check_csrf(request, caller, csrf_token)
    except Problem as exc:
        if exc.status == 401:
            raise
        return plan_view(request, name, None, None, status=exc.status, error=exc.detail)
    args = (reason or "",) if step == "reject" else ()
    try:
        getattr(state(request).app_db(), method)(name, caller.user.name, *args)
    except AppDbError as exc:
        status = next(code for kind, code in REFUSALS if isinstance(exc, kind))
        return plan_view(request, name, None, None, status=status, error=str(exc))
    return RedirectResponse(f"/plan/{quote(name)}?done={step}", status_code=303)
