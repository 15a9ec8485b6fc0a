"""Server-rendered pages (Jinja2 + Plotly). Each page authenticates, calls `authz.authorize`, and shows
what pages_data.py gathered for the caller's grant and the URL's filters (`period`, `site`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from ..appdb.records import ACTION_STATUSES, OPEN_STATUSES
from ..canonical.tables import TABLES as CANONICAL_TABLES
from ..jsonout import json_default
from ..present.formatters import format_value, format_with_unit, kind_of_unit
from ..present.kpi_figures import bound_input, bound_suffix
from ..present.labels import label
from ..present.units import value_kind
from . import downloads, guardrails, pages_data, queries, subjects
from .api_collab import ActionId
from .auth import identify
from .authz import Grant, authorize, can
from .names import member_name, name_of
from .problems import Problem

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

NAV = (
    ("overview", "/", "Overview"),
    ("operations", "/operations", "Operations"),
    ("unit_economics", "/unit-economics", "Unit economics"),
    ("variances", "/variances", "Variances"),
    ("forecast", "/forecast", "Forecast"),
    ("alerts", "/alerts", "Alerts"),
    ("actions", "/actions", "Actions"),
    ("data", "/data", "Data"),
)


# ---------------------------------------------------------------- template helpers
def money(x: Any) -> str:
    """An amount: thousands separators, cents (every place an exact Decimal has); docs/presentation.md."""
    return format_value(x, "money")


def number(x: Any, unit: str = "") -> str:
    """A number as a person reads it, in the kind its KPI catalog unit says (`ratio` → 47.9%), else the
    kind its type says: an exact Decimal keeps every digit it has (a unit price of 4 places is not rounded
    to cents), an integer gets thousands separators (docs/presentation.md)."""
    if isinstance(x, bool):
        return str(x)
    return format_value(x, kind_of_unit(unit) if unit else value_kind(x))


def cell(x: Any) -> str:
    if isinstance(x, dt.datetime | dt.date):
        return x.isoformat(sep=" ", timespec="seconds") if isinstance(x, dt.datetime) else x.isoformat()
    if isinstance(x, dict | list):
        return json.dumps(x, default=json_default, ensure_ascii=False)
    return number(x)


def chart_json(figure: dict | None) -> Markup:
    return Markup(json.dumps(figure, default=json_default).replace("</", "<\\/")) if figure else Markup("null")


def band_value(bound: Any, unit: str) -> str:
    """A guardrail bound as the tile writes its KPI (`33.0%`, `55.0 days`); '' for an open side."""
    return format_with_unit(bound, unit) if isinstance(bound, int | float) else ""


templates.env.filters.update(money=money, number=number, cell=cell, chart=chart_json, label=label)
templates.env.filters.update(band_value=band_value, bound_input=bound_input, bound_suffix=bound_suffix)
templates.env.filters.update(member_name=member_name, name_of=name_of)
templates.env.globals.update(can=can)


# ---------------------------------------------------------------- page frame
def page_grant(request: Request, permission: str = "read", **kw) -> Grant:
    return authorize(identify(request).user, permission, **kw)


def state(request: Request):
    return request.app.state.opsfin


def render(
    request: Request,
    template: str,
    grant: Grant,
    view: pages_data.View | None,
    active: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    caller = identify(request)
    sites = state(request).results.site_map().sites
    visible = {s: n for s, n in sites.items() if grant.sees(s)}
    base = {
        "user": caller.user,
        "grant": grant,
        "view": view,
        "active": active,
        "nav": NAV,
        "csrf": caller.csrf_token,
        "site_names": visible,
        "all_site_names": sites,
        "company": state(request).ws.settings.company,
        "base_currency": state(request).ws.settings.base_currency,
        "path": request.url.path,
    }
    if status == 200 and downloads.wants_file(template, request.query_params):  # a table as CSV or xlsx
        # the page's table as a file: a download, not HTML, on the page's own URL (downloads.py)
        return downloads.file_response(template, request.query_params, base | context)  # type: ignore[return-value]
    return templates.TemplateResponse(request, template, base | context, status_code=status)


SECTIONS = {"/kpis/": "overview", "/plans": "plan", "/reconciliation": "reconciliation", "/admin": "admin"}
SECTIONS |= {"/scenarios": "scenarios", "/drivers": "scenarios"}  # pages_scenarios.py
SECTIONS |= {"/predict": "predict"}  # pages_predict.py
SECTIONS |= {"/investments": "investments", "/experiments": "experiments"}  # pages_invest.py, pages_experiments.py


def section_of(path: str) -> str:
    """The navigation entry a path belongs to (`/variances/rows` → variances), '' for none: an error page
    keeps its place in the navigation."""
    for prefix, key in SECTIONS.items():
        if path.startswith(prefix):
            return key
    return next((key for key, href, _ in NAV if href != "/" and path.startswith(href)), "")


def error_page(request: Request, problem: Problem) -> Response:
    """The error state of a page: 401 goes to the login form; other problems render with their status."""
    if problem.status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    caller = getattr(request.state, "caller", None)
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "problem": problem,
            "user": caller.user if caller else None,
            "nav": NAV,
            "active": section_of(request.url.path),
            "csrf": caller.csrf_token if caller else None,
            "view": None,
            "site_names": {},
            "company": "opsfin",
            "path": request.url.path,
        },
        status_code=problem.status,
        headers=problem.headers,
    )


COMMENTS_SHOWN = 50


class Comments(list):
    """The latest comments of a subject (oldest first), remembering how many there are in all."""

    total: int = 0


def latest(rows: list[dict]) -> Comments:
    shown = Comments(rows[-COMMENTS_SHOWN:])
    shown.total = len(rows)
    return shown


def subject_comments(request: Request, grant: Grant, subject_type: str, subject_id: str) -> Comments:
    return latest(queries.visible_comments(grant, state(request).app_db().list_comments(subject_type, subject_id)))


Period = Annotated[str | None, Query(description="YYYY-MM")]
SiteQ = Annotated[str | None, Query()]


def view_for(request: Request, grant: Grant, period: str | None, site: str | None) -> pages_data.View:
    return pages_data.make_view(state(request).results, grant, period, site)


def page_scope(
    request: Request, period: str | None, site: str | None, **kw
) -> tuple[Grant, pages_data.View, list[str] | None]:
    """A page of sites' figures: the caller's grant (`page_grant(request, **kw)`), the URL's view and the
    sites it shows (`Grant.site_filter`: None for every site)."""
    grant = page_grant(request, **kw)
    view = view_for(request, grant, period, site)
    return grant, view, grant.site_filter([view.site] if view.site else None)


# ---------------------------------------------------------------- pages
@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, period: Period = None, site: SiteQ = None) -> Response:
    grant = page_grant(request)
    results = state(request).results
    with results.overview_held():  # cold, its filters, alerts and tiles read the warehouse some forty times
        view = view_for(request, grant, period, site)
        data = pages_data.overview(results, grant, view, state(request).app_db())
    return render(request, "overview.html", grant, view, "overview", **data)


@router.get("/kpis/{kpi}", response_class=HTMLResponse)
def kpi_page(
    request: Request,
    kpi: str,
    period: Period = None,
    site: SiteQ = None,
    by: str | None = None,
    where: Annotated[list[str] | None, Query()] = None,
) -> Response:
    definition = queries.kpi_definition(state(request).results, kpi)
    grant = page_grant(request, company_level="site" not in definition.dims)
    view = view_for(request, grant, period, site)
    data = pages_data.kpi_detail(state(request).results, grant, view, kpi, by or None, queries.parse_where(where))
    comment_site = view.site or (sorted(grant.sites)[0] if grant.sites and len(grant.sites) == 1 else None)
    if comment_site and "site" not in data["kpi"].dims:
        comment_site = None
    comments = subject_comments(request, grant, "kpi", kpi)
    bands = guardrails.list_guardrails(state(request).ws, grant, kpi, state(request).results.catalog())
    return render(
        request,
        "kpi.html",
        grant,
        view,
        "overview",
        comments=comments,
        comment_site=comment_site,
        guardrails=bands,
        where_items=[f"{d}={','.join(v)}" for d, v in data["where"].items()],
        **data,
    )


@router.get("/operations", response_class=HTMLResponse)
def operations_page(request: Request, period: Period = None, site: SiteQ = None) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    return render(
        request,
        "operations.html",
        grant,
        view,
        "operations",
        **pages_data.operations(state(request).results, grant, view),
    )


@router.get("/unit-economics", response_class=HTMLResponse)
def unit_economics_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    by: str = "product",
    product: str | None = None,
) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    data = pages_data.unit_economics(state(request).results, grant, view, by, product)
    return render(
        request,
        "unit_economics.html",
        grant,
        view,
        "unit_economics",
        by=by,
        product=product,
        **data,
    )


@router.get("/variances", response_class=HTMLResponse)
def variances_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    category: str | None = None,
    by: str | None = None,
) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    data = pages_data.variances(state(request).results, grant, view, category or None, by or None)
    subject_id = subjects.variance_subject_id(view.month, category) if category else None
    comments = subject_comments(request, grant, "variance", subject_id) if subject_id else latest([])
    return render(
        request,
        "variances.html",
        grant,
        view,
        "variances",
        comments=comments,
        subject_id=subject_id,
        **data,
    )


@router.get("/variances/rows", response_class=HTMLResponse)
def variance_rows_page(
    request: Request,
    category: str,
    period: Period = None,
    site: SiteQ = None,
    by: str | None = None,
    member: str | None = None,
) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    data = pages_data.variance_source_rows(state(request).results, grant, view, category, by or None, member or None)
    subject_id = subjects.variance_subject_id(view.month, category, by, member)
    comments = subject_comments(request, grant, "variance", subject_id)
    return render(
        request,
        "variance_rows.html",
        grant,
        view,
        "variances",
        category=category,
        by=by,
        member=member,
        subject_id=subject_id,
        comments=comments,
        **data,
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    kpi: str | None = None,
    all: bool = False,
) -> Response:  # noqa: A002
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    rows, error = pages_data.attempt(
        queries.alert_rows, state(request).results, grant, None, None, view.site, kpi or None
    )
    rows = rows or []
    if not all:
        rows = [a for a in rows if pages_data.overlaps(a, view)]
    rows.sort(key=lambda a: (pages_data.SEVERITY_ORDER.get(a["severity"], 9), a["period_start"]))
    db = state(request).app_db()
    comments = db.list_comments("alert")
    counts: dict[str, int] = {}
    for c in queries.visible_comments(grant, comments):
        counts[c["subject_id"]] = counts.get(c["subject_id"], 0) + 1
    actions: dict[str, int] = {}
    for a in queries.visible_actions(grant, db.list_actions()):
        if a.get("subject_type") == "alert":
            actions[a["subject_id"]] = actions.get(a["subject_id"], 0) + 1
    return render(
        request,
        "alerts.html",
        grant,
        view,
        "alerts",
        alerts=rows,
        error=error,
        show_all=all,
        kpi=kpi,
        comment_counts=counts,
        action_counts=actions,
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: str, period: Period = None, site: SiteQ = None) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    alert = queries.find_alert(state(request).results, grant, alert_id)
    db = state(request).app_db()
    subject_id = f"alert:{alert_id}"
    comments = subject_comments(request, grant, "alert", subject_id)
    actions = [a for a in queries.visible_actions(grant, db.list_actions()) if a.get("subject_id") == subject_id]
    kpi = state(request).results.catalog().get(alert["kpi"])
    where = [f"{d}={v}" for d, v in alert["scope"].items()]
    kpi_url = pages_data.link(f"/kpis/{alert['kpi']}", view, where=where)
    return render(
        request,
        "alert.html",
        grant,
        view,
        "alerts",
        alert=alert,
        kpi=kpi,
        comments=comments,
        actions=actions,
        subject_id=subject_id,
        kpi_url=kpi_url,
        action_site=alert["sites"][0] if len(alert["sites"]) == 1 else None,
    )


@router.get("/actions", response_class=HTMLResponse)
def actions_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    status: str | None = None,
    overdue: bool = False,
) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    db = state(request).app_db()
    if status and status not in ACTION_STATUSES:
        raise Problem(
            400,
            f"status {status!r}: choose {', '.join(ACTION_STATUSES[:-1])} or {ACTION_STATUSES[-1]}",
        )
    today = dt.date.today()
    listed = db.overdue_actions(today) if overdue else db.list_actions(status or None)
    rows = queries.visible_actions(grant, listed)
    if overdue and status:
        rows = [a for a in rows if a["status"] == status]
    if view.site:
        rows = [a for a in rows if a.get("site") == view.site]
    for a in rows:
        a["overdue"] = a["status"] in OPEN_STATUSES and a["due"] < today
        a["subject_url"] = subject_url(a, view)
    return render(
        request,
        "actions.html",
        grant,
        view,
        "actions",
        actions=rows,
        status_filter=status,
        overdue_only=overdue,
    )


def subject_url(item: dict, view: pages_data.View | None = None) -> str | None:
    """The page of what a comment or action is about, keeping the view's filters (the subject's own period
    and site win: a variance of 2024-03 opens 2024-03)."""
    url = _subject_path(item)
    if url is None or view is None:
        return url
    path, _, query = url.partition("?")
    own = dict(parse_qsl(query))
    keep = {k: v for k, v in (("period", view.month), ("site", view.site)) if v and k not in own}
    return f"{path}?{urlencode(own | keep)}" if own or keep else path


def _subject_path(item: dict) -> str | None:
    kind, sid = item.get("subject_type"), item.get("subject_id")
    if not kind or not sid:
        return None
    if kind == "alert":
        return f"/alerts/{sid.split(':', 1)[1]}"
    if kind == "variance":
        parts = sid.split(":")
        url = f"/variances?period={parts[1]}&category={parts[2]}" if len(parts) >= 3 else "/variances"
        if len(parts) >= 4 and "=" in parts[3]:
            dim, member = parts[3].split("=", 1)
            url = f"/variances/rows?period={parts[1]}&category={parts[2]}&by={dim}&member={quote(member)}"
        return url
    if kind == "kpi":
        return f"/kpis/{sid}" + (f"?site={item['site']}" if item.get("site") else "")
    if kind == "action":
        return f"/actions/{sid.split(':', 1)[1]}"
    return None


@router.get("/actions/{action_id}", response_class=HTMLResponse)
def action_page(request: Request, action_id: ActionId, period: Period = None, site: SiteQ = None) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    db = state(request).app_db()
    action = db.get_action(action_id)
    if action is None:
        raise Problem(404, f"no action {action_id}")
    authorize(grant.user, "read", site=action.get("site"))
    subject_id = f"action:{action_id}"
    comments = subject_comments(request, grant, "action", subject_id)
    return render(
        request,
        "action.html",
        grant,
        view,
        "actions",
        action=action,
        comments=comments,
        subject_id=subject_id,
        subject_link=subject_url(action, view),
    )


@router.get("/data", response_class=HTMLResponse)
def data_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    load: str | None = None,
    table: str | None = None,
    uploaded: str | None = None,
) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    results = state(request).results
    loads, loads_error = pages_data.attempt(queries.load_rows, results, grant)
    # when the data were last refreshed: a time, not a row, so a site-scoped user sees it too
    finished = [r["finished_at"] for r in results.loads() if r.get("finished_at") is not None]
    rows, q_error = pages_data.attempt(queries.quarantine_rows, results, grant, load or None, table or None, view.site)
    return render(
        request,
        "data.html",
        grant,
        view,
        "data",
        loads=loads or [],
        loads_error=loads_error,
        latest_load=max(finished) if finished else None,
        quarantine=(rows or [])[:500],
        all_quarantine=rows or [],
        quarantine_count=len(rows or []),
        quarantine_error=q_error,
        load=load,
        table=table,
        uploaded=[r for r in loads or [] if r["load_id"] == uploaded] if uploaded else [],
        tables=[t.name for t in CANONICAL_TABLES if t.group != "system"],
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, period: Period = None, site: SiteQ = None) -> Response:
    grant = page_grant(request, "manage_users")
    return admin_view(request, grant, view_for(request, grant, period, site))


def admin_view(
    request: Request,
    grant: Grant,
    view,
    new_token: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The admin page; after `POST /admin/tokens` it shows the new token once (it is never stored)."""
    db = state(request).app_db()
    return render(
        request,
        "admin.html",
        grant,
        view,
        "admin",
        status=status,
        here=f"/admin?{view.query()}",
        users=db.list_users(),
        tokens=db.list_tokens(),
        audit=db.audit_entries(limit=25),
        new_token=new_token,
        message=message,
        roles=("admin", "controller", "analyst", "viewer"),
    )


def comment_subject(request: Request, subject_type: str, subject_id: str, site: str | None = None):
    """For forms: resolve a subject (pages_forms.py)."""
    return subjects.resolve(state(request).results, state(request).app_db(), subject_type, subject_id, site)
