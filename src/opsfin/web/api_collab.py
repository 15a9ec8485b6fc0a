"""REST API, collaboration and admin side (`/api/v1`): comments, actions, the audit log, the export pack.

Writes need the role's permission (analysts comment; controllers create and update actions), a subject
inside the caller's site scope, and — when the caller is authenticated by the session cookie — the
`X-CSRF-Token` header. Every change is written to the app database's audit log by `opsfin.appdb`."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from . import queries, subjects
from .api import json_rows, name_query
from .auth import check_csrf, identify
from .authz import authorize
from .problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/api/v1", tags=["collaboration"], responses=PROBLEM_RESPONSES)

Status = Literal["open", "in_progress", "done", "dropped"]
ActionId = Annotated[int, Path(ge=1, le=subjects.MAX_ID, description="the action's id")]
# an amount the app database stores exactly: NUMERIC(18,2), so at most 16 digits before the point and 2 after
Amount = Annotated[
    Decimal,
    Field(
        max_digits=18,
        decimal_places=2,
        allow_inf_nan=False,
        description="base currency, exact decimal, at most 2 decimals",
    ),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": -1e16, "exclusiveMaximum": 1e16, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"},
            ]
        }
    ),
]


def day_only(value: object) -> object:
    """A day as YYYY-MM-DD and nothing else: no number (0 would be 1970-01-01), no timestamp, no boolean."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise PydanticCustomError("date_type", "give a day as YYYY-MM-DD, got {value}", {"value": repr(value)})


Day = Annotated[dt.date, BeforeValidator(day_only), Field(description="YYYY-MM-DD")]


class CommentIn(BaseModel):
    subject_type: Literal["kpi", "alert", "variance", "action", "match"]
    subject_id: str = Field(min_length=1, max_length=300, description="see docs/web.md for the id of each type")
    body: str = Field(min_length=1, max_length=10_000)
    site: str | None = Field(default=None, description="kpi only: the site of the view commented on")


class ActionIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=100)
    due: Day
    expected_impact: Amount = Field(description="expected financial impact, base currency (exact decimal)")
    description: str = Field(default="", max_length=10_000)
    subject_type: Literal["kpi", "alert", "variance"] | None = Field(
        default=None, description="what prompted the action"
    )
    subject_id: str | None = None
    site: str | None = Field(default=None, description="the action's site (derived from the subject if given)")


class ActionPatch(BaseModel):
    status: Status | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=100)
    due: Day | None = None
    expected_impact: Amount | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)


def _state(request: Request):
    return request.app.state.opsfin


def default_site(user, site: str | None) -> str | None:
    """A scoped user with one site acts at that site unless they name another."""
    sites = getattr(user, "sites", None)
    if site is None and sites is not None and len(sites) == 1:
        return sites[0]
    return site


def site_hint(state, user, subject_type: str, subject_id: str, site: str | None) -> str | None:
    """The site the client names matters for a KPI only (other subjects carry their own site); a scoped
    user with one site comments on a KPI that has a site dimension at that site by default."""
    if subject_type != "kpi":
        return None
    kpi = state.results.catalog().get(subject_id)
    return default_site(user, site) if kpi is not None and "site" in kpi.dims else site


# ---------------------------------------------------------------- comments
def post_comment(state, user, subject_type: str, subject_id: str, body: str, site: str | None) -> dict:
    """Shared by the API and the comment forms."""
    site = site_hint(state, user, subject_type, subject_id, site)
    subject = subjects.resolve(state.results, state.app_db(), subject_type, subject_id, site)
    authorize(user, "comment", site=subject.site)
    return state.app_db().add_comment(user.name, subject.type, subject.id, body, site=subject.site)


@router.get("/comments", summary="Comments, oldest first")
def list_comments(request: Request, subject_type: str | None = None, subject_id: str | None = None) -> Response:
    grant = authorize(identify(request).user, "read")
    if subject_type and subject_id:
        subject_id = subjects.normalise_id(subject_type, subject_id)
    rows = _state(request).app_db().list_comments(subject_type, subject_id)
    return json_rows(queries.visible_comments(grant, rows))


@router.post("/comments", status_code=201, summary="Comment on a KPI, alert, variance, action or match")
def create_comment(request: Request, comment: CommentIn) -> Response:
    caller = identify(request)
    authorize(caller.user, "comment")
    check_csrf(request, caller)
    row = post_comment(
        _state(request), caller.user, comment.subject_type, comment.subject_id, comment.body, comment.site
    )
    return json_rows(row, 201)


# ---------------------------------------------------------------- actions
def action_site(state, user, subject_type: str | None, subject_id: str | None, site: str | None) -> tuple:
    """(subject_type, subject_id, site) of a new action: the site comes from its subject when it has one."""
    if subject_type and subject_id:
        subject = subjects.resolve(
            state.results,
            state.app_db(),
            subject_type,
            subject_id,
            site_hint(state, user, subject_type, subject_id, site),
        )
        return subject.type, subject.id, subject.site
    if subject_type or subject_id:
        raise Problem(400, "give both subject_type and subject_id, or neither")
    if site is not None and site not in state.results.site_map().sites:
        raise Problem(404, f"unknown site {site!r}")
    return None, None, default_site(user, site)


def create_action_for(state, user, data: ActionIn) -> dict:
    subject_type, subject_id, site = action_site(state, user, data.subject_type, data.subject_id, data.site)
    authorize(user, "manage_actions", site=site)
    return state.app_db().add_action(
        user.name,
        data.title,
        data.owner,
        data.due,
        data.expected_impact,
        subject_type=subject_type,
        subject_id=subject_id,
        site=site,
        description=data.description,
    )


def visible_action(state, user, action_id: int, permission: str = "read") -> dict:
    action = state.app_db().get_action(action_id)
    if action is None:
        raise Problem(404, f"no action {action_id}")
    authorize(user, permission, site=action.get("site"))
    return action


@router.get("/actions", summary="Actions in creation order")
def list_actions(request: Request, status: Annotated[Status | None, Query()] = None, overdue: bool = False) -> Response:
    grant = authorize(identify(request).user, "read")
    db = _state(request).app_db()
    rows = db.overdue_actions(dt.date.today()) if overdue else db.list_actions(status)
    return json_rows(queries.visible_actions(grant, rows))


@router.get("/actions/{action_id}", summary="One action")
def get_action(request: Request, action_id: ActionId) -> Response:
    return json_rows(visible_action(_state(request), identify(request).user, action_id))


@router.post("/actions", status_code=201, summary="Create an action (controllers)")
def create_action(request: Request, action: ActionIn) -> Response:
    caller = identify(request)
    authorize(caller.user, "manage_actions")
    check_csrf(request, caller)
    return json_rows(create_action_for(_state(request), caller.user, action), 201)


@router.patch("/actions/{action_id}", summary="Update an action's status, owner, due date, impact…")
def update_action(request: Request, action_id: ActionId, patch: ActionPatch) -> Response:
    caller = identify(request)
    authorize(caller.user, "manage_actions")
    check_csrf(request, caller)
    state = _state(request)
    visible_action(state, caller.user, action_id, "manage_actions")
    changes = patch.model_dump(exclude_none=True)
    if not changes:
        raise Problem(400, "nothing to change: give status, owner, due, expected_impact, title or description")
    return json_rows(state.app_db().update_action(caller.user.name, action_id, **changes))


# ---------------------------------------------------------------- audit and exports
@router.get("/audit", tags=["admin"], summary="The audit log, newest first (admins)")
def list_audit(
    request: Request, limit: Annotated[int, Query(ge=1, le=10_000)] = 200, object_type: str | None = None
) -> Response:
    authorize(identify(request).user, "read_audit")
    return json_rows(_state(request).app_db().audit_entries(limit=limit, object_type=object_type))


@router.get("/export/pack", tags=["exports"], summary="The monthly operations-finance pack")
def export_pack(
    request: Request,
    period: Annotated[
        str,
        Query(json_schema_extra={"pattern": r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"}, description="YYYY-MM"),
        AfterValidator(queries.year_in_range),
    ],
    format: Annotated[Literal["xlsx", "html"], Query()] = "xlsx",  # noqa: A002
    site: Annotated[
        str | None, name_query("only this site's rows, as `--sites` (must be inside your site scope)")
    ] = None,
) -> Response:
    """The pack of `opsfin export pack --period … --format … [--sites …]`; a site-scoped user gets their
    sites' pack (or, with `site`, one of their sites')."""
    grant = authorize(identify(request).user, "export")
    from ..export import pack

    state = _state(request)
    if site is not None and site not in state.results.site_map().sites:
        raise Problem(400, f"site {site!r}: unknown site; choose one of {', '.join(state.results.site_map().sites)}")
    limited = grant.site_filter([site] if site else None)
    sites = tuple(limited) if limited is not None else None
    db = state.app_db()
    # the pack holds open actions: key it by the audit head too, so an action changed a moment ago shows
    data = state.results.cache.get(
        ("pack", period, format, sites, db.audit_head()),
        lambda: pack.build_pack(state.ws, period, format, sites=sites, app_db=db),
    )
    name = pack.pack_filename(period, format)
    return Response(
        data, media_type=pack.pack_media_type(format), headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
