"""The Investments page (`/investments`); docs/web.md "Investments".

The cases of `model/investments.yaml` ranked by NPV with their IRRs, paybacks and profitability index at
the rate of the form (`rate`, the file's `discount_rate` without it), each case's cash-flow chart, the
portfolio chosen within the yearly budgets of the form (`budget=2026:500000,…`) beside the greedy ranking
by profitability index, and each reviewed case's promise against its realised effect. A form adds a case or
edits every field of one (`POST /investments`), a button removes one (`POST /investments/{name}/remove`):
CSRF checked, controllers and admins who see every site (as the Scenarios form), the investments parser's
message on a refusal with the file untouched (web/invest_form.py). Cash flows are the company's:
site-scoped users are refused, as on the Cash page."""

from __future__ import annotations

from itertools import zip_longest
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import UserError, api_name
from . import invest_form as form_io
from . import invest_page as ip
from . import scenario_page as sp
from .auth import identify
from .pages import page_grant, render, state, view_for
from .pages_data import attempt
from .pages_scenarios import base_choices, editor_refusal, may_edit
from .problems import Problem

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form()]  # None: not sent, the case's value kept as written
Rows = Annotated[list[str] | None, Form()]
WHO_EDITS = "controllers and admins who see every site edit model/investments.yaml"
EFFECT_FIELDS = ("kind", "dim_a", "members_a", "dim_b", "members_b", "start", "end", "size")


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
        raise Problem(404, f"no investment case named {edit!r} in {form_io.LABEL}")
    form, form_error = posted, None
    if form is None:  # a case that does not parse on its own is not filled in: its message instead
        found, form_error = attempt(_case_to_edit, entries or {}, edit)
        form = form_io.form_of(found)
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
        form_error=form_error,
        bases=base_choices(request),
        depreciations=form_io.DEPRECIATION,
        kinds=sp.KINDS,
        dims=sp.SCOPE_DIMS,
        units=sp.size_units(),
    )


def _entries(ws: Any) -> dict[str, dict[str, Any]]:
    from . import scenario_file

    text = scenario_file.read_text(ws, form_io.FILE)
    return {str(e.get("name")): e for e in scenario_file.raw_entries(text, form_io.KEY, form_io.LABEL)}


def _case_to_edit(entries: dict[str, dict[str, Any]], edit: str | None) -> Any:
    """The case `?edit=` names, parsed on its own to fill the form (None: a new case)."""
    if not edit or edit not in entries:
        return None
    return form_io.case_alone(entries[edit], list(entries).index(edit))


@router.get("/investments", response_class=HTMLResponse)
def investments_page(
    request: Request,
    rate: str | None = None,
    budget: str | None = None,
    edit: str | None = None,
    saved: str | None = None,
    removed: str | None = None,
) -> Response:
    message = f"Case {saved} saved to {form_io.LABEL}." if saved else None
    message = f"Case {removed} removed from {form_io.LABEL}." if removed else message
    return invest_view(request, rate, budget, edit, message=message)


async def sent_fields(request: Request) -> frozenset[str]:
    """The names of the fields the form sent: FastAPI reads an empty field as one not sent, and the form
    tells them apart (empty: cleared; not sent: kept as written)."""
    return frozenset((await request.form()).keys())


@router.post("/investments")
def investment_save(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    original: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    owner: Field = None,
    description: Field = None,
    life_years: Field = None,
    salvage: Field = None,
    depreciation: Field = None,
    tax_rate: Field = None,
    base: Field = None,
    requires: Field = None,
    excludes: Field = None,
    capex_month: Rows = None,
    capex_amount: Rows = None,
    flow_date: Rows = None,
    flow_amount: Rows = None,
    kind: Rows = None,
    dim_a: Rows = None,
    members_a: Rows = None,
    dim_b: Rows = None,
    members_b: Rows = None,
    start: Rows = None,
    end: Rows = None,
    size: Rows = None,
    sent: Annotated[frozenset[str], Depends(sent_fields)] = frozenset(),
) -> Response:
    """Add or replace a case (module docstring); a refusal renders the page with the posted form."""
    values = {"owner": owner, "description": description, "life_years": life_years, "salvage": salvage}
    values |= {"depreciation": depreciation, "tax_rate": tax_rate, "base": base, "requires": requires}
    values["excludes"] = excludes
    posted: dict[str, Any] = {"original": original, "name": name}
    posted |= {k: v if v is not None else "" if k in sent else None for k, v in values.items()}
    posted["capex"] = _pairs(capex_month, capex_amount, "month")
    posted["flows"] = _pairs(flow_date, flow_amount, "date")
    effects = dict(zip(EFFECT_FIELDS, (kind, dim_a, members_a, dim_b, members_b, start, end, size), strict=True))
    some = any(v is not None for v in effects.values())
    posted["effects"] = sp.posted_rows({k: v or [] for k, v in effects.items()}) if some else None
    return _write(request, csrf_token, original or None, posted)


@router.post("/investments/{name}/remove")
def investment_remove(request: Request, name: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Remove the case `name` (refused with the parser's message when another case requires or excludes it)."""
    return _write(request, csrf_token, name, None)


def _pairs(firsts: list[str] | None, amounts: list[str] | None, first: str) -> list[dict[str, str]] | None:
    """Dated (or monthly) amount rows as posted; None when the form sent neither column."""
    if firsts is None and amounts is None:
        return None
    return [{first: f, "amount": a} for f, a in zip_longest(firsts or [], amounts or [], fillvalue="")]


def _write(request: Request, csrf_token: str, original: str | None, posted: dict[str, Any] | None) -> Response:
    """Save (`posted`) or remove (None) a case; a refusal is the page with the message and the form."""
    shown = form_io.shown(posted) if posted is not None else None
    caller, refused = editor_refusal(request, csrf_token, "investment cases", WHO_EDITS)
    if refused is not None:
        return invest_view(request, edit=original, status=refused.status, error=refused.detail, posted=shown)
    st = state(request)
    try:
        action, case = form_io.save_case(st.ws, st.app_db(), caller.user, original, posted, _checker(request))
    except UserError as exc:
        return invest_view(request, edit=original, status=400, error=exc.phrase(api_name), posted=shown)
    except Problem as exc:
        return invest_view(request, status=exc.status, error=exc.detail, posted=shown)
    st.results.cache.clear()  # this process wrote the file: no need to wait for the next look at it
    if case is None:
        return RedirectResponse(f"/investments?removed={quote(str(original))}", status_code=303)
    return RedirectResponse(f"/investments?saved={quote(case.name)}", status_code=303)


def _checker(request: Request) -> Any:
    """The workspace's checks on a case being saved, beyond the parser's (as `opsfin invest check` and the
    Scenarios form): flows on two dates, and effects on a plan version with volume_plan rows whose scopes
    name members of the warehouse."""
    st = state(request)

    def check(case: Any, number: int) -> None:
        from ..invest.flows import case_flows

        where = f"{form_io.LABEL}: {form_io.KEY}[{number}] ({case.name})"
        if not case.effects:
            if len(case_flows(case)) < 2:
                raise UserError(f"{where}: needs flows on at least two dates (cash flows, or capex with a life)")
            return
        bases = base_choices(request)
        if case.base not in bases:
            choices = ", ".join(bases) or "none: build one with opsfin plan build"
            raise UserError(f"{where}: field 'base': {case.base!r} has no volume_plan rows; choose one of {choices}")
        _check_members(st.ws, case, where)

    return check


def _check_members(ws: Any, case: Any, where: str) -> None:
    """The effects' scope members exist in the warehouse (the Scenarios form's check, named for the case)."""
    from ..runs.scenarios import check_members
    from ..runs.tables import reading_tables
    from ..scenarios.config import Scenario, ScenarioFile

    scenario = Scenario(name=case.name, base=case.base, shocks=case.effects)
    try:
        with reading_tables(ws) as t:
            check_members(t, ScenarioFile(scenarios=[scenario]))
    except UserError as exc:
        text, said = exc.phrase(api_name), f"scenarios[1] ({case.name}): field 'shocks["
        raise UserError(f"{where}: field 'effects[{text.split(said, 1)[1]}" if said in text else text) from None
