"""The Investments page (`/investments`); docs/web.md "Investments".

The cases of `model/investments.yaml` ranked by NPV with their IRRs, paybacks and profitability index at
the rate of the form (`rate`, the file's `discount_rate` without it), each case's cash-flow chart, the
portfolio chosen within the yearly budgets of the form (`budget=2026:500000,…`) beside the greedy ranking
by profitability index, and each reviewed case's promise against its realised effect. A form adds or edits
a case (`POST /investments`): CSRF checked, controllers and admins who see every site, the investments
parser's message on a refusal with the file untouched (web/invest_page.py). Cash flows are the company's:
site-scoped users are refused, as on the Cash page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import UserError, api_name
from . import invest_page as ip
from .auth import identify
from .pages import page_grant, render, state, view_for
from .pages_data import attempt
from .pages_scenarios import check_editor, may_edit
from .problems import Problem

router = APIRouter(include_in_schema=False)
FormList = Annotated[list[str], Form()]
WHO_EDITS = "controllers and admins who see every site edit model/investments.yaml"


def invest_view(
    request: Request,
    rate: str | None = None,
    budget: str | None = None,
    edit: str | None = None,
    status: int = 200,
    error: str | None = None,
    posted: dict[str, Any] | None = None,
    message: str | None = None,
) -> Response:
    grant = page_grant(request, company_level=True)
    view = view_for(request, grant, None, None)
    st = state(request)
    rate = rate.strip() if rate and rate.strip() else None
    cases, cases_error = attempt(ip.evaluated, st.results, rate)
    chosen = chosen_error = None
    if budget and budget.strip() and cases is not None:
        chosen, chosen_error = attempt(ip.portfolio, st.results, budget.strip(), rate)
    reviews = []
    for e in cases or []:
        if e.case.review is not None:
            done, problem = attempt(ip.review, st.results, e.case.name, rate)
            reviews.append({"name": e.case.name, "review": done, "error": problem})
    entries, file_error = attempt(_entries, st.ws)
    if edit and entries is not None and edit not in entries and posted is None:
        raise Problem(404, f"no investment case named {edit!r} in {ip.LABEL}")
    form = posted or ip.form_of(entries.get(edit) if entries and edit else None)
    return render(
        request,
        "invest.html",
        grant,
        view,
        "investments",
        status=status,
        rate=rate or "",
        budget=(budget or "").strip(),
        cases=cases or [],
        cases_error=cases_error or file_error,
        charts={e.case.name: ip.flow_chart(e.case.name, e.flows) for e in cases or []},
        chosen=chosen,
        chosen_error=chosen_error,
        reviews=reviews,
        error=error,
        message=message,
        editable=may_edit(identify(request).user),
        form=form,
    )


def _entries(ws: Any) -> dict[str, dict[str, Any]]:
    from . import scenario_file

    path = ws.model_dir / ip.FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return {str(e.get("name")): e for e in scenario_file.raw_entries(text, ip.KEY, ip.LABEL)}


@router.get("/investments", response_class=HTMLResponse)
def investments_page(
    request: Request,
    rate: str | None = None,
    budget: str | None = None,
    edit: str | None = None,
    saved: str | None = None,
) -> Response:
    message = f"Case {saved} saved to {ip.LABEL}." if saved else None
    return invest_view(request, rate, budget, edit, message=message)


@router.post("/investments")
def investment_save(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    original: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    requires: Annotated[str, Form()] = "",
    excludes: Annotated[str, Form()] = "",
    flow_date: FormList = [],  # noqa: B006 - FastAPI copies defaults
    flow_amount: FormList = [],  # noqa: B006
) -> Response:
    """Add or replace a case (module docstring); a refusal renders the page with the posted form."""
    flows = [{"date": d, "amount": a} for d, a in zip(flow_date, flow_amount, strict=False)]
    posted: dict[str, Any] = {"original": original, "name": name, "owner": owner, "description": description}
    posted |= {"requires": requires, "excludes": excludes, "flows": flows}
    shown = original or None
    caller = identify(request)
    try:
        check_editor(request, caller, csrf_token, "investment cases", WHO_EDITS)
    except Problem as exc:
        if exc.status == 401:
            raise
        return invest_view(request, edit=shown, status=exc.status, error=exc.detail, posted=_shown(posted))
    st = state(request)
    try:
        case = ip.save_case(st.ws, st.app_db(), caller.user, original or None, posted)
    except UserError as exc:
        return invest_view(request, edit=shown, status=400, error=exc.phrase(api_name), posted=_shown(posted))
    except Problem as exc:
        return invest_view(request, status=exc.status, error=exc.detail, posted=_shown(posted))
    st.results.cache.clear()  # this process wrote the file: no need to wait for the next look at it
    return RedirectResponse(f"/investments?saved={quote(case.name)}", status_code=303)


def _shown(posted: dict[str, Any]) -> dict[str, Any]:
    """The posted form as it comes back, with the blank rows to add flows."""
    return posted | {"flows": posted["flows"] + [{"date": "", "amount": ""} for _ in range(ip.BLANK_FLOWS)]}
