"""Readers for real-world document formats: bank statements and e-invoices.

Each reader is a pure function from a file to a `ParsedDocument`: canonical tables as Arrow,
plus where every row came from in the file, so ingest can name the place of a bad value.

INTERFACE (shared by the readers and the ingest engine):

    detect_format(path) -> "camt053" | "mt940" | "ubl" | None     # sniffed from the content
    read_document(path, fmt=None) -> ParsedDocument                # raises UserError if unreadable

A ParsedDocument holds, per canonical table name, an Arrow table whose columns are that
table's columns (no `_load_id`), typed with `canonical.table(name).arrow_schema(False)`.

| format    | module              | tables                                   |
| --------- | ------------------- | ---------------------------------------- |
| `camt053` | `readers.camt053`   | `bank_statements`, `bank_transactions`   |
| `mt940`   | `readers.mt940`     | `bank_statements`, `bank_transactions`   |
| `ubl`     | `readers.ubl`       | `ap_invoices`, `ap_invoice_lines`        |

Every value is parsed by the one value parser (`opsfin.values`), as tabular ingest parses
it: money straight from the text into `Decimal` (never through float), refused rather than
rounded when it has more decimals than its column keeps (MONEY 2, PRICE 4); digits 0-9 only;
dates ISO. Dates are `datetime.date`. Malformed or unsupported input
raises `opsfin.errors.UserError` naming the file and, when known, the line or element.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import UserError
from .document import (
    _CAMT053_NS,
    _UBL_NS,
    ParsedDocument,
    Party,
    _split_tag,
    doctype_line,  # noqa: F401 - part of the readers' interface: every XML opsfin reads is checked with it
)

FORMATS = ("camt053", "mt940", "ubl")


# ---------------------------------------------------------------- format detection

_MT940_TAG = re.compile(r"^:(20|25|28C?|60[FM]|61|62[FM]):", re.MULTILINE)


def _root_tag(path: Path) -> tuple[str, str] | None:
    """Namespace and local name of the XML root element, or None if it is not XML."""
    try:
        with open(path, "rb") as fh:
            for _event, elem in ET.iterparse(fh, events=("start",)):
                return _split_tag(elem.tag)
    except (ET.ParseError, UnicodeDecodeError, ValueError):
        return None
    return None


def _head(path: Path, size: int = 8192) -> str:
    with open(path, "rb") as fh:
        raw = fh.read(size)
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    return raw.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n\x00")


def detect_format(path) -> str | None:
    """ "camt053", "mt940", "ubl", or None, from the file's content (never its extension)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    head = _head(path)
    if head.startswith("<"):
        root = _root_tag(path)
        if root is None:
            return None
        ns, local = root
        if local == "Document" and _CAMT053_NS.match(ns):
            return "camt053"
        if _UBL_NS.get(local) == ns:
            return "ubl"
        return None
    tags = {m.group(1) for m in _MT940_TAG.finditer(head.replace("\r\n", "\n"))}
    if "20" in tags and ("61" in tags or tags & {"60F", "60M", "62F", "62M"}):
        return "mt940"
    return None


def read_document(path, fmt: str | None = None) -> ParsedDocument:
    """Parse `path` (format sniffed unless `fmt` is given) into canonical tables."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if fmt is None:
        fmt = detect_format(path)
        if fmt is None:
            raise UserError(
                f"{path}: unrecognised document format; expected ISO 20022 camt.053 XML, "
                "SWIFT MT940 or UBL 2.1 / Peppol BIS 3 Invoice or CreditNote"
            )
    if fmt == "camt053":
        from .camt053 import read_camt053 as reader
    elif fmt == "mt940":
        from .mt940 import read_mt940 as reader
    elif fmt == "ubl":
        from .ubl import read_ubl as reader
    else:
        raise UserError(f"unknown document format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return reader(path)


__all__ = ["FORMATS", "Party", "ParsedDocument", "detect_format", "read_document"]
