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

Money is parsed straight from the text into `Decimal` (never through float) and stored with the
canonical scale (MONEY 2, PRICE 4). Dates are `datetime.date`. Malformed or unsupported input
raises `opsfin.errors.UserError` naming the file and, when known, the line or element.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import UserError

FORMATS = ("camt053", "mt940", "ubl")


@dataclass(frozen=True)
class Party:
    """A trading party named in a document (e.g. the seller of a UBL invoice)."""

    ids: tuple[str, ...]          # endpoint id, VAT/company id, party identification — best first
    name: str
    country: str | None = None
    currency: str | None = None
    payment_terms_days: int | None = None


@dataclass
class ParsedDocument:
    format: str
    tables: dict[str, pa.Table]
    # For each table, one location per row ("Stmt[1]/Ntry[2]/TxDtls[1]", "line 143", "InvoiceLine[2]").
    locations: dict[str, list[str]] = field(default_factory=dict)
    # UBL only: the seller of each invoice, keyed by the invoice_id used in the tables.
    # The readers put the seller's best id in ap_invoices.supplier_id; ingest resolves it
    # against the supplier master data (or creates it with --add-missing-parties).
    parties: dict[str, Party] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- format detection

_CAMT053_NS = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d+$")
_UBL_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
_MT940_TAG = re.compile(r"^:(20|25|28C?|60[FM]|61|62[FM]):", re.MULTILINE)


def _split_tag(tag: str) -> tuple[str, str]:
    """'{ns}Local' -> ('ns', 'Local')."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


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
    """"camt053", "mt940", "ubl", or None, from the file's content (never its extension)."""
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
                "SWIFT MT940 or UBL 2.1 / Peppol BIS 3 Invoice or CreditNote")
    if fmt == "camt053":
        from .camt053 import read_camt053 as reader
    elif fmt == "mt940":
        from .mt940 import read_mt940 as reader
    elif fmt == "ubl":
        from .ubl import read_ubl as reader
    else:
        raise UserError(f"unknown document format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return reader(path)


# ---------------------------------------------------------------- helpers shared by the readers

_CENT = Decimal("0.01")
_PRICE_UNIT = Decimal("0.0001")
_LIMIT = Decimal(10) ** 14   # DECIMAL(18,4) holds 14 integer digits; DECIMAL(18,2) holds 16


def parse_decimal(text: str | None, where: str, *, comma: bool = False) -> Decimal:
    """Decimal from document text (`comma=True`: SWIFT style "1234,56"). Raises ValueError."""
    if text is None:
        raise ValueError(f"{where}: missing amount")
    s = text.strip()
    if comma:
        s = s.replace(",", ".")
        if s.endswith("."):
            s += "0"
        if s.startswith("."):
            s = "0" + s
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{where}: {text!r} is not a number")
    if abs(value) >= _LIMIT:
        raise ValueError(f"{where}: {text!r} is out of range")
    return value


def money(value: Decimal) -> Decimal:
    """Round to cents (half up): the canonical MONEY scale."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def price(value: Decimal) -> Decimal:
    """Round to 1/10000 (half up): the canonical PRICE scale."""
    return value.quantize(_PRICE_UNIT, rounding=ROUND_HALF_UP)


def to_table(name: str, rows: list[dict[str, Any]], source: Path | str = "") -> pa.Table:
    """Rows (dicts keyed by column name) as an Arrow table with the canonical schema of `name`."""
    from ..canonical import table

    schema = table(name).arrow_schema(False)
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    try:
        return pa.Table.from_pydict(columns, schema=schema)
    except (pa.ArrowException, OverflowError, ValueError, TypeError) as exc:
        raise UserError(f"{source}: a value does not fit table {name}: {exc}") from None


def statement_document(fmt: str, path: Path | str, statements: list[dict[str, Any]],
                       transactions: list[dict[str, Any]], statement_locations: list[str],
                       transaction_locations: list[str], **meta: Any) -> ParsedDocument:
    """A bank-statement parse: `bank_statements` + `bank_transactions` with their locations."""
    return ParsedDocument(
        format=fmt,
        tables={"bank_statements": to_table("bank_statements", statements, path),
                "bank_transactions": to_table("bank_transactions", transactions, path)},
        locations={"bank_statements": statement_locations, "bank_transactions": transaction_locations},
        meta={"source": str(path), **meta},
    )


def xml_root(path: Path) -> ET.Element:
    """Parse an XML file; a malformed file becomes a UserError naming file, line and column."""
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise UserError(f"{path}: not well-formed XML at line {line}, column {col + 1}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read file: {exc}") from None


def strip_namespaces(root: ET.Element) -> ET.Element:
    """Replace every '{ns}Local' tag by 'Local' in place, so paths stay readable."""
    for elem in root.iter():
        if isinstance(elem.tag, str) and elem.tag.startswith("{"):
            elem.tag = elem.tag.split("}", 1)[1]
    return root


def text_of(elem: ET.Element | None, path: str | None = None) -> str | None:
    """Stripped text of `elem` (or of its first descendant at `path`); None when absent or blank."""
    if elem is not None and path is not None:
        elem = elem.find(path)
    if elem is None or elem.text is None:
        return None
    value = elem.text.strip()
    return value or None


__all__ = ["FORMATS", "Party", "ParsedDocument", "detect_format", "read_document"]
