"""UBL / Peppol BIS 3 reader against the OpenPEPPOL example files (../shared/data/einvoice).

The expected numbers below were read by eye from the XML; each comment names its element.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from opsfin import canonical
from opsfin.errors import UserError
from opsfin.readers import Party, detect_format, read_document
from opsfin.readers.ubl import read_ubl
from services import SHARED_DATA, shared_file

DATA = SHARED_DATA
EINVOICE = DATA / "einvoice"
D = Decimal

# Per file: header values, then lines as (line, qty, unit_price, amount, product_id, po_line).
EXPECTED = {
    "peppol-base-example.xml": {
        "invoice_id": "9482348239847239874:Snippet1",  # seller EndpointID : cbc:ID
        "supplier_id": "9482348239847239874",  # AccountingSupplierParty/Party/EndpointID
        "kind": "invoice",  # <Invoice>, InvoiceTypeCode 380
        "invoice_date": dt.date(2017, 11, 13),  # cbc:IssueDate
        "due_date": dt.date(2017, 12, 1),  # cbc:DueDate
        "currency": "EUR",  # cbc:DocumentCurrencyCode
        "tax_amount": D("331.25"),  # TaxTotal/TaxAmount
        "total": D("1656.25"),  # LegalMonetaryTotal/TaxInclusiveAmount
        "tax_exclusive": D("1325"),  # LegalMonetaryTotal/TaxExclusiveAmount
        "payable": D("1656.25"),  # LegalMonetaryTotal/PayableAmount
        "lines": [
            # InvoiceLine 1: InvoicedQuantity 7, PriceAmount 400, LineExtensionAmount 2800,
            # StandardItemIdentification 21382183120983, OrderLineReference/LineID 123
            (1, 7.0, D("400"), D("2800"), "21382183120983", 123),
            # InvoiceLine 2: InvoicedQuantity -3, PriceAmount 500, LineExtensionAmount -1500
            (2, -3.0, D("500"), D("-1500"), "21382183120983", 123),
            # document AllowanceCharge: ChargeIndicator true, Amount 25 ("Insurance")
            (3, 1.0, D("25"), D("25"), None, None),
        ],
    },
    "peppol-Allowance-example.xml": {
        "invoice_id": "7300010000001:Snippet1",
        "supplier_id": "7300010000001",
        "kind": "invoice",
        "invoice_date": dt.date(2017, 11, 13),
        "due_date": dt.date(2017, 12, 1),
        "currency": "EUR",
        "tax_amount": D("1225.00"),  # the EUR TaxTotal (the second TaxTotal is 9324.00 SEK)
        "total": D("7125"),
        "tax_exclusive": D("5900"),
        "payable": D("6125.00"),  # = 7125 - PrepaidAmount 1000
        "lines": [
            # line 1: qty 10, PriceAmount 410 / BaseQuantity 1, LineExtensionAmount 4000
            # (10 x 410 + line charge 1 - line allowance 101), SellersItemIdentification 97iugug876
            (1, 10.0, D("410"), D("4000.00"), "97iugug876", None),
            # line 2: qty 10, PriceAmount 200 / BaseQuantity 2 = 100, LineExtensionAmount 1000
            (2, 10.0, D("100"), D("1000.00"), "97iugug876", 124),
            # line 3: qty 10, PriceAmount 100, LineExtensionAmount 900 (1000 + 1 - 101)
            (3, 10.0, D("100"), D("900.00"), "97iugug876", 124),
            (4, 1.0, D("200"), D("200"), None, None),  # AllowanceCharge: charge 200 (Cleaning)
            (5, 1.0, D("-200"), D("-200"), None, None),  # AllowanceCharge: allowance 200 (Discount)
        ],
    },
    "peppol-Vat-category-S.xml": {
        "invoice_id": "7300010000001:Snippet1",
        "supplier_id": "7300010000001",
        "kind": "invoice",
        "invoice_date": dt.date(2017, 11, 13),
        "due_date": dt.date(2017, 12, 1),
        "currency": "EUR",
        "tax_amount": D("1550.00"),  # TaxTotal/TaxAmount (1250 at 25% + 300 at 15%)
        "total": D("8550"),
        "tax_exclusive": D("7000"),
        "payable": D("8550"),
        "lines": [
            (1, 10.0, D("400"), D("4000.00"), "97iugug876", 123),
            (2, 10.0, D("200"), D("2000.00"), "97iugug876", None),
            (3, 10.0, D("90"), D("900.00"), "97iugug876", None),
            (4, 1.0, D("200"), D("200"), None, None),  # AllowanceCharge: charge 200
            (5, 1.0, D("-100"), D("-100"), None, None),  # AllowanceCharge: allowance 100
        ],
    },
    "peppol-base-creditnote-correction.xml": {
        "invoice_id": "9482348239847239874:CN:Snippet1",
        "supplier_id": "9482348239847239874",
        "kind": "credit_note",  # <CreditNote>, CreditNoteTypeCode 381
        "invoice_date": dt.date(2017, 11, 13),
        "due_date": dt.date(2017, 11, 13),  # no due date element: IssueDate
        "currency": "EUR",
        "tax_amount": D("-331.25"),  # TaxTotal/TaxAmount 331.25, negated
        "total": D("-1656.25"),  # TaxInclusiveAmount 1656.25, negated
        "tax_exclusive": D("1325"),
        "payable": D("1656.25"),
        "lines": [
            # CreditNoteLine 1: CreditedQuantity 7, PriceAmount 400, LineExtensionAmount 2800
            (1, -7.0, D("400"), D("-2800"), "21382183120983", 123),
            # CreditNoteLine 2: CreditedQuantity -3, PriceAmount 500, LineExtensionAmount -1500
            (2, 3.0, D("500"), D("1500"), "21382183120983", 123),
            (3, -1.0, D("25"), D("-25"), None, None),  # AllowanceCharge: charge 25, negated
        ],
    },
}


@pytest.fixture(scope="module")
def data_dir() -> Path:
    return shared_file("einvoice")


def test_all_sample_files_are_covered(data_dir):
    assert sorted(p.name for p in data_dir.glob("peppol-*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_invoice(data_dir, name):
    path = data_dir / name
    exp = EXPECTED[name]
    assert detect_format(path) == "ubl"
    doc = read_document(path)
    assert doc.format == "ubl"
    for table in ("ap_invoices", "ap_invoice_lines"):
        assert doc.tables[table].schema == canonical.table(table).arrow_schema(False)
        assert len(doc.locations[table]) == doc.tables[table].num_rows
    (inv,) = doc.tables["ap_invoices"].to_pylist()
    for key in (
        "invoice_id",
        "supplier_id",
        "kind",
        "invoice_date",
        "due_date",
        "currency",
        "tax_amount",
        "total",
    ):
        assert inv[key] == exp[key], key
    assert inv["supplier_ref"] == "Snippet1"  # cbc:ID
    lines = doc.tables["ap_invoice_lines"].to_pylist()
    assert len(lines) == len(exp["lines"])
    got = [(r["line"], r["qty"], r["unit_price"], r["amount"], r["product_id"], r["po_line"]) for r in lines]
    assert got == exp["lines"]
    assert all(r["invoice_id"] == exp["invoice_id"] and r["po_id"] is None for r in lines)
    line_sum = sum(r["amount"] for r in lines)
    assert line_sum + inv["tax_amount"] == inv["total"]  # the canonical model's rule
    sign = -1 if exp["kind"] == "credit_note" else 1
    assert line_sum == sign * exp["tax_exclusive"]
    assert doc.meta["totals"]["PayableAmount"] == exp["payable"]
    assert doc.meta["warnings"] == []
    party = doc.parties[exp["invoice_id"]]
    assert party.ids[0] == exp["supplier_id"]
    assert party.name == "SupplierOfficialName Ltd"  # PartyLegalEntity/RegistrationName
    assert party.country == "GB" and party.currency == "EUR"


def test_parties_and_locations(data_dir):
    doc = read_document(data_dir / "peppol-base-example.xml")
    assert doc.parties == {
        "9482348239847239874:Snippet1": Party(
            ids=("9482348239847239874", "GB1232434", "GB983294", "99887766"),
            name="SupplierOfficialName Ltd",
            country="GB",
            currency="EUR",
            payment_terms_days=18,
        )
    }
    assert doc.locations == {
        "ap_invoices": ["Invoice"],
        "ap_invoice_lines": ["InvoiceLine[1]", "InvoiceLine[2]", "AllowanceCharge[1]"],
    }
    credit = read_document(data_dir / "peppol-base-creditnote-correction.xml")
    assert credit.parties["9482348239847239874:CN:Snippet1"].payment_terms_days is None
    assert credit.meta["billing_reference"] == "Snippet1"
    assert credit.meta["due_date_source"] == "IssueDate"
    assert credit.locations["ap_invoice_lines"][0] == "CreditNoteLine[1]"


def test_prepaid_amount_goes_to_meta(data_dir):
    doc = read_document(data_dir / "peppol-Allowance-example.xml")
    totals = doc.meta["totals"]
    assert totals["PrepaidAmount"] == D("1000")
    assert totals["TaxInclusiveAmount"] - totals["PrepaidAmount"] == totals["PayableAmount"]


# ---------------------------------------------------------------- synthetic files


def _ubl(
    body: str,
    header: str = "<cbc:DueDate>2024-02-15</cbc:DueDate>",
    totals: str = "<cbc:TaxExclusiveAmount currencyID='USD'>33.33</cbc:TaxExclusiveAmount>"
    "<cbc:TaxInclusiveAmount currencyID='USD'>40.00</cbc:TaxInclusiveAmount>"
    "<cbc:PayableRoundingAmount currencyID='USD'>0.01</cbc:PayableRoundingAmount>"
    "<cbc:PayableAmount currencyID='USD'>40.01</cbc:PayableAmount>",
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>INV-7</cbc:ID><cbc:IssueDate>2024-01-16</cbc:IssueDate>{header}
<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>
<cac:OrderReference><cbc:ID>PO-99</cbc:ID></cac:OrderReference>
<cac:AccountingSupplierParty><cac:Party>
<cac:PartyName><cbc:Name>Acme Trading</cbc:Name></cac:PartyName>
<cac:PartyTaxScheme><cbc:CompanyID>US123</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
</cac:Party></cac:AccountingSupplierParty>
<cac:TaxTotal><cbc:TaxAmount currencyID="USD">6.67</cbc:TaxAmount></cac:TaxTotal>
<cac:LegalMonetaryTotal>{totals}</cac:LegalMonetaryTotal>
{body}
</Invoice>"""


_LINE = """<cac:InvoiceLine><cbc:ID>{id}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">3</cbc:InvoicedQuantity>
<cbc:LineExtensionAmount currencyID="USD">{amount}</cbc:LineExtensionAmount>
<cac:OrderLineReference><cbc:LineID>{po_line}</cbc:LineID></cac:OrderLineReference>
<cac:Item><cbc:Name>Widget</cbc:Name><cac:BuyersItemIdentification><cbc:ID>RM-1</cbc:ID></cac:BuyersItemIdentification>
<cac:SellersItemIdentification><cbc:ID>ACME-1</cbc:ID></cac:SellersItemIdentification></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="USD">100</cbc:PriceAmount><cbc:BaseQuantity>9</cbc:BaseQuantity></cac:Price>
</cac:InvoiceLine>"""


def test_base_quantity_ids_and_rounding(tmp_path):
    path = tmp_path / "inv.xml"
    path.write_text(_ubl(_LINE.format(id="A-1", amount="33.33", po_line="L2")), encoding="utf-8")
    doc = read_ubl(path)
    (inv,) = doc.tables["ap_invoices"].to_pylist()
    assert inv["invoice_id"] == "US123:INV-7" and inv["supplier_id"] == "US123"
    assert inv["total"] == D("40.00") and inv["tax_amount"] == D("6.67")
    (line,) = doc.tables["ap_invoice_lines"].to_pylist()
    assert line["line"] == 1  # "A-1" is not an integer: position
    assert line["unit_price"] == D("11.1111")  # 100 / BaseQuantity 9, at PRICE scale
    assert line["product_id"] == "RM-1"  # BuyersItemIdentification first
    assert line["po_id"] == "PO-99" and line["po_line"] is None  # LineID "L2" is not numeric
    assert doc.meta["totals"]["PayableRoundingAmount"] == D("0.01")
    party = doc.parties["US123:INV-7"]
    assert party.name == "Acme Trading" and party.country is None
    assert party.payment_terms_days == 30  # DueDate 2024-02-15 - IssueDate 2024-01-16


def test_due_date_from_payment_means_and_inconsistent_totals(tmp_path):
    header = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        "<cbc:PaymentDueDate>2024-03-01</cbc:PaymentDueDate></cac:PaymentMeans>"
    )
    text = _ubl(_LINE.format(id="1", amount="30.00", po_line="7"), header="")
    text = text.replace("<cac:TaxTotal>", header + "<cac:TaxTotal>")
    path = tmp_path / "inv.xml"
    path.write_text(text, encoding="utf-8")
    doc = read_document(path)
    (inv,) = doc.tables["ap_invoices"].to_pylist()
    assert inv["due_date"] == dt.date(2024, 3, 1)
    assert doc.meta["due_date_source"] == "PaymentMeans/PaymentDueDate"
    assert inv["total"] == D("40.00")  # the document's TaxInclusiveAmount ...
    assert len(doc.meta["warnings"]) == 2  # ... which disagrees with 30.00 + 6.67
    assert doc.tables["ap_invoice_lines"].to_pylist()[0]["po_line"] == 7


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda t: t.replace("<cbc:IssueDate>2024-01-16</cbc:IssueDate>", ""),
            "missing cbc:IssueDate",
        ),
        (lambda t: t.replace("2024-01-16", "16.01.2024"), "'16.01.2024' is not a date"),
        (
            lambda t: t.replace(">33.33</cbc:LineExtensionAmount>", ">33,33</cbc:LineExtensionAmount>"),
            r"InvoiceLine\[1\]/LineExtensionAmount: '33,33' is not a number",
        ),
        (
            lambda t: t.replace('currencyID="USD">6.67', 'currencyID="EUR">6.67'),
            "no TaxTotal/TaxAmount in the document currency USD",
        ),
        (
            lambda t: t.replace("</cac:InvoiceLine>", "</cac:InvoiceLin>"),
            "not well-formed XML at line",
        ),
    ],
)
def test_malformed_invoice_gives_user_error(tmp_path, mutate, message):
    path = tmp_path / "bad-invoice.xml"
    path.write_text(mutate(_ubl(_LINE.format(id="1", amount="33.33", po_line="1"))), encoding="utf-8")
    with pytest.raises(UserError, match=message) as err:
        read_document(path, fmt="ubl")
    assert str(path) in str(err.value)


def test_garbage_and_foreign_xml(tmp_path):
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\xff<<not xml")
    assert detect_format(garbage) is None
    with pytest.raises(UserError, match="unrecognised document format") as err:
        read_document(garbage)
    assert str(garbage) in str(err.value)
    other = tmp_path / "order.xml"
    other.write_text("<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", encoding="utf-8")
    assert detect_format(other) is None
    with pytest.raises(UserError, match="not a UBL 2.1 Invoice or CreditNote"):
        read_document(other, fmt="ubl")
