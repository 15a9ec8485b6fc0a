"""Opening an Excel .xlsx workbook safely: the one way opsfin opens one (tabular ingest in
`ingest/binary_sources.py`, the budget workbook in `runs/plan_sheets.py`).

A workbook whose XML parts declare a DOCTYPE is refused before openpyxl reads it (entity expansion and
external entities come in that way; Excel never writes one); a damaged file (a broken zip, XML that
cannot be parsed, a missing part) is a `UserError` naming the file, never a traceback."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path
from typing import Any

from ..errors import UserError
from .document import doctype_line

# What openpyxl raises on a damaged or hostile workbook (a broken zip, XML it cannot parse, a part
# that is missing or of the wrong shape, a cell value it cannot convert): catch it while reading cells.
WORKBOOK_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    ET.ParseError,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
)


def error_detail(exc: BaseException) -> str:
    """An exception in one line of at most 200 characters, for a message."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def refuse_doctype(path: Path) -> None:
    """A UserError when any XML part of the workbook declares a DOCTYPE (or the file is no zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.lower().endswith((".xml", ".rels", ".vml")):
                    with archive.open(member) as part:
                        line = doctype_line(part)
                    if line is not None:
                        raise UserError(
                            f"{path}: refused: the workbook part {member} declares a DOCTYPE "
                            f"(line {line}); opsfin reads no DOCTYPE, entity or external reference"
                        )
    except WORKBOOK_ERRORS as exc:
        raise UserError(f"{path}: not a readable Excel .xlsx workbook ({error_detail(exc)})") from None


def open_workbook(path: Path) -> Any:
    """The workbook at `path`, read-only with computed values (a formula gives its last computed value),
    after `refuse_doctype`. The caller closes it."""
    import openpyxl

    refuse_doctype(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except WORKBOOK_ERRORS as exc:
        raise UserError(f"{path}: not a readable Excel .xlsx workbook ({error_detail(exc)})") from None
