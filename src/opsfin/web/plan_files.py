"""A plan version's budget workbook on the web (docs/planning-excel.md): download the template, upload a
filled-in one. The same reading and writing as `opsfin plan export|import` (runs/plan_files.py).

- `GET /plans/{name}/export.xlsx` (and `/api/v1/plans/{name}/export.xlsx`): the template, as a download.
- `GET /plans/{name}/import`: the upload form; `POST /plans/{name}/import` (multipart: `file`, `kind`,
  `csrf_token`): the page again, with what was written or every refused cell (status 400).
- `POST /api/v1/plans/{name}/import` (multipart `file`, `kind`): JSON of what was written, or a 422
  problem whose `problems` lists every refused cell (a cookie caller sends the X-CSRF-Token header).

All of them need a role that may write a plan (analyst and above, `submit_plans`; never a viewer) and no
site scope: a version covers every site. The Plan page links here with `plan_file_links(name)`."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ..appdb.plans import KINDS
from ..errors import UserError, api_name
from . import pages
from .api import VersionName
from .auth import check_csrf, form_of, identify
from .authz import authorize
from .problems import PROBLEM_RESPONSES, Problem
from .uploads import read_upload

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["plans"], responses=PROBLEM_RESPONSES)

PERMISSION = "submit_plans"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def plan_file_links(name: str) -> dict[str, str]:
    """The links a page shows for version `name`: the template download and the upload form."""
    return {"export": f"/plans/{name}/export.xlsx", "import": f"/plans/{name}/import"}


def _caller(request: Request):
    caller = identify(request)
    authorize(caller.user, PERMISSION, company_level=True)
    return caller


FromQ = Annotated[str | None, Query(alias="from", description="first month (YYYY-MM) of an empty template")]
ToQ = Annotated[str | None, Query(alias="to", description="last month (YYYY-MM), with from")]


def _download(request: Request, name: str, start: str | None, end: str | None) -> Response:
    from ..export.plan_xlsx import plan_filename, render_plan_xlsx
    from ..runs.plan_files import plan_template

    _caller(request)
    ws = request.app.state.opsfin.ws
    data = render_plan_xlsx(plan_template(ws, name, start, end), ws.settings.company)
    disposition = f'attachment; filename="{plan_filename(name)}"'
    return Response(data, media_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@router.get("/plans/{name}/export.xlsx")
def export_page(request: Request, name: VersionName, start: FromQ = None, end: ToQ = None) -> Response:
    return _download(request, name, start, end)


@api_router.get(
    "/plans/{name}/export.xlsx",
    summary="A plan version's budget template (xlsx: Volumes, Prices, Costs; analysts and above)",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "the workbook"}},
)
def export_api(request: Request, name: VersionName, start: FromQ = None, end: ToQ = None) -> Response:
    return _download(request, name, start, end)


async def _import(request: Request, name: str, upload: UploadFile, kind: str) -> dict[str, Any]:
    """Save the upload to a temporary file and import it as the caller; a UserError names the upload."""
    from ..runs.plan_files import import_plan

    caller = identify(request)
    if kind not in KINDS:
        raise Problem(400, f"kind {kind!r}: choose one of {', '.join(KINDS)}")
    data = await read_upload(upload, MAX_UPLOAD_BYTES, "a workbook (.xlsx)")
    shown = FilePath(upload.filename or "upload.xlsx").name
    with tempfile.TemporaryDirectory(prefix="opsfin-plan-") as folder:
        path = FilePath(folder) / "upload.xlsx"
        path.write_bytes(data)
        try:
            done = await run_in_threadpool(
                import_plan, request.app.state.opsfin.ws, path, name, kind, caller.user.name, shown
            )
        except UserError as exc:
            exc.what = exc.what.replace(str(path), shown).replace(path.name, shown)
            raise
    return {"version": done.version, "written": done.written, "replaced": done.replaced, "load_id": done.load_id}


def _form_page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    grant = authorize(identify(request).user, PERMISSION, company_level=True)
    context = {"name": name, "links": plan_file_links(name), "kinds": KINDS, "kind": "budget"} | context
    return pages.render(request, "plan_import.html", grant, None, "plans", status=status, **context)


@router.get("/plans/{name}/import", response_class=HTMLResponse)
def import_form(request: Request, name: VersionName) -> Response:
    return _form_page(request, name)


@router.post(
    "/plans/{name}/import", response_class=HTMLResponse, dependencies=[form_of(PERMISSION, company_level=True)]
)
async def import_submit(
    request: Request, name: VersionName, file: Annotated[UploadFile, File()], kind: Annotated[str, Form()] = "budget"
) -> Response:
    try:
        done = await _import(request, name, file, kind)
    except UserError as exc:
        problems = getattr(exc, "problems", None)
        message = exc.phrase(api_name).split("\n")[0].rstrip(":") if problems else exc.phrase(api_name)
        return _form_page(request, name, 400, kind=kind, error=message, problems=problems or [])
    except Problem as exc:
        return _form_page(request, name, exc.status, kind=kind, error=exc.detail, problems=[])
    return _form_page(request, name, kind=kind, done=done)


@api_router.post("/plans/{name}/import", summary="Replace a draft version's rows with a workbook (analysts and above)")
async def import_api(
    request: Request,
    name: VersionName,
    file: Annotated[UploadFile, File(description="the workbook (.xlsx, as export.xlsx writes it)")],
    kind: Annotated[str, Form(description="budget, forecast or scenario: the kind of a new version")] = "budget",
) -> Response:
    from .api import json_rows

    caller = _caller(request)
    check_csrf(request, caller)
    try:
        done = await _import(request, name, file, kind)
    except UserError as exc:
        problems = getattr(exc, "problems", None)
        if problems is None:
            raise
        raise Problem(422, exc.what.split("\n")[0].rstrip(":"), problems=problems) from None
    return json_rows(done)
