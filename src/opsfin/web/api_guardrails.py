"""REST API: the guardrails of `model/guardrails.yaml` (read; controllers change a band or add one).

Every change is validated by the alert engine's parser, written to the file, and recorded in the audit
log; the result cache notices the file's new mtime, so alerts and tiles follow at once (guardrails.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, Field, field_validator

from ..model_schema import refuse_bool  # JSON true is not a number
from . import guardrails
from .api import json_rows
from .auth import check_csrf, identify
from .authz import authorize
from .problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/api/v1", tags=["guardrails"], responses=PROBLEM_RESPONSES)


class GuardrailChange(BaseModel):
    """Fields to change; an explicit null removes a bound (at least one of min and max must remain)."""

    min: Annotated[float | None, BeforeValidator(refuse_bool)] = Field(default=None, allow_inf_nan=False)
    max: Annotated[float | None, BeforeValidator(refuse_bool)] = Field(default=None, allow_inf_nan=False)
    severity: Literal["info", "warn", "stop"] | None = None
    owner: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)


class GuardrailIn(GuardrailChange):
    kpi: str = Field(min_length=1, max_length=100)
    # each dimension once: the schema says so (uniqueItems), and the validator refuses a repeat by name
    by: list[str] | None = Field(default=None, json_schema_extra={"uniqueItems": True})
    where: dict[str, str | list[str]] | None = None
    grain: Literal["day", "week", "month", "quarter", "year"] = "month"

    @field_validator("by")
    @classmethod
    def _each_dimension_once(cls, by: list[str] | None) -> list[str] | None:
        twice = sorted({d for d in by or () if by.count(d) > 1})
        if twice:
            raise ValueError(f"names {', '.join(twice)} twice; list each dimension once")
        return by


def _state(request: Request):
    return request.app.state.opsfin


@router.get("/guardrails", summary="Guardrails as written in model/guardrails.yaml")
def list_guardrails(request: Request, kpi: str | None = None) -> Response:
    grant = authorize(identify(request).user, "read")
    state = _state(request)
    return json_rows(guardrails.list_guardrails(state.ws, grant, kpi, state.results.catalog()))


def _changed(caller, state, index: int, changes: dict[str, Any]) -> dict[str, Any]:
    entry = guardrails.change_guardrail(state.ws, state.app_db(), caller.user, state.results.catalog(), index, changes)
    state.results.cache.clear()  # this process wrote the file: no need to wait for the next look at it
    return entry


@router.put("/guardrails/{index}", summary="Change a guardrail's band, severity, owner or note (controllers)")
def change_guardrail(request: Request, index: int, change: GuardrailChange) -> Response:
    caller = identify(request)
    authorize(caller.user, "edit_guardrails")
    check_csrf(request, caller)
    return json_rows(_changed(caller, _state(request), index, change.model_dump(exclude_unset=True)))


@router.post("/guardrails", status_code=201, summary="Add a guardrail (controllers)")
def add_guardrail(request: Request, guardrail: GuardrailIn) -> Response:
    caller = identify(request)
    authorize(caller.user, "edit_guardrails")
    check_csrf(request, caller)
    state = _state(request)
    known = state.results.site_map().sites
    unknown = sorted(set(guardrails.entry_sites(guardrail.model_dump()) or ()) - set(known))
    if unknown:
        raise Problem(400, f"where.site: unknown site {', '.join(unknown)}; sites are {', '.join(known)}")
    entry = guardrail.model_dump(exclude_none=True)
    entry = {
        k: entry[k] for k in ("kpi", "by", "where", "grain", "min", "max", "severity", "owner", "note") if k in entry
    }
    added = guardrails.add_guardrail(state.ws, state.app_db(), caller.user, state.results.catalog(), entry)
    state.results.cache.clear()
    return json_rows(added, 201)
