"""REST API: plan versions and their approval (`/api/v1/plans`; docs/planning-versions.md).

Anyone who may read lists the versions (a version covers every site, so site-scoped users see the list
too). The steps are taken by the caller — the logged-in user or the token's user — with the rules of
the app database (opsfin.appdb.plans): analysts and above submit; controllers and admins approve, reject
and archive, never approving their own submission; a site-scoped user changes no version. A cookie
caller sends the `X-CSRF-Token` header. Who may not: 403; a step the status does not allow: 409."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..appdb.plans import PlanConflict, PlanNotFound, PlanRefused
from .api import VersionName, json_rows
from .auth import check_csrf, identify
from .authz import authorize
from .problems import PROBLEM_RESPONSES, Problem

router = APIRouter(
    prefix="/api/v1",
    tags=["plans"],
    responses=PROBLEM_RESPONSES | {409: {**PROBLEM_RESPONSES[400], "description": "Conflict (RFC 7807 problem)"}},
)


class Rejection(BaseModel):
    reason: str = Field(max_length=2000, description="what to change (required, not blank)")


def _state(request: Request):
    return request.app.state.opsfin


@router.get("/plans", summary="Plan versions with their kind and status (warehouse-only ones: unregistered)")
def list_plans(request: Request) -> Response:
    authorize(identify(request).user, "read")
    from ..runs.plan_versions import list_versions

    state = _state(request)
    return json_rows(list_versions(state.ws, state.app_db()))


def _take(request: Request, name: str, permission: str, method: str, *args: Any) -> Response:
    """Take one approval step as the caller (`permission` of web/authz.py, then the app database's `method`); the app database's refusals become 403, 404 or 409 problems."""
    caller = identify(request)
    authorize(caller.user, permission)
    check_csrf(request, caller)
    try:
        row = getattr(_state(request).app_db(), method)(name, caller.user.name, *args)
    except PlanRefused as e:
        raise Problem(403, str(e)) from None
    except PlanNotFound as e:
        raise Problem(404, str(e)) from None
    except PlanConflict as e:
        raise Problem(409, str(e)) from None
    return json_rows(row)


@router.post("/plans/{name}/submit", summary="Submit a draft version for approval (analysts and above)")
def submit_plan(request: Request, name: VersionName) -> Response:
    return _take(request, name, "submit_plans", "submit_plan_version")


@router.post("/plans/{name}/approve", summary="Approve a submitted version (controllers; not the submitter)")
def approve_plan(request: Request, name: VersionName) -> Response:
    return _take(request, name, "approve_plans", "approve_plan_version")


@router.post("/plans/{name}/reject", summary="Send a submitted version back to draft, with a reason (controllers)")
def reject_plan(request: Request, name: VersionName, rejection: Rejection) -> Response:
    return _take(request, name, "approve_plans", "reject_plan_version", rejection.reason)


@router.post("/plans/{name}/archive", summary="Archive an approved version (controllers)")
def archive_plan(request: Request, name: VersionName) -> Response:
    return _take(request, name, "approve_plans", "archive_plan_version")
