"""RFC 7807 problem details: every API error is `application/problem+json`: 4xx for a request the app
refuses; 500 only for a bug (logged with its traceback on the server, never shown to the caller).

Pages render the same problems as an HTML error state (see pages.py); the API returns them as JSON."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..errors import UserError, api_name

PROBLEM_TYPE = "about:blank"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class ProblemDetails(BaseModel):
    """The body of every error (RFC 7807), as `application/problem+json`."""

    type: str = PROBLEM_TYPE
    title: str
    status: int
    detail: str
    instance: str | None = None
    param: str | None = None  # the query parameter or field that is wrong (`from`), when one is
    value: str | None = None  # what was given for it
    hint: str | None = None  # how to put it right


# documented on every API route, so the OpenAPI description says what an error looks like
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": f"{TITLES[status]} (RFC 7807 problem)",
        "model": ProblemDetails,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    for status in (400, 401, 403, 404, 422)
}


class Problem(Exception):
    """A request the app refuses, with the HTTP status and a detail naming what is wrong."""

    def __init__(
        self, status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None, **extra: Any
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out = {"type": PROBLEM_TYPE, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            out["instance"] = instance
        return out | self.extra


def user_error_problem(exc: UserError) -> Problem:
    """A user's mistake as a 400 problem, worded for HTTP: a parameter is named as in the query string
    (`from`, not the CLI's `--from`), and the problem carries it as `param` (with `value` and `hint` when
    the error has them) so a client can point at the field."""
    extra: dict[str, Any] = {}
    if exc.param is not None:
        extra["param"] = api_name(exc.param)
        if exc.value is not None:
            extra["value"] = str(exc.value)
    if exc.hint:
        extra["hint"] = exc.hint
    return Problem(400, exc.phrase(api_name), **extra)


def bad_request(detail: str, **extra: Any) -> Problem:
    return Problem(400, detail, **extra)


def not_found(detail: str) -> Problem:
    return Problem(404, detail)


HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(app: Any, path: str) -> str:
    """The `Allow` header of a 405 at `path`: every method some route serves there, not only the first
    matching route's (Starlette's own 405 names the methods of the first route that matched the path). Each
    method is asked of the routes as a request would be, so routers included in routers count too."""
    from starlette.routing import Match

    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({"type": "http", "path": path, "method": method, "root_path": ""})[0] == Match.FULL
            for route in app.routes
        )
    ]
    return ", ".join(allowed)


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )
