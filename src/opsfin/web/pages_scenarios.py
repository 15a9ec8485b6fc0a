"""The Scenarios page (`/scenarios`, `/scenarios/{name}`) and the driver tornado (`/drivers`); docs/web.md
"Scenarios".

The list of `model/scenarios.yaml` with each scenario's base and shocks; one scenario's run against its base
(a waterfall from the base's operating income to the scenario's, the cash curves, the lost sales), its
simulation on request (`draws`, `seed`: the fan charts and breach probabilities) and a form to build or
edit a scenario. The form (`POST /scenarios`) checks the CSRF token, lets controllers and admins who see
every site write (the file covers every site), validates through the scenario engine's parser and the
warehouse's member check, and writes the file atomically with an audit entry (web/scenario_file.py). A
refusal comes back as the page with the message and the posted values, never a traceback."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import UserError, api_name
from ..present.labels import label
from . import charts, scenario_file
from . import scenario_page as sp
from .auth import check_csrf, identify
from .authz import authorize, can
from .pages import Period, SiteQ, page_grant, page_scope, render, state, view_for
from .pages_data import attempt
from .problems import Problem

router = APIRouter(include_in_schema=False)
EDIT_PERMISSION = "edit_guardrails"  # the model files' editors (docs/web.md "Roles and site scope")
FormList = Annotated[list[str], Form()]
WHO_EDITS = "controllers and admins who see every site edit model/scenarios.yaml (it covers every site)"
MEASURES = {"operating_income": "operating income", "cash": "month-end cash"}


def may_edit(user: Any) -> bool:
    """Controllers and admins without a site scope: the file's scenarios cover every site."""
    return can(user, EDIT_PERMISSION) and getattr(user, "sites", None) is None


def editor_refusal(request: Request, csrf_token: str, what: str, who_edits: str) -> tuple[Any, Problem | None]:
    """The caller, and why its save of a model file is refused (None: it may save), for the page to show
    with the posted form: 403 if `may_edit` says no (naming `what` and `who_edits`), then the CSRF check.
    Without a user the 401 is raised (the login redirect, not the form)."""
    caller = identify(request)
    try:
        authorize(caller.user, "read")
        if not may_edit(caller.user):
            role = getattr(caller.user, "role", "")
            raise Problem(403, f"{role} {caller.user.name} may not edit {what}: {who_edits}")
        check_csrf(request, caller, csrf_token)
    except Problem as exc:
        if exc.status == 401:
            raise
        return caller, exc
    return caller, None


def _scenarios(request: Request) -> tuple[Any, str | None]:
    from ..runs.scenarios import load_scenarios

    return attempt(load_scenarios, state(request).ws.model_dir)


def base_choices(request: Request) -> list[str]:
    """The plan versions a scenario may start from: those with volume_plan rows (as `scenario check`)."""
    from ..runs.plan_versions import list_versions

    st = state(request)
    return [v["name"] for v in list_versions(st.ws, st.app_db()) if "volume_plan" in v["tables"]]


def scenarios_view(
    request: Request,
    name: str | None,
    period: str | None,
    site: str | None,
    status: int = 200,
    error: str | None = None,
    posted: dict[str, Any] | None = None,
    simulate: tuple[str | None, str | None] | None = None,
    message: str | None = None,
) -> Response:
    grant, view, sites = page_scope(request, period, site)
    found, file_error = _scenarios(request)
    scenario = found.get(name) if found and name else None
    if name and found is not None and scenario is None and posted is None:
        raise Problem(404, f"no scenario named {name!r} in model/scenarios.yaml")
    results = state(request).results
    figures = run_error = sim = sim_error = None
    if scenario is not None:
        report, run_error = attempt(sp.run_report, results, scenario)
        figures = sp.run_figures(report, sites) if report is not None else None
        if simulate is not None and sites is None and report is not None:
            sim, sim_error = attempt(_simulate, results, scenario.name, simulate, report)
    return render(
        request,
        "scenarios.html",
        grant,
        view,
        "scenarios",
        status=status,
        scenarios=found.scenarios if found else [],
        file_error=file_error,
        current=scenario,
        figures=figures,
        run_error=run_error,
        waterfall=_waterfall(figures),
        cash_chart=_cash_chart(figures),
        sim=sim,
        sim_error=sim_error,
        draws=(simulate or (None, None))[0] or sp.WEB_DRAWS,
        seed=(simulate or (None, None))[1] or 0,
        error=error,
        message=message,
        editable=may_edit(identify(request).user),
        form=posted or _form_of(scenario),
        bases=base_choices(request),
        kinds=sp.KINDS,
        dims=sp.SCOPE_DIMS,
        scope_keys=sp.SCOPE_KEYS,
        units=sp.size_units(),
        company_hidden=sites is not None,
    )


def _form_of(scenario: Any) -> dict[str, Any]:
    if scenario is None:
        return {"original": "", "name": "", "base": "", "description": "", "rows": sp.form_rows(None)}
    return {
        "original": scenario.name,
        "name": scenario.name,
        "base": scenario.base,
        "description": scenario.description or "",
        "rows": sp.form_rows(scenario),
    }


def _simulate(results: Any, name: str, asked: tuple[str | None, str | None], report: Any) -> dict[str, Any]:
    draws, seed = sp.draws_and_seed(*asked)
    done = sp.simulation(results, name, draws, seed)
    fans = sp.fan_rows(done, report)
    figures = []
    for measure, rows in fans.items():
        title = f"{label(measure)} · P10–P90 of {draws:,} draws"
        figure = charts.forecast_band(title, rows["run"], rows["band"], unit="base currency")
        figure["data"][2]["name"], figure["data"][3]["name"] = "P50", "scenario run (no draw)"
        figures.append({"id": f"fan-{measure}", "figure": figure})
    return {"result": done, "charts": figures, "months": done.simulation.months.to_dicts()}


def _waterfall(figures: Any) -> dict[str, Any] | None:
    if figures is None:
        return None
    return charts.waterfall(
        f"Operating income: {figures.base} → {figures.scenario}", sp.bridge_steps(figures), "base currency"
    )


def _cash_chart(figures: Any) -> dict[str, Any] | None:
    if figures is None or not figures.cash:
        return None
    return charts.lines("Month-end cash", sp.cash_series(figures), unit="base currency")


@router.get("/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, period: Period = None, site: SiteQ = None) -> Response:
    return scenarios_view(request, None, period, site)


@router.get("/scenarios/{name}", response_class=HTMLResponse)
def scenario_page(
    request: Request,
    name: str,
    period: Period = None,
    site: SiteQ = None,
    draws: str | None = None,
    seed: str | None = None,
    simulate: str | None = None,
    saved: str | None = None,
) -> Response:
    asked = (draws, seed) if simulate else None
    message = f"Scenario {name} saved to model/scenarios.yaml." if saved else None
    return scenarios_view(request, name, period, site, simulate=asked, message=message)


@router.post("/scenarios")
def scenario_save(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    original: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    base: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    kind: FormList = [],  # noqa: B006 - FastAPI copies defaults
    dim_a: FormList = [],  # noqa: B006
    members_a: FormList = [],  # noqa: B006
    dim_b: FormList = [],  # noqa: B006
    members_b: FormList = [],  # noqa: B006
    start: FormList = [],  # noqa: B006
    end: FormList = [],  # noqa: B006
    size: FormList = [],  # noqa: B006
) -> Response:
    """Add or replace a scenario (module docstring); a refusal renders the page with the posted form."""
    fields = {"kind": kind, "dim_a": dim_a, "members_a": members_a, "dim_b": dim_b, "members_b": members_b}
    rows = sp.posted_rows(fields | {"start": start, "end": end, "size": size})
    posted: dict[str, Any] = {"original": original, "name": name, "base": base, "description": description}
    posted["rows"] = rows + [sp.blank_row() for _ in range(sp.BLANK_ROWS)]
    shown = original or None
    caller, refused = editor_refusal(request, csrf_token, "scenarios", WHO_EDITS)
    if refused is not None:
        return scenarios_view(request, shown, None, None, status=refused.status, error=refused.detail, posted=posted)
    st = state(request)
    bases = base_choices(request)

    def check(scenario: Any) -> None:
        from ..runs.scenarios import check_members
        from ..runs.tables import reading_tables
        from ..scenarios.config import ScenarioFile

        if scenario.base not in bases:
            choices = ", ".join(bases) or "none: build one with opsfin plan build"
            raise UserError(f"base {scenario.base!r} has no volume_plan rows; choose one of {choices}")
        with reading_tables(st.ws) as t:
            check_members(t, ScenarioFile(scenarios=[scenario]))

    try:
        entry = sp.entry_from_form(name, base, description, rows)
        if original and entry["name"] != original and entry["name"] in _names(request):
            raise UserError(f"a scenario named {entry['name']!r} exists already; choose another name")
        saved = scenario_file.save_scenario(st.ws, st.app_db(), caller.user, original or None, entry, check)
    except UserError as exc:
        return scenarios_view(request, shown, None, None, status=400, error=exc.phrase(api_name), posted=posted)
    except Problem as exc:
        return scenarios_view(request, None, None, None, status=exc.status, error=exc.detail, posted=posted)
    st.results.cache.clear()  # this process wrote the file: no need to wait for the next look at it
    return RedirectResponse(f"/scenarios/{quote(saved.name)}?saved=1", status_code=303)


def _names(request: Request) -> set[str]:
    found, _ = _scenarios(request)
    return {s.name for s in found.scenarios} if found else set()


@router.get("/drivers", response_class=HTMLResponse)
def drivers_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    measure: str = "operating_income",
    compute: str | None = None,
) -> Response:
    """The driver tornado (`opsfin drivers`' sensitivities ranked): company figures, so site-scoped users
    are refused. The tree costs a plan build per driver, so it is computed when asked (or once cached)."""
    grant = page_grant(request, company_level=True)
    view = view_for(request, grant, period, site)
    if measure not in MEASURES:
        raise Problem(400, f"measure {measure!r}: choose one of {', '.join(MEASURES)}")
    results = state(request).results
    report = error = None
    if compute or sp.driver_ready(results, period):
        report, error = attempt(sp.driver_nodes, results, period)
    rows = sp.tornado_rows(report, measure) if report is not None else []
    chart = None
    if rows:
        labels = [r["label"] for r in rows]
        title = f"Drivers ranked by their effect on {MEASURES[measure]} (sensitivity × typical change)"
        chart = charts.bars(title, labels, [r["impact"] for r in rows], [""] * len(rows), unit="base currency")
    return render(
        request,
        "drivers.html",
        grant,
        view,
        "scenarios",
        report=report,
        rows=rows,
        chart=chart,
        error=error,
        measure=measure,
        measures=MEASURES,
        asked_period=period,
    )
