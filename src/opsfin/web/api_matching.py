"""REST API of the matching engine (`/api/v1/matches`): bank reconciliation, three-way invoice match, and
the decisions on them (docs/matching.md "Reconciliation page and API").

- `GET /matches/bank?from=&to=&status=`: the JSON of `opsfin match bank --format json` (`summary`,
  `matches`) plus `exceptions`, the bank part of `opsfin match exceptions --format json`. Bank lines and
  cash belong to no site, so the reconciliation is company level: site-scoped users get 403.
- `GET /matches/invoices?as_of=&status=&site=`: the JSON of `opsfin match invoices --format json`. An
  invoice line belongs to the site of its PO line (`purchase_orders.site_id`); a site-scoped user gets
  only the lines of their sites, and a summary of those lines (the engine's summary function).
- `POST /matches/bank/runs?from=&to=`: controllers and admins keep the new auto matches of the
  reconciliation of [from, to] as a run (`opsfin.matching.record_bank_run`, one audit entry). The GET
  endpoints never write: they show the kept matches and a preview of the rest.
- `POST /matches/{match_id}/confirm|reject`: controllers and admins; the decision is recorded by the
  engine (`opsfin.matching.record_decision`) with the user's name as actor, so the audit log shows who.
  404 for an id the engine does not know, 409 when the decision conflicts with earlier ones (a line or
  document already in another confirmed match, an already confirmed match, a rejected one).

The engine runs are cached (web/cache.py) under a key that also holds the latest match decision and the
latest kept run, so a decision or a run (from the web or the CLI) shows at the next request while nothing
else is recomputed. The
functions here are shared with the Reconciliation page (pages_matching.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..appdb import AppDbError
from ..errors import UserError
from ..matching.bank import BankReconciliation
from ..matching.decisions import kind_of
from ..matching.invoices import (
    InvoiceMatch,
    invoice_summary,  # the engine's one summary formula
)
from ..present.matching_rows import bank_match_rows, invoice_lines_json
from ..runs.matching import record_bank_run, record_decision, run_bank, run_invoices
from ..runs.reads import po_line_sites
from .api import DAY, json_rows, name_query
from .auth import check_csrf, identify
from .authz import Grant, authorize
from .problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/api/v1", tags=["matching"], responses=PROBLEM_RESPONSES)

BankStatus = Literal["auto", "suggested", "confirmed"]
InvoiceStatus = Literal["matched", "duplicate", "no_po", "no_receipt", "qty_over_received", "price_over_tolerance"]
Decision = Literal["confirmed", "rejected"]


# ---------------------------------------------------------------- the engine, through the result cache
def engine_workspace(state):
    """The workspace as the matching engine must see it. `create_app` may be given another app database
    than the workspace's `app_db.url` (tests do); the engine reads and records decisions through the
    workspace, so it gets a copy of the workspace pointing at the app's database."""
    from ..appdb.db import app_db_url
    from ..settings import AppDbSettings
    from ..workspace import Workspace

    url = state.app_db().url.render_as_string(hide_password=False)
    if url == app_db_url(state.ws).render_as_string(hide_password=False):
        return state.ws
    return Workspace(state.ws.path, state.ws.settings.model_copy(update={"app_db": AppDbSettings(url=url)}))


def decisions_stamp(state) -> tuple:
    """What the cached runs depend on besides the warehouse and the model files: the match decisions so
    far (how many match ids are decided, and the latest decision)."""
    records = state.app_db().match_decisions()
    last = records[-1] if records else {}
    return len(records), last.get("kind"), last.get("match_id"), last.get("decision"), str(last.get("at"))


def latest_run_id(state) -> int | None:
    """The latest kept reconciliation run (the cached bank runs depend on it)."""
    latest = state.app_db().latest_match_run()
    return latest["run_id"] if latest else None


def bank_run(state, start: str | None = None, end: str | None = None) -> BankReconciliation:
    """`opsfin match bank --preview --from START --to END` (earlier decisions and kept runs applied), cached.
    Writes nothing."""
    key = ("match_bank", start, end, decisions_stamp(state), latest_run_id(state))
    return state.results.cache.get(key, lambda: run_bank(engine_workspace(state), start, end))


def undecided_bank_run(state) -> BankReconciliation:
    """The whole reconciliation as if nothing had been decided: explains why a match id is refused."""
    return state.results.cache.get(("match_bank_undecided",), lambda: run_bank(state.ws, use_app_db=False))


def invoice_run(state, as_of: str | None = None) -> InvoiceMatch:
    """`opsfin match invoices --as-of AS_OF` (default today), cached."""
    try:
        day = dt.date.fromisoformat(as_of).isoformat() if as_of else dt.date.today().isoformat()
    except ValueError:
        raise Problem(400, f"as_of {as_of!r} is not a date (use YYYY-MM-DD)") from None
    key = ("match_invoices", day, decisions_stamp(state))
    return state.results.cache.get(key, lambda: run_invoices(engine_workspace(state), day))


def po_sites(state) -> dict[tuple[str, int | None], str]:
    """(po_id, line) -> site of the PO line; (po_id, None) -> the PO's site when all its lines share one."""
    return state.results.cache.get(("po_sites",), lambda: po_line_sites(state.ws))


def line_site(sites: dict, po_id: str | None, po_line: int | None) -> str | None:
    """The site of an invoice line: its PO line's site (None without a known PO: unscoped users only)."""
    if po_id is None:
        return None
    return sites.get((po_id, po_line)) or sites.get((po_id, None))


def scoped_invoices(
    state, grant: Grant, run: InvoiceMatch, site: str | None = None, start: str | None = None, end: str | None = None
) -> InvoiceMatch:
    """The lines `grant` may see (and of `site`, and dated in [start, end] when given), with their summary."""
    if not grant.scoped and site is None and start is None and end is None:
        return run
    sites = po_sites(state)
    lines = run.lines.with_columns(
        site=pl.Series(
            [line_site(sites, p, n) for p, n in run.lines.select("po_id", "po_line").iter_rows()], dtype=pl.String
        )
    )
    keep = pl.Series([grant.sees(s) and (site is None or s == site) for s in lines["site"]], dtype=pl.Boolean)
    lines = lines.filter(keep)
    if start is not None:
        lines = lines.filter(pl.col("invoice_date") >= dt.date.fromisoformat(start))
    if end is not None:
        lines = lines.filter(pl.col("invoice_date") <= dt.date.fromisoformat(end))
    lines = lines.drop("site")
    return InvoiceMatch(lines, invoice_summary(lines))


# ---------------------------------------------------------------- JSON as the CLI prints it
def bank_json(run: BankReconciliation, status: str | None = None) -> dict[str, Any]:
    matches = run.matches if status is None else run.matches.filter(pl.col("status") == status)
    return {
        "summary": run.summary,
        "matches": bank_match_rows(matches),
        "exceptions": run.exceptions.to_dicts(),
    }


def invoice_json(run: InvoiceMatch, status: str | None = None) -> dict[str, Any]:
    lines = run.lines if status is None else run.lines.filter(pl.col("status") == status)
    return {"summary": run.summary, "lines": invoice_lines_json(lines)}


# ---------------------------------------------------------------- decisions
def _overlap(pairs: list[tuple], other: dict) -> str | None:
    lines = {p[0] for p in pairs}
    docs = {(p[1], p[2]) for p in pairs}
    for b, t, d in other["payload"].get("pairs", []):
        if b in lines:
            return f"bank line {b}"
        if (t, d) in docs:
            return f"{t} {d}"
    return None


def _refused_bank_match(state, match_id: str) -> Problem:
    """Why bank match `match_id` is not in the current reconciliation: 404 when the engine never proposes
    it, else 409 naming the decision it conflicts with."""
    rows = undecided_bank_run(state).matches.filter(pl.col("match_id") == match_id)
    if rows.is_empty():
        return Problem(
            404, f"no bank match {match_id} in the current reconciliation; GET /api/v1/matches/bank lists them"
        )
    pairs = sorted(rows.select("bank_txn_id", "doc_type", "doc_id").unique().iter_rows())
    decided = state.app_db().match_decisions("bank")
    for r in decided:
        if r["match_id"] == match_id and r["decision"] == "rejected":
            return Problem(
                409,
                f"bank match {match_id} was rejected by {r['actor']}; a rejected match is never proposed again",
                match_id=match_id,
            )
    for r in decided:
        if r["decision"] == "confirmed" and (taken := _overlap(pairs, r)):
            return Problem(
                409,
                f"{taken} is already in confirmed match {r['match_id']} (confirmed by "
                f"{r['actor']}); reject that one first",
                match_id=match_id,
                conflicting_match_id=r["match_id"],
            )
    lines, docs = [p[0] for p in pairs], [f"{p[1]} {p[2]}" for p in pairs]
    kept = bank_run(state).matches.filter(
        pl.col("run_id").is_not_null()
        & (pl.col("bank_txn_id").is_in(lines) | pl.concat_str("doc_type", pl.lit(" "), "doc_id").is_in(docs))
    )
    for r in kept.iter_rows(named=True):
        if taken := _overlap(pairs, {"payload": {"pairs": [(r["bank_txn_id"], r["doc_type"], r["doc_id"])]}}):
            return Problem(
                409,
                f"{taken} is already in auto match {r['match_id']} kept by run {r['run_id']}; reject that one first",
                match_id=match_id,
                conflicting_match_id=r["match_id"],
            )
    return Problem(
        409,
        f"bank match {match_id} is no longer proposed: after the decisions taken since, the "
        "reconciliation matches its lines otherwise",
        match_id=match_id,
    )


def decide(state, user, match_id: str, decision: str) -> dict[str, Any]:
    """Confirm or reject a bank match (`B…`) or an invoice line (`I…`) for `user` (shared by the API and
    the page's forms). The caller has checked the CSRF token; this authorizes the object (a bank match
    is company level; an invoice line belongs to its PO's site) and records through the engine."""
    match_id = match_id.strip()
    try:
        kind = kind_of(match_id)
    except UserError as exc:
        raise Problem(404, str(exc)) from None
    if kind == "bank":
        authorize(user, "decide_matches", company_level=True)
        if bank_run(state).matches.filter(pl.col("match_id") == match_id).is_empty():
            raise _refused_bank_match(state, match_id)
    else:
        rows = invoice_run(state).lines.filter(pl.col("match_id") == match_id)
        if rows.is_empty():
            raise Problem(404, f"no invoice line {match_id}; GET /api/v1/matches/invoices lists them")
        po_id, po_line = rows.row(0, named=True)["po_id"], rows.row(0, named=True)["po_line"]
        authorize(user, "decide_matches", site=line_site(po_sites(state), po_id, po_line))
    try:
        return record_decision(engine_workspace(state), user.name, match_id, decision)
    except UserError as exc:  # the engine refuses: already decided so, or taken by a confirmed match
        raise Problem(409, str(exc), match_id=match_id) from None


def keep_run(state, user, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """Keep the new auto matches of the reconciliation of [start, end] as a run for `user` (shared by the
    API and the page's form; the caller has checked the CSRF token): `{run, summary}`, `run` null when
    there was nothing new to keep. 409 when another run was recorded meanwhile."""
    authorize(user, "decide_matches", company_level=True)
    try:
        run, result = record_bank_run(engine_workspace(state), user.name, start, end)
    except AppDbError as exc:
        raise Problem(409, str(exc)) from None
    return {"run": run, "summary": result.summary}


# ---------------------------------------------------------------- endpoints
From = Annotated[
    str | None,
    Query(
        alias="from", json_schema_extra={"pattern": DAY}, description="first booking day of the bank lines, YYYY-MM-DD"
    ),
]
To = Annotated[
    str | None, Query(json_schema_extra={"pattern": DAY}, description="last booking day of the bank lines, YYYY-MM-DD")
]


def _state(request: Request):
    return request.app.state.opsfin


@router.get("/matches/bank", summary="Bank reconciliation: matches, summary and exception queue")
def get_bank_matches(
    request: Request,
    from_: From = None,
    to: To = None,
    status: Annotated[BankStatus | None, Query(description="only matches of this status")] = None,
) -> Response:
    """`opsfin match bank --from … --to … --format json` plus `exceptions` (the unmatched bank lines with
    their reason). Company level: hidden from site-scoped users."""
    authorize(identify(request).user, "read", company_level=True)
    return json_rows(bank_json(bank_run(_state(request), from_, to), status))


@router.get("/matches/invoices", summary="Three-way match of the supplier invoice lines")
def get_invoice_matches(
    request: Request,
    as_of: Annotated[
        str | None,
        Query(
            json_schema_extra={"pattern": f"^$|{DAY}"},
            description="judge receipts up to this day (YYYY-MM-DD, default today)",
        ),
    ] = None,
    status: Annotated[InvoiceStatus | None, Query(description="only lines of this status")] = None,
    site: Annotated[str | None, name_query("only lines of POs of this site")] = None,
) -> Response:
    """`opsfin match invoices --as-of … --format json`; site-scoped users get the lines of their sites."""
    grant = authorize(identify(request).user, "read")
    state = _state(request)
    if site is not None:
        if site not in state.results.site_map().sites:
            raise Problem(400, f"site {site!r}: unknown site")
        grant.site_filter([site])
    return json_rows(invoice_json(scoped_invoices(state, grant, invoice_run(state, as_of), site), status))


@router.post("/matches/bank/runs", summary="Keep the new auto matches of the bank reconciliation (controllers)")
def keep_bank_run(request: Request, from_: From = None, to: To = None) -> Response:
    """`opsfin match bank --from … --to …`: the auto matches not kept yet are kept as one run (one audit
    entry, `match.run`), so later runs never re-decide them. Returns `{run: {run_id, at, actor, date_from,
    date_to, through, bank_lines, kept, kept_lines, suggested, unmatched} | null, summary}`."""
    caller = identify(request)
    authorize(caller.user, "decide_matches", company_level=True)
    check_csrf(request, caller)
    return json_rows(keep_run(_state(request), caller.user, from_, to))


def _decide(request: Request, match_id: str, decision: str) -> Response:
    caller = identify(request)
    authorize(caller.user, "decide_matches")
    check_csrf(request, caller)
    return json_rows(decide(_state(request), caller.user, match_id, decision))


@router.post("/matches/{match_id}/confirm", summary="Confirm a bank match or accept an invoice line (controllers)")
def confirm_match(request: Request, match_id: str) -> Response:
    """Later runs keep a confirmed bank match as it is; a confirmed invoice line leaves the exception queue.
    Returns the recorded decision `{kind, match_id, decision, payload, actor, at}`."""
    return _decide(request, match_id, "confirmed")


@router.post("/matches/{match_id}/reject", summary="Reject a bank match or dispute an invoice line (controllers)")
def reject_match(request: Request, match_id: str) -> Response:
    """A rejected bank match is never proposed again (rejecting a confirmed one undoes it); a rejected
    invoice line stays in the exception queue marked `rejected`."""
    return _decide(request, match_id, "rejected")
