"""The web app: `create_app(workspace_path)` → a FastAPI app serving the pages and `/api/v1`.

OpenAPI is published at `/api/openapi.json` (a reference page drawn from it at `/api/docs`). plotly.js is served from
the installed `plotly` package at `/static/plotly.min.js` (no CDN, no Node build). See docs/web.md."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import duckdb
import plotly
import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import workspace
from ..errors import UserError
from .auth import identify
from .problems import Problem, allowed_methods, problem_response, user_error_problem
from .results import Results

log = logging.getLogger("opsfin.web")
HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class WebState:
    """What every request needs: the workspace, the cached engine results and the app database."""

    def __init__(self, ws, app_db_url: str | None = None):
        self.ws = ws
        self.results = Results(ws)
        self._app_db_url = app_db_url
        self._db = None
        self._lock = threading.Lock()

    def app_db(self):
        """The app database (opened, and migrated, on first use)."""
        if self._db is None:
            with self._lock:
                if self._db is None:
                    from ..appdb import AppDB, open_app_db

                    self._db = (
                        AppDB(
                            self._app_db_url,
                            login_attempts_per_minute=self.ws.settings.web.login_attempts_per_minute,
                        )
                        if self._app_db_url
                        else open_app_db(self.ws)
                    )
        return self._db

    def warm(self) -> None:
        """Compute the overview's results in the background so the first visitor does not wait."""
        from .pages_data import warm_overview

        def run() -> None:
            try:
                warm_overview(self.results)
            except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server; pages show it
                log.exception("warming the result cache failed")

        # not a daemon: a daemon thread still inside DuckDB when the interpreter exits aborts the process
        # ("terminate called … exception not rethrown"); exit waits for the few seconds it takes instead
        threading.Thread(target=run, name="opsfin-warm", daemon=False).start()


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# scripts only from this server's files: no inline script, no eval, no CDN. Style sheets only from files
# too; style attributes are allowed because plotly.js (its d3) sets some SVG styles as attributes, and an
# attribute can run no script. data: images for plotly's mode bar; nothing may frame the pages; forms post
# only here; no plugins, no <base> (docs/security.md)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-elem 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# what anyone may reach without logging in; every other path authenticates first (docs/security.md)
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/favicon.ico", "/api/docs", "/api/openapi.json"})


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith("/static/")


# seconds an idle keep-alive connection stays open: longer than a browser's or an HTTP client pool's idle
# expiry (httpx 5 s, browsers 60 s or less), so the client closes first and never sends on a connection the
# server is closing at that very moment (uvicorn's default of 5 s raced httpx's and cost connection errors)
KEEP_ALIVE_SECONDS = 65
# the environment variable that hands the workspace to `opsfin serve --workers N`'s worker processes
WORKSPACE_ENV = "OPSFIN_SERVE_WORKSPACE"


def server_options(web_settings) -> dict:
    """uvicorn's options: forwarded headers believed only from `web.trusted_proxies` (by default uvicorn
    believes 127.0.0.1, so anyone on the server could pose as any client, past the login limit), and the
    keep-alive timeout."""
    proxies = list(web_settings.trusted_proxies)
    return {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


def app_from_environment() -> FastAPI:
    """The app of one worker process of `opsfin serve --workers N` (uvicorn imports this factory in each
    worker; the workspace comes in WORKSPACE_ENV). Every worker reads the warehouse read-only and shares
    the one app database, where the audit chain's head and the failed-login counts live."""
    path = os.environ.get(WORKSPACE_ENV)
    if not path:
        raise RuntimeError(f"{WORKSPACE_ENV} is not set: start the workers with `opsfin serve --workers N`")
    return create_app(path, warm=True)


def create_app(workspace_path, *, app_db_url: str | None = None, warm: bool = False) -> FastAPI:
    """The app over the workspace at `workspace_path`; `app_db_url` overrides `app_db.url` (tests).
    `warm=True` precomputes the overview's engine results in a background thread (`opsfin serve` does)."""
    ws = workspace.open(workspace_path)
    state = WebState(ws, app_db_url)
    app = FastAPI(
        title="opsfin",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="Operations finance: KPIs, alerts, variances, unit economics, "
        "data quality, comments and actions. See docs/web.md.",
    )
    app.state.opsfin = state
    _add_error_handlers(app)
    _add_static_files(app)
    _add_request_checks(app)
    _add_routers(app)
    _add_api_docs_and_health(app, ws)
    if warm:
        state.warm()
    return app


async def _answer_problem(request: Request, exc: Problem) -> Response:
    """A problem as the caller reads it: problem JSON for the API, the error page for pages."""
    if _is_api(request):
        return problem_response(exc, request.url.path)
    from .pages import error_page

    return error_page(request, exc)


def _validation_problems(exc: RequestValidationError | pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())


def _add_error_handlers(app: FastAPI) -> None:
    """Every error becomes a problem (API) or the error page (pages): never a bare text nor a traceback."""
    app.exception_handler(Problem)(_answer_problem)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        # worded from the error's fields: over HTTP a parameter is the query parameter (from=), not --from
        return await _answer_problem(request, user_error_problem(exc))

    @app.exception_handler(duckdb.IOException)
    async def _warehouse_busy(request: Request, exc: duckdb.IOException) -> Response:
        # another process (an ingest, `opsfin demo`) holds the warehouse file's write lock
        log.warning("warehouse not readable: %s", exc)
        return await _answer_problem(
            request,
            Problem(
                503,
                "the warehouse is being written by another process (an ingest?); try again in a moment",
                headers={"Retry-After": "5"},
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return await _answer_problem(request, Problem(422, _validation_problems(exc) or "invalid request"))

    @app.exception_handler(pydantic.ValidationError)
    async def _invalid_value(request: Request, exc: pydantic.ValidationError) -> Response:
        # a form value checked by the API's models (an amount too large, too many decimals…)
        return await _answer_problem(request, Problem(400, _validation_problems(exc) or "invalid value"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # a bug, not the caller's mistake: the server logs its traceback (uvicorn, after this response);
        # the caller gets a problem (API) or the error page (pages), never a bare text nor a traceback
        log.error("unexpected error on %s %s: %r", request.method, request.url.path, exc)
        return await _answer_problem(
            request,
            Problem(
                500,
                "an unexpected error occurred; it is logged on the server (opsfin serve's output)",
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"no page or endpoint at {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # name every method the path answers, not only its first route's
            headers["Allow"] = allowed_methods(request.app, request.url.path)
            detail = f"{request.method} is not allowed here; use {headers['Allow']}"
        return await _answer_problem(request, Problem(exc.status_code, detail, headers=headers))


def _add_static_files(app: FastAPI) -> None:
    """plotly.js from the installed package, the app's own static files, and no favicon."""

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def _plotly() -> FileResponse:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> Response:
        return Response(status_code=204)


def _add_request_checks(app: FastAPI) -> None:
    """Authentication before anything reads the request, and the security headers on every answer."""
    app.add_middleware(RequestChecks)


# the headers every answer carries unless the endpoint set its own; pages and API answers also get
# `Cache-Control: no-store` (they hold a user's figures, and once, a new token): no browser or proxy keeps them
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("latin-1")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
NO_STORE = ((b"cache-control", b"no-store"),)


class RequestChecks:
    """A plain ASGI middleware (no BaseHTTPMiddleware: that one costs a task, a stream and a copy of the
    answer per request): the caller is identified before anything reads the request, and the security
    headers are added to the answer's start message."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = SECURITY_HEADERS if path.startswith("/static/") else SECURITY_HEADERS + NO_STORE

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        if not is_public(path):
            # who is asking is settled before anything reads the request: without valid credentials a bad
            # body or id gets 401 (pages: the login form), never a validation error that reveals the
            # endpoint's rules
            request = Request(scope)
            try:
                caller = await run_in_threadpool(identify, request)
                if caller.user is None or getattr(caller.user, "disabled", False):
                    raise Problem(
                        401,
                        "log in, or send an API token as `Authorization: Bearer <token>`",
                        headers={"WWW-Authenticate": "Bearer"},
                    )
            except Problem as exc:
                response = await _answer_problem(request, exc)
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


def _add_routers(app: FastAPI) -> None:
    from . import (
        api,
        api_collab,
        api_forecast,
        api_guardrails,
        api_matching,
        api_plans,
        pages,
        pages_forecast,
        pages_forms,
        pages_matching,
    )

    app.include_router(api.router)
    app.include_router(api_collab.router)
    app.include_router(api_guardrails.router)
    app.include_router(api_matching.router)
    app.include_router(api_forecast.router)
    app.include_router(api_plans.router)
    app.include_router(pages.router)
    app.include_router(pages_forms.router)
    app.include_router(pages_matching.router)
    app.include_router(pages_forecast.router)
    from . import pages_upload  # the Data page's upload, as `opsfin ingest` (docs/web.md "Data")

    app.include_router(pages_upload.router)
    from . import pages_plant  # what a plant made (docs/web.md "A plant's view")

    app.include_router(pages_plant.router)
    from . import plan_files  # budgets in Excel: download and upload (docs/planning-excel.md)

    app.include_router(plan_files.router)
    app.include_router(plan_files.api_router)
    from . import pages_plan  # the Plan page (docs/web.md "Plan")

    app.include_router(pages_plan.router)
    from . import api_scenarios, pages_scenarios  # the Scenarios page, its API, the tornado (docs/web.md)

    app.include_router(api_scenarios.router)
    app.include_router(pages_scenarios.router)
    from . import api_cash, pages_cash  # the Cash page and its API (docs/web.md "Cash")

    app.include_router(pages_cash.router)
    app.include_router(api_cash.router)
    from . import api_predict, pages_predict  # the Predict page and its API (docs/web.md "Predict")

    app.include_router(pages_predict.router)
    app.include_router(api_predict.router)
    from . import pages_experiments, pages_invest  # the Investments and Experiments pages (docs/web.md)

    app.include_router(pages_invest.router)
    app.include_router(pages_experiments.router)


def _add_api_docs_and_health(app: FastAPI, ws) -> None:
    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def _api_docs(request: Request) -> Response:
        # the API reference drawn from the OpenAPI description on the server: no Swagger UI from a CDN, so
        # it works on a plant network without internet, like the charts
        from .pages import templates

        return templates.TemplateResponse(
            request,
            "api_docs.html",
            {
                "spec": app.openapi(),
                "user": None,
                "nav": (),
                "view": None,
                "active": "",
                "site_names": {},
                "company": ws.settings.company,
                "path": "/api/docs",
            },
        )

    @app.get("/healthz", include_in_schema=False)
    def _health() -> HTMLResponse:
        return HTMLResponse("ok")
