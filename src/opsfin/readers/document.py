"""What the readers share: the parsed document, the parties it names, the namespaces of the XML
formats, and the helpers that parse values (through the one value parser, `opsfin.values`) and
XML. `readers/__init__.py` (detection and dispatch) and each reader import it; it imports none of them."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from ..errors import UserError
from ..values.documents import Invalid, NotANumber, TooLarge, document_date, document_decimal, show


@dataclass(frozen=True)
class Party:
    """A trading party named in a document (e.g. the seller of a UBL invoice)."""

    ids: tuple[str, ...]  # endpoint id, VAT/company id, party identification — best first
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


# ---------------------------------------------------------------- namespaces of the XML formats

_CAMT053_NS = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d+$")
_UBL_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}


def _split_tag(tag: str) -> tuple[str, str]:
    """'{ns}Local' -> ('ns', 'Local')."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


# ---------------------------------------------------------------- helpers shared by the readers

MONEY = "DECIMAL(18,2)"  # the canonical scale of amounts and balances
PRICE = "DECIMAL(18,4)"  # the canonical scale of unit prices
_PRICE_UNIT = Decimal("0.0001")


def parse_decimal(text: str | None, where: str, *, comma: bool = False, column_type: str | None = None) -> Decimal:
    """Decimal from document text (`comma=True`: SWIFT style "1234,56"), through the one value
    parser (`opsfin.values`): digits 0-9 only, and with `column_type` (`MONEY`, `PRICE`) refused,
    never rounded, when it has more decimals than the column keeps. Raises ValueError naming `where`."""
    if text is None:
        raise ValueError(f"{where}: missing amount")
    try:
        return document_decimal(text, column_type, comma=comma)
    except NotANumber:
        raise ValueError(f"{where}: {show(text.strip())} is not a number") from None
    except TooLarge:
        fits = f" for {column_type}" if column_type else ""
        raise ValueError(f"{where}: {show(text.strip())} is out of range{fits}") from None
    except Invalid as exc:
        raise ValueError(f"{where}: {exc}") from None


def parse_date(text: str, where: str) -> dt.date:
    """A document date ("YYYY-MM-DD", or an ISO date-time whose date is taken) through the one
    value parser; a trailing NUL, other digits or garbage are refused. Raises ValueError."""
    try:
        return document_date(text)
    except Invalid as exc:
        raise ValueError(f"{where}: {exc}") from None


def unit_price(amount: Decimal, base_quantity: Decimal) -> Decimal:
    """PriceAmount / BaseQuantity at the PRICE scale (half up). The one rounding a reader does:
    a quotient such as 100 / 9 has no exact form; a written price is never rounded."""
    return (amount / base_quantity).quantize(_PRICE_UNIT, rounding=ROUND_HALF_UP)


def to_table(name: str, rows: list[dict[str, Any]], source: Path | str = "") -> pa.Table:
    """Rows (dicts keyed by column name) as an Arrow table with the canonical schema of `name`."""
    from ..canonical import table

    schema = table(name).arrow_schema(False)
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    try:
        return pa.Table.from_pydict(columns, schema=schema)
    except (pa.ArrowException, OverflowError, ValueError, TypeError) as exc:
        raise UserError(f"{source}: a value does not fit table {name}: {exc}") from None


def statement_document(
    fmt: str,
    path: Path | str,
    statements: list[dict[str, Any]],
    transactions: list[dict[str, Any]],
    statement_locations: list[str],
    transaction_locations: list[str],
    **meta: Any,
) -> ParsedDocument:
    """A bank-statement parse: `bank_statements` + `bank_transactions` with their locations."""
    return ParsedDocument(
        format=fmt,
        tables={
            "bank_statements": to_table("bank_statements", statements, path),
            "bank_transactions": to_table("bank_transactions", transactions, path),
        },
        locations={
            "bank_statements": statement_locations,
            "bank_transactions": transaction_locations,
        },
        meta={"source": str(path), **meta},
    )


class _Prolog(Exception):
    """Raised by the prolog scan: at the root element (fine) or at a DOCTYPE (refused)."""


def doctype_line(stream: IO[bytes]) -> int | None:
    """The line of a DOCTYPE declaration before the root element of an XML stream, else None.

    Bank statements, invoices and spreadsheet parts never need one; a DOCTYPE is how entity
    expansion ("billion laughs") and external entities get in, so every XML opsfin reads is
    refused when it has one, whether or not an entity is used. Reads only up to the root tag."""
    parser = xml.parsers.expat.ParserCreate()

    def at_doctype(*_args: object) -> None:
        raise _Prolog(parser.CurrentLineNumber)

    def at_root(*_args: object) -> None:
        raise _Prolog(None)

    parser.StartDoctypeDeclHandler = at_doctype
    parser.StartElementHandler = at_root
    try:
        while chunk := stream.read(65536):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Prolog as stop:
        return stop.args[0]
    except xml.parsers.expat.ExpatError:
        return None  # malformed: the real parse reports where
    return None


def xml_root(path: Path) -> ET.Element:
    """Parse an XML file; a malformed file, or one with a DOCTYPE, becomes a UserError naming
    file, line and column."""
    try:
        with open(path, "rb") as fh:
            line = doctype_line(fh)
        if line is not None:
            raise UserError(
                f"{path}: refused: the XML declares a DOCTYPE (line {line}); opsfin reads no "
                "DOCTYPE, entity or external reference in a document"
            )
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
