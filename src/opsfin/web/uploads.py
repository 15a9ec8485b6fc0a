"""An uploaded file read whole (the Data page's upload, a plan workbook): at most a size limit, never empty; a
400 problem otherwise."""

from __future__ import annotations

from fastapi import UploadFile

from .problems import Problem


async def read_upload(upload: UploadFile, max_bytes: int, what: str) -> bytes:
    """The bytes of `upload`; a 400 when it holds more than `max_bytes` or nothing (`what`: "a file", …)."""
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Problem(400, f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    if not data:
        raise Problem(400, f"choose {what} to upload")
    return data
