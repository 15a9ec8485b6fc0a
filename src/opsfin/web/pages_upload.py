"""The Data page's upload (docs/web.md "Data"): a file loaded as `opsfin ingest FILE --table T` loads it,
through the same function (`opsfin.ingest.ingest_file`), so every row is accepted or quarantined with its
reason. The page then shows the load: rows read, accepted, quarantined, and the quarantined rows."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import UserError, api_name
from .auth import Caller, form_of
from .problems import Problem
from .uploads import read_upload

router = APIRouter(include_in_schema=False)
DataLoader = Annotated[Caller, form_of("load_data", company_level=True)]  # a load names no site
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOADS = "uploads"  # the workspace folder that keeps each uploaded file (the load's source)


def _safe_name(filename: str | None) -> str:
    """The uploaded file's own name, reduced to letters, digits, dot, dash and underscore."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", (filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return name.lstrip(".") or "upload"


@router.post("/data/upload")
async def upload_submit(
    request: Request,
    file: Annotated[UploadFile, File()],
    caller: DataLoader,
    table: Annotated[str, Form()] = "",
) -> Response:
    from ..ingest import ingest_file
    from ..runs.audit_trail import load_payload

    data = await read_upload(file, MAX_UPLOAD_BYTES, "a file")
    state = request.app.state.opsfin
    shown = _safe_name(file.filename)
    folder = state.ws.path / UPLOADS
    folder.mkdir(exist_ok=True)
    path = folder / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{shown}"
    path.write_bytes(data)
    try:
        result = await run_in_threadpool(ingest_file, state.ws, path, table=table.strip() or None)
    except UserError as exc:
        path.unlink(missing_ok=True)
        message = exc.phrase(api_name).replace(str(path), shown).replace(path.name, shown)
        raise Problem(400, message.replace(str(state.ws.path) + "/", "")) from None
    if not result.already_loaded:
        state.app_db().record_event(caller.user.name, "load.ingest", "load", result.load_id, load_payload(result))
    else:
        path.unlink(missing_ok=True)
    state.results.cache.clear()
    query = urlencode({"uploaded": result.load_id, "load": result.load_id})
    return RedirectResponse(f"/data?{query}#upload", status_code=303)
