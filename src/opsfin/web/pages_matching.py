"""The Reconciliation page (`/reconciliation`) and its Confirm/Reject forms.

It shows what the API of api_matching.py serves, for the month of the view (`period`, or every period
with `all=true`): the bank reconciliation's summary tiles, the suggested matches with their candidates,
the matches of a status or rule (`status=`, `rule=`), the bank exception queue with the reasons, and the
invoice exception queue with the money at stake (or the lines of one status, `invoice_status=`). The bank
part is company level, so site-scoped users see only the invoice lines of their sites.

The forms post to `/reconciliation/matches/{match_id}/confirm|reject` with the CSRF token; they decide
through `api_matching.decide` (the engine records and audits) and redirect back (303) with `decided=ID`,
which the page shows as a notice. The page itself writes nothing: its auto matches are the kept ones plus
a preview of the rest, which "Keep these auto matches" (`POST /reconciliation/runs`, through
`api_matching.keep_run`) records as a run, coming back with `kept=RUN` (or `kept=none`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..matching import exception_queue
from ..matching.exceptions import LINE_SHOWN
from .api_matching import (
    bank_run,
    decide,
    invoice_run,
    keep_run,
    line_site,
    po_sites,
    scoped_invoices,
)
from .auth import Caller, form_of
from .authz import Grant
from .pages import Period, SiteQ, page_grant, render, state, view_for
from .pages_data import View, attempt
from .pages_forms import local
from .problems import Problem

router = APIRouter(include_in_schema=False)
MatchDecider = Annotated[Caller, form_of("decide_matches")]

LIST_LIMIT = 200  # match groups or invoice lines listed on the page (the API returns them all)
BANK_LIST = ("auto", "suggested", "confirmed", "all")
INVOICE_STATUSES = (
    "matched",
    "duplicate",
    "no_po",
    "no_receipt",
    "qty_over_received",
    "price_over_tolerance",
)
DECISIONS = {"confirm": "confirmed", "reject": "rejected"}


# ---------------------------------------------------------------- bank
def match_groups(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """One entry per match id (in the engine's order): its status, rule, score, bank lines and documents."""
    groups: dict[str, dict[str, Any]] = {}
    for r in rows.iter_rows(named=True):
        g = groups.setdefault(
            r["match_id"],
            {
                "match_id": r["match_id"],
                "status": r["status"],
                "rule": r["rule"],
                "score": r["score"],
                "run_id": r.get("run_id"),
                "lines": {},
                "docs": {},
            },
        )
        g["lines"][r["bank_txn_id"]] = {k: r[k] for k in LINE_SHOWN}
        g["docs"][(r["doc_type"], r["doc_id"])] = {
            k: r[k] for k in ("doc_type", "doc_id", "doc_date", "doc_amount", "doc_currency")
        }
    return [g | {"lines": list(g["lines"].values()), "docs": list(g["docs"].values())} for g in groups.values()]


def suggestions(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """Suggested matches gathered under the bank line they would settle (the first line of each match),
    so the competing candidates of a line stand together."""
    by_line: dict[str, dict[str, Any]] = {}
    for g in match_groups(rows):
        line = g["lines"][0]
        by_line.setdefault(line["bank_txn_id"], {"line": line, "candidates": []})["candidates"].append(g)
    return list(by_line.values())


def bank_section(st, start: str | None, end: str | None, status: str | None, rule: str | None) -> dict[str, Any]:
    run, error = attempt(bank_run, st, start, end)
    if run is None:
        return {"error": error}
    matches = run.matches
    auto = matches.filter(pl.col("status") == "auto")
    out: dict[str, Any] = {
        "error": None,
        "summary": run.summary,
        "listed": None,
        "new_auto": auto.filter(pl.col("run_id").is_null())["match_id"].n_unique(),
        "kept_auto": auto.filter(pl.col("run_id").is_not_null())["match_id"].n_unique(),
        "suggested": suggestions(matches.filter(pl.col("status") == "suggested")),
        "exceptions": run.exceptions.head(LIST_LIMIT).to_dicts(),
        "exception_count": run.exceptions.height,
    }
    if status or rule:
        rows = matches if status in (None, "all") else matches.filter(pl.col("status") == status)
        if rule:
            rows = rows.filter(pl.col("rule") == rule)
            if status is None:  # the rule tiles count the bank lines matched auto or confirmed
                rows = rows.filter(pl.col("status").is_in(["auto", "confirmed"]))
        ids = rows["match_id"].unique(maintain_order=True)
        shown = rows.filter(pl.col("match_id").is_in(ids.head(LIST_LIMIT).to_list()))
        out |= {
            "listed": match_groups(shown),
            "listed_count": ids.len(),
            "listed_lines": rows["bank_txn_id"].n_unique(),
        }
    return out


# ---------------------------------------------------------------- invoices
def invoice_section(
    st, grant: Grant, view: View, start: str | None, end: str | None, status: str | None
) -> dict[str, Any]:
    run, error = attempt(invoice_run, st)
    if run is None:
        return {"error": error}
    mine = scoped_invoices(st, grant, run, view.site, start, end)
    rows = mine.lines.filter(pl.col("status") == status) if status else exception_queue(mine)
    sites = po_sites(st)
    listed = [r | {"site": line_site(sites, r["po_id"], r["po_line"])} for r in rows.head(LIST_LIMIT).to_dicts()]
    return {
        "error": None,
        "summary": mine.summary,
        "rows": listed,
        "count": rows.height,
        "as_of": dt.date.today().isoformat(),
    }


def kept_notice(st, grant: Grant, kept: str | None) -> dict[str, Any] | None:
    """The run a "Keep these auto matches" form recorded (`kept=RUN`), or `{run_id: None}` for `kept=none`."""
    if not kept or grant.scoped:
        return None
    if kept == "none":
        return {"run_id": None}
    return next((r for r in st.app_db().match_runs() if str(r["run_id"]) == kept), None)


def decided_notice(st, grant: Grant, match_id: str | None) -> dict[str, Any] | None:
    """The latest decision on `match_id`, shown after a form redirected back (bank ones to unscoped users)."""
    if not match_id:
        return None
    for r in reversed(st.app_db().match_decisions()):
        if r["match_id"] == match_id and (r["kind"] == "invoice" or not grant.scoped):
            return r
    return None


# ---------------------------------------------------------------- page and forms
@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation_page(
    request: Request,
    period: Period = None,
    site: SiteQ = None,
    all: bool = False,  # noqa: A002
    status: str | None = None,
    rule: str | None = None,
    invoice_status: str | None = None,
    decided: str | None = None,
    kept: str | None = None,
) -> Response:
    grant = page_grant(request)
    view = view_for(request, grant, period, site)
    if status and status not in BANK_LIST:
        raise Problem(400, f"status {status!r}: choose one of {', '.join(BANK_LIST)}")
    if invoice_status and invoice_status not in INVOICE_STATUSES:
        raise Problem(400, f"invoice_status {invoice_status!r}: choose one of {', '.join(INVOICE_STATUSES)}")
    st = state(request)
    start, end = (None, None) if all else (view.start, view.end)
    bank = None if grant.scoped else bank_section(st, start, end, status or None, rule or None)
    invoices = invoice_section(st, grant, view, start, end, invoice_status or None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "reconciliation.html",
        grant,
        view,
        "reconciliation",
        bank=bank,
        invoices=invoices,
        show_all=all,
        bank_status=status,
        rule=rule,
        invoice_status=invoice_status,
        notice=decided_notice(st, grant, decided),
        kept_run=kept_notice(st, grant, kept),
        here=without(here, "decided", "kept"),
        range_from=start,
        range_to=end,
        list_limit=LIST_LIMIT,
    )


def without(url: str, *params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_param(url: str, **params: str) -> str:
    parts = urlsplit(without(url, *params))
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


@router.post("/reconciliation/runs")
def keep_run_submit(
    request: Request,
    caller: MatchDecider,
    next: Annotated[str, Form()] = "/reconciliation",  # noqa: A002
    date_from: Annotated[str, Form(alias="from")] = "",
    date_to: Annotated[str, Form(alias="to")] = "",
) -> Response:
    done = keep_run(state(request), caller.user, date_from or None, date_to or None)
    run_id = done["run"]["run_id"] if done["run"] else "none"
    return RedirectResponse(
        with_param(without(local(next, "/reconciliation"), "decided"), kept=str(run_id)),
        status_code=303,
    )


@router.post("/reconciliation/matches/{match_id}/{decision}")
def decision_submit(
    request: Request,
    match_id: str,
    decision: str,
    caller: MatchDecider,
    next: Annotated[str, Form()] = "/reconciliation",
) -> Response:  # noqa: A002
    if decision not in DECISIONS:
        raise Problem(404, f"no page or endpoint at {request.url.path}")
    record = decide(state(request), caller.user, match_id, DECISIONS[decision])
    return RedirectResponse(with_param(local(next, "/reconciliation"), decided=record["match_id"]), status_code=303)
