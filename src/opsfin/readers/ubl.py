"""UBL 2.1 Invoice / CreditNote (Peppol BIS Billing 3.0) -> `ap_invoices` + `ap_invoice_lines`.

One document per file. The seller (`AccountingSupplierParty`) is returned in
`ParsedDocument.parties[invoice_id]`; ingest resolves it against the supplier master data.

`ap_invoices`
- invoice_id = "{seller id}:{cbc:ID}" for an invoice and "{seller id}:CN:{cbc:ID}" for a credit
  note (invoice and credit-note numbers are separate series at many suppliers, so the same
  number may appear in both); seller id = the seller's first id (below). supplier_id = that id;
  supplier_ref = `cbc:ID`.
- kind = "credit_note" for a CreditNote document or an Invoice with InvoiceTypeCode 381, else
  "invoice".
- invoice_date = IssueDate; due_date = DueDate, else PaymentMeans/PaymentDueDate, else
  PaymentTerms/PaymentDueDate, else PaymentTerms/SettlementPeriod (EndDate, or IssueDate +
  DurationMeasure in days), else IssueDate. `meta["due_date_source"]` names the element used.
  Free-text PaymentTerms/Note is not interpreted ("within 10 days, 2% discount" is usually a
  discount period, not the net term); it is kept in `meta["payment_terms_note"]`.
- currency = DocumentCurrencyCode; tax_amount = the TaxTotal/TaxAmount in that currency (a second
  TaxTotal in TaxCurrencyCode is ignored).
- total = LegalMonetaryTotal/TaxInclusiveAmount: the invoice amount before prepayments and
  rounding. The canonical model's rule `total = Σ line amounts + tax_amount` holds because the
  document-level AllowanceCharge elements become extra lines (allowance negative, charge
  positive), so Σ lines = TaxExclusiveAmount. When the document's own totals disagree with its
  lines, `meta["warnings"]` says so (ingest then quarantines the invoice on that contract).
- PayableAmount, PrepaidAmount, PayableRoundingAmount, LineExtensionAmount, TaxExclusiveAmount,
  AllowanceTotalAmount and ChargeTotalAmount go to `meta["totals"]` (document signs).

`ap_invoice_lines`
- line = InvoiceLine/ID when every line ID is a distinct positive integer, else the position;
  the document-level allowances and charges follow, numbered after the last line.
- qty = InvoicedQuantity / CreditedQuantity; unit_price = PriceAmount / BaseQuantity (when
  given; rounded half up to 4 decimals, since a quotient such as 100 / 9 has no exact form);
  amount = LineExtensionAmount (it already includes line-level allowances and charges);
- product_id = BuyersItemIdentification (the buyer's own item id, when the supplier sends it),
  else SellersItemIdentification, else StandardItemIdentification, else null;
- po_id = the document's OrderReference/ID; po_line = OrderLineReference/LineID when numeric.
- allowance/charge lines: qty 1, unit_price = amount, product_id, po_id and po_line null.

Every value goes through the one value parser (`opsfin.values`): amounts at the MONEY scale and
PriceAmount at the PRICE scale are refused, never rounded, when they have more decimals; digits
are 0-9 only; a DurationMeasure must be a whole number of days that keeps the due date in the
calendar. A refused value refuses the document with a UserError naming the element.

Credit notes carry negative amounts: tax_amount, total, line amounts and qty are negated;
unit_price keeps its sign, so qty × unit_price ≈ amount still holds.

Party.ids = EndpointID, PartyTaxScheme/CompanyID, PartyLegalEntity/CompanyID,
PartyIdentification/ID (values without scheme, de-duplicated, in that order).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from ..errors import UserError
from ..values.documents import Invalid, document_whole
from .document import (
    _UBL_NS,
    MONEY,
    PRICE,
    ParsedDocument,
    Party,
    _split_tag,
    parse_date,
    parse_decimal,
    strip_namespaces,
    text_of,
    to_table,
    unit_price,
    xml_root,
)

_LAST_DAY = (dt.date.max - dt.date.min).days  # no payment term is longer than the calendar
_PRICE_LIMIT = Decimal(10) ** 14  # DECIMAL(18,4) keeps 14 integer digits


class _Bad(Exception):
    """A problem at a known element; becomes a UserError naming file and element."""


def _per_unit(amount: Decimal, base: Decimal, where: str) -> Decimal:
    """PriceAmount / BaseQuantity; refused when it does not fit a unit price (DECIMAL(18,4))."""
    if base < 0 or abs(amount) >= _PRICE_LIMIT * abs(base):
        raise _Bad(
            f"{where}/Price: PriceAmount {amount} / BaseQuantity {base} does not fit a unit price "
            f"({PRICE}); BaseQuantity must be positive"
        )
    return unit_price(amount, base)


def _amount(
    elem: ET.Element | None,
    path: str,
    where: str,
    required: bool = True,
    column_type: str | None = MONEY,
) -> Decimal | None:
    """The number at `path`, at `column_type`'s scale (None: any exact number, e.g. a quantity)."""
    node = elem.find(path) if elem is not None else None
    if node is None or not (node.text or "").strip():
        if required:
            raise _Bad(f"{where}: missing {path}")
        return None
    try:
        return parse_decimal(node.text, f"{where}/{path}", column_type=column_type)
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _date(root: ET.Element, path: str) -> dt.date | None:
    raw = text_of(root, path)
    if raw is None:
        return None
    try:
        return parse_date(raw, path)
    except ValueError as exc:
        raise _Bad(f"{exc} (YYYY-MM-DD)") from None


def _due_date(root: ET.Element, issue: dt.date) -> tuple[dt.date, str]:
    for path in (
        "DueDate",
        "PaymentMeans/PaymentDueDate",
        "PaymentTerms/PaymentDueDate",
        "PaymentTerms/SettlementPeriod/EndDate",
    ):
        due = _date(root, path)
        if due is not None:
            return due, path
    path = "PaymentTerms/SettlementPeriod/DurationMeasure"
    duration = root.find(path)
    if duration is not None and (duration.get("unitCode") or "DAY") == "DAY":
        days = text_of(duration)
        if days:
            try:
                return issue + dt.timedelta(days=document_whole(days, _LAST_DAY)), path
            except Invalid as exc:
                raise _Bad(f"{path}: {exc}") from None
            except OverflowError:
                raise _Bad(f"{path}: IssueDate {issue} + {days} days is after {dt.date.max}") from None
    return issue, "IssueDate"


def _seller(root: ET.Element) -> tuple[list[str], str, str | None]:
    party = root.find("AccountingSupplierParty/Party")
    if party is None:
        raise _Bad("missing AccountingSupplierParty/Party (the seller)")
    ids: list[str] = []
    for path in (
        "EndpointID",
        "PartyTaxScheme/CompanyID",
        "PartyLegalEntity/CompanyID",
        "PartyIdentification/ID",
    ):
        for node in party.findall(path):
            value = text_of(node)
            if value and value not in ids:
                ids.append(value)
    name = text_of(party, "PartyLegalEntity/RegistrationName") or text_of(party, "PartyName/Name")
    if not ids and not name:
        raise _Bad("AccountingSupplierParty has neither an id nor a name")
    return ids, name or ids[0], text_of(party, "PostalAddress/Country/IdentificationCode")


def _tax(root: ET.Element, currency: str) -> Decimal:
    totals = root.findall("TaxTotal")
    for i, total in enumerate(totals, 1):
        node = total.find("TaxAmount")
        if node is not None and node.get("currencyID", currency) == currency:
            return _amount(total, "TaxAmount", f"TaxTotal[{i}]")
    if totals:
        raise _Bad(f"no TaxTotal/TaxAmount in the document currency {currency}")
    return Decimal(0)


def _product(line: ET.Element) -> str | None:
    for path in (
        "Item/BuyersItemIdentification/ID",
        "Item/SellersItemIdentification/ID",
        "Item/StandardItemIdentification/ID",
    ):
        value = text_of(line, path)
        if value:
            return value
    return None


def _small_int(text: str | None) -> bool:
    """Digits only and small enough for an INTEGER column."""
    return bool(text) and text.isascii() and text.isdigit() and len(text) <= 9


def _line_numbers(ids: list[str | None]) -> list[int]:
    if all(_small_int(i) and int(i) > 0 for i in ids) and len(set(map(int, ids))) == len(ids):
        return [int(i) for i in ids]
    return list(range(1, len(ids) + 1))


def _lines(
    root: ET.Element, doc_type: str, invoice_id: str, po_id: str | None, sign: Decimal
) -> tuple[list[dict], list[str]]:
    """The invoice lines, then the document-level allowances and charges as extra lines; each
    with its location."""
    line_tag, qty_tag = (
        ("CreditNoteLine", "CreditedQuantity") if doc_type == "CreditNote" else ("InvoiceLine", "InvoicedQuantity")
    )
    elements = root.findall(line_tag)
    if not elements:
        raise _Bad(f"no {line_tag} elements")
    numbers = _line_numbers([text_of(e, "ID") for e in elements])
    lines, locations = [], []
    for i, (number, elem) in enumerate(zip(numbers, elements, strict=True), 1):
        where = f"{line_tag}[{i}]"
        qty = _amount(elem, qty_tag, where, column_type=None)
        unit = _amount(elem, "Price/PriceAmount", where, column_type=PRICE)
        base = _amount(elem, "Price/BaseQuantity", where, required=False, column_type=None)
        if base is not None and base != 0:
            unit = _per_unit(unit, base, where)
        po_line = text_of(elem, "OrderLineReference/LineID")
        lines.append(
            {
                "invoice_id": invoice_id,
                "line": number,
                "po_id": po_id,
                "po_line": int(po_line) if _small_int(po_line) else None,
                "product_id": _product(elem),
                "qty": float(sign * qty),
                "unit_price": unit,
                "amount": sign * _amount(elem, "LineExtensionAmount", where),
            }
        )
        locations.append(where)
    next_line = max(numbers)
    for i, ac in enumerate(root.findall("AllowanceCharge"), 1):
        where = f"AllowanceCharge[{i}]"
        indicator = (text_of(ac, "ChargeIndicator") or "").lower()
        if indicator not in ("true", "false"):
            raise _Bad(f"{where}: ChargeIndicator must be true or false")
        value = _amount(ac, "Amount", where) * (1 if indicator == "true" else -1)
        next_line += 1
        lines.append(
            {
                "invoice_id": invoice_id,
                "line": next_line,
                "po_id": None,
                "po_line": None,
                "product_id": None,
                "qty": float(sign),
                "unit_price": value,
                "amount": sign * value,
            }
        )
        locations.append(where)
    return lines, locations


_MONETARY_TOTALS = (
    "LineExtensionAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "AllowanceTotalAmount",
    "ChargeTotalAmount",
    "PrepaidAmount",
    "PayableRoundingAmount",
    "PayableAmount",
)


def _monetary_totals(root: ET.Element) -> dict[str, Decimal | None]:
    """The amounts of LegalMonetaryTotal as written (None when absent), at the MONEY scale."""
    monetary = root.find("LegalMonetaryTotal")
    return {key: _amount(monetary, key, "LegalMonetaryTotal", required=False) for key in _MONETARY_TOTALS}


def _checked_total(
    totals: dict[str, Decimal | None], lines: list[dict], tax: Decimal, sign: Decimal
) -> tuple[Decimal, list[str]]:
    """The document total (signed): TaxInclusiveAmount when written, else the lines plus tax; and a
    warning for each written total that differs from what the lines add up to."""
    line_sum = sum((row["amount"] for row in lines), Decimal(0))
    computed = line_sum + sign * tax
    inclusive = totals["TaxInclusiveAmount"]
    total = sign * inclusive if inclusive is not None else computed
    warnings = []
    if total != computed:
        warnings.append(
            f"LegalMonetaryTotal/TaxInclusiveAmount {inclusive} differs from the lines plus tax ({sign * computed})"
        )
    exclusive = totals["TaxExclusiveAmount"]
    if exclusive is not None and sign * exclusive != line_sum:
        warnings.append(
            f"LegalMonetaryTotal/TaxExclusiveAmount {exclusive} differs from the sum of "
            f"the lines and document allowances/charges ({sign * line_sum})"
        )
    return total, warnings


def read_ubl(path) -> ParsedDocument:
    path = Path(path)
    root = xml_root(path)
    ns, local = _split_tag(root.tag)
    if _UBL_NS.get(local) != ns:
        raise UserError(f"{path}: not a UBL 2.1 Invoice or CreditNote (root element {root.tag!r})")
    strip_namespaces(root)
    try:
        return _read(path, root, local)
    except _Bad as exc:
        raise UserError(f"{path}: {exc}") from None


def _read(path: Path, root: ET.Element, doc_type: str) -> ParsedDocument:
    ref = text_of(root, "ID")
    if ref is None:
        raise _Bad("missing cbc:ID (the invoice number)")
    credit = doc_type == "CreditNote" or text_of(root, "InvoiceTypeCode") == "381"
    sign = Decimal(-1) if credit else Decimal(1)
    issue = _date(root, "IssueDate")
    if issue is None:
        raise _Bad("missing cbc:IssueDate")
    due, due_source = _due_date(root, issue)
    currency = text_of(root, "DocumentCurrencyCode")
    if currency is None:
        raise _Bad("missing cbc:DocumentCurrencyCode")
    ids, name, country = _seller(root)
    supplier = ids[0] if ids else name
    invoice_id = f"{supplier}:CN:{ref}" if credit else f"{supplier}:{ref}"
    tax = _tax(root, currency)
    po_id = text_of(root, "OrderReference/ID")

    lines, locations = _lines(root, doc_type, invoice_id, po_id, sign)
    totals = _monetary_totals(root)
    total, warnings = _checked_total(totals, lines, tax, sign)

    invoice = {
        "invoice_id": invoice_id,
        "supplier_id": supplier,
        "supplier_ref": ref,
        "kind": "credit_note" if credit else "invoice",
        "invoice_date": issue,
        "due_date": due,
        "currency": currency,
        "tax_amount": sign * tax,
        "total": total,
    }
    terms = (due - issue).days if due_source != "IssueDate" else None
    return ParsedDocument(
        format="ubl",
        tables={
            "ap_invoices": to_table("ap_invoices", [invoice], path),
            "ap_invoice_lines": to_table("ap_invoice_lines", lines, path),
        },
        locations={"ap_invoices": [doc_type], "ap_invoice_lines": locations},
        parties={
            invoice_id: Party(
                ids=tuple(ids),
                name=name,
                country=country,
                currency=currency,
                payment_terms_days=terms,
            )
        },
        meta={
            "source": str(path),
            "document_type": doc_type,
            "due_date_source": due_source,
            "totals": {k: v for k, v in totals.items() if v is not None},
            "billing_reference": text_of(root, "BillingReference/InvoiceDocumentReference/ID"),
            "payment_terms_note": text_of(root, "PaymentTerms/Note"),
            "warnings": warnings,
        },
    )
