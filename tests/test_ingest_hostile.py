"""Hostile input files through the real CLI: a clear refusal (exit 2) or a quarantined row with a
reason, never a traceback, and one value rule on every path (docs/ingest.md, "One value parser").

Each test was written against a file that gave a traceback, or a silently rounded or coerced
value, before the fix; the expected counts and reasons are worked out from the file by hand.
"""

from __future__ import annotations

import json
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from cli_support import run_cli

CUSTOMER = {
    "customer_id": "C0",
    "name": "Good",
    "segment": "retail",
    "country": "DE",
    "currency": "EUR",
    "payment_terms_days": 30,
    "credit_limit": 10,
}


def ingest(capsys, workspace, path, *extra: str) -> tuple[int, dict | None, str]:
    """Run `opsfin ingest` in process: (exit code, the JSON result or None, stderr)."""
    code, out, err = run_cli(capsys, "ingest", str(path), *extra, "-w", str(workspace.path), "-o", "json")
    return code, (json.loads(out) if code == 0 else None), err


def counts(workspace) -> dict[str, int]:
    return {
        name: workspace.sql(f'SELECT count(*) FROM "{name}"').item()
        for name in (
            "customers",
            "quarantine",
            "loads",
            "bank_transactions",
            "ap_invoices",
            "fx_rates",
        )
    }


def quarantine_reasons(workspace) -> list[str]:
    return [r[0] for r in workspace.sql("SELECT reason FROM quarantine ORDER BY source_row").rows()]


def assert_refused(workspace, code: int, err: str, *words: str) -> None:
    """Exit 2, one `error:` line naming the problem, and nothing written."""
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert set(counts(workspace).values()) == {0}


# ---------------------------------------------------------------- JSON Lines
@pytest.mark.parametrize(
    "bad_line, reason",
    [
        # payment_terms_days of 5,000 digits: int() refuses more than 4,300 (was a ValueError traceback)
        (
            '{"customer_id": "C1", "payment_terms_days": ' + "9" * 5000 + "}",
            "too large for INTEGER",
        ),
        # nested 1,000 levels deep (was a RecursionError traceback)
        ('{"customer_id": "C1", "name": ' + "[" * 1000 + "]" * 1000 + "}", "deeper than 64 levels"),
        # a lone surrogate in a value, then in a key (was a UnicodeEncodeError traceback in loader.py)
        ('{"customer_id": "C1", "name": "\\ud800x"}', "lone surrogate"),
        ('{"customer_id": "C1", "\\ud800": "x"}', "lone surrogate"),
    ],
)
def test_jsonl_hostile_line_is_quarantined(workspace, tmp_path, capsys, bad_line, reason):
    path = tmp_path / "customers.jsonl"
    path.write_text(json.dumps(CUSTOMER) + "\n" + bad_line + "\n", encoding="utf-8")
    code, result, err = ingest(capsys, workspace, path, "-t", "customers")
    assert code == 0, err
    assert (result["rows_read"], result["rows_accepted"], result["rows_quarantined"]) == (2, 1, 1)
    (found,) = quarantine_reasons(workspace)
    assert reason in found
    assert workspace.sql("SELECT customer_id FROM customers").item() == "C0"


@pytest.mark.parametrize(
    "column, literal, reason",
    [
        # int(Decimal("1e999999999")) builds a billion-digit integer: the ingest hung
        ("payment_terms_days", "1e999999999", "too large for INTEGER"),
        # format(Decimal("1e999999999"), "f") is a billion characters: the ingest hung
        ("name", "1e999999999", "too long for an id or a text"),
    ],
)
def test_jsonl_number_with_a_huge_exponent_is_refused_at_once(workspace, tmp_path, capsys, column, literal, reason):
    line = json.dumps(CUSTOMER).replace(f'"{column}": {json.dumps(CUSTOMER[column])}', f'"{column}": {literal}')
    path = tmp_path / "customers.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    code, result, err = ingest(capsys, workspace, path, "-t", "customers")
    assert code == 0 and result["rows_quarantined"] == 1, err
    (found,) = quarantine_reasons(workspace)
    assert f"column '{column}'" in found and reason in found


def test_jsonl_timestamp_followed_by_nul_is_refused(workspace, tmp_path, capsys):
    # datetime.fromisoformat("2024-01-01 10:00:00\x00") is 10:00 -- it was accepted
    rows = [
        {
            "ticket_id": "T1",
            "cost_center_id": "CC1",
            "opened_at": "2024-01-01 10:00:00\u0000",
            "handling_minutes": 5,
        }
    ]
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    code, result, err = ingest(capsys, workspace, path, "-t", "support_tickets")
    assert code == 0 and result["rows_quarantined"] == 1
    (found,) = quarantine_reasons(workspace)
    assert "column 'opened_at'" in found and "control character U+0000" in found


def test_jsonl_arabic_indic_digits_are_no_number(workspace, tmp_path, capsys):
    path = tmp_path / "customers.jsonl"
    path.write_text(json.dumps({**CUSTOMER, "credit_limit": "١٢"}) + "\n", encoding="utf-8")
    code, result, _ = ingest(capsys, workspace, path, "-t", "customers")
    assert code == 0 and result["rows_quarantined"] == 1
    assert "digit" in quarantine_reasons(workspace)[0] and "0-9" in quarantine_reasons(workspace)[0]


# ---------------------------------------------------------------- Parquet
def test_parquet_date_outside_python_is_quarantined(workspace, tmp_path, capsys):
    # day 2**31 - 1 after 1970 is far past year 9999 (was an OverflowError traceback in sources.py)
    days = pa.array([19753, 2**31 - 1], pa.int32()).cast(pa.date32())  # 19753 = 2024-01-31
    path = tmp_path / "fx.parquet"
    pq.write_table(
        pa.table(
            {
                "rate_date": days,
                "currency": ["USD", "GBP"],
                "rate_to_base": pa.array(["1.1", "0.85"]).cast(pa.decimal128(18, 8)),
            }
        ),
        path,
    )
    code, result, err = ingest(capsys, workspace, path, "-t", "fx_rates")
    assert code == 0, err
    assert (result["rows_read"], result["rows_accepted"], result["rows_quarantined"]) == (2, 1, 1)
    (found,) = quarantine_reasons(workspace)
    assert "column 'rate_date'" in found and "years 1 to 9999" in found
    assert workspace.sql("SELECT currency FROM fx_rates").item() == "USD"


def test_parquet_timestamp_outside_python_is_quarantined(workspace, tmp_path, capsys):
    stamps = pa.array([2**62], pa.int64()).cast(pa.timestamp("us"))  # about year 146,000
    path = tmp_path / "tickets.parquet"
    pq.write_table(
        pa.table(
            {
                "ticket_id": ["T1"],
                "cost_center_id": ["CC1"],
                "opened_at": stamps,
                "handling_minutes": [5.0],
            }
        ),
        path,
    )
    code, result, err = ingest(capsys, workspace, path, "-t", "support_tickets")
    assert code == 0, err
    assert result["rows_quarantined"] == 1 and "column 'opened_at'" in quarantine_reasons(workspace)[0]


def test_parquet_corrupt_data_page_is_a_clear_error(workspace, tmp_path, capsys):
    path = tmp_path / "customers.parquet"
    pq.write_table(
        pa.table({"customer_id": [f"C{i}" for i in range(2000)], "name": ["A" * 50] * 2000}),
        path,
        compression="snappy",
    )
    damaged = bytearray(path.read_bytes())
    for i in range(100, 400):  # inside the first column chunk's data page
        damaged[i] ^= 0x5A
    path.write_bytes(bytes(damaged))
    code, _, err = ingest(capsys, workspace, path, "-t", "customers")
    assert_refused(workspace, code, err, str(path), "damaged Parquet data")


# ---------------------------------------------------------------- Excel
def _workbook_with_doctype(tmp_path, doctype: bytes, entity_use: bytes | None) -> object:
    plain = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, list(CUSTOMER))
    sheet.write_row(1, 0, list(CUSTOMER.values()))
    book.close()
    path = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                data = data.replace(b"<sst", doctype + b"<sst", 1)
                if entity_use:
                    data = data.replace(b">Good<", b">" + entity_use + b"<", 1)
            dst.writestr(item, data)
    return path


@pytest.mark.parametrize(
    "doctype, entity_use",
    [
        (
            b'<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///nonexistent/secret.txt">]>',
            b"&x;",
        ),  # was a ParseError traceback
        (
            b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
            b"&b;",
        ),  # was expanded
        (b"<!DOCTYPE sst>", None),
    ],
)
def test_xlsx_with_doctype_is_refused(workspace, tmp_path, capsys, doctype, entity_use):
    path = _workbook_with_doctype(tmp_path, doctype, entity_use)
    code, _, err = ingest(capsys, workspace, path, "-t", "customers")
    assert_refused(workspace, code, err, str(path), "xl/sharedStrings.xml declares a DOCTYPE")


# ---------------------------------------------------------------- documents
_CAMT = """<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Stmt><Id>S-1</Id><CreDtTm>2024-03-01T10:00:00</CreDtTm><Acct><Id><Othr><Id>12345678</Id></Othr></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-02-29</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">11.01</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-01</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>{date}</Dt></BookgDt></Ntry>
</Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize(
    "amount, date, words",
    [
        (
            "1.005",
            "2024-03-01",
            ["Stmt[1]/Ntry[1]/Amt", "'1.005' has more than 2 decimals"],
        ),  # was stored as 1.01
        ("١٢", "2024-03-01", ["Stmt[1]/Ntry[1]/Amt", "'١٢' is not a number"]),  # was 12
        (
            "1.01",
            "2024-03-01junk",
            ["Stmt[1]/Ntry[1]/BookgDt", "'2024-03-01junk' is not a date"],
        ),  # was 2024-03-01
    ],
)
def test_camt053_values_are_refused_not_rounded(workspace, tmp_path, capsys, amount, date, words):
    path = tmp_path / "statement.xml"
    path.write_text(_CAMT.format(amount=amount, date=date), encoding="utf-8")
    code, _, err = ingest(capsys, workspace, path)
    assert_refused(workspace, code, err, str(path), *words)


def test_camt053_with_doctype_is_refused(workspace, tmp_path, capsys):
    text = _CAMT.format(amount="1.01", date="2024-03-01").replace(
        "<Document", '<!DOCTYPE Document [<!ENTITY a "1.01">]><Document', 1
    )
    path = tmp_path / "statement.xml"
    path.write_text(text, encoding="utf-8")
    code, _, err = ingest(capsys, workspace, path, "--doc-format", "camt053")
    assert_refused(workspace, code, err, str(path), "declares a DOCTYPE")


_MT940 = ":20:X\n:25:ACC\n:28C:1\n:60F:C240101EUR10,00\n:61:240101C{amount}NTRFNONREF\n:62F:C240101EUR{closing}\n-\n"


@pytest.mark.parametrize(
    "amount, closing, words",
    [
        (
            "0,001",
            "10,00",
            ["line 5 (:61:)", "amount: '0,001' has more than 2 decimals"],
        ),  # was stored as 0.00
        ("١٢,00", "22,00", ["line 5 (:61:)", "cannot read statement line"]),  # was 12.00
    ],
)
def test_mt940_values_are_refused_not_rounded(workspace, tmp_path, capsys, amount, closing, words):
    path = tmp_path / "account.sta"
    path.write_bytes(_MT940.format(amount=amount, closing=closing).encode("utf-8"))
    code, _, err = ingest(capsys, workspace, path, "--doc-format", "mt940")
    assert_refused(workspace, code, err, str(path), *words)


_UBL = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>INV-7</cbc:ID><cbc:IssueDate>2024-01-16</cbc:IssueDate>
<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID>S1</cbc:EndpointID>
<cac:PartyName><cbc:Name>Acme</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
<cac:PaymentTerms><cac:SettlementPeriod><cbc:DurationMeasure unitCode="DAY">{days}</cbc:DurationMeasure>
</cac:SettlementPeriod></cac:PaymentTerms>
<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0.00</cbc:TaxAmount></cac:TaxTotal>
<cac:LegalMonetaryTotal><cbc:TaxInclusiveAmount currencyID="EUR">30.00</cbc:TaxInclusiveAmount></cac:LegalMonetaryTotal>
<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">3</cbc:InvoicedQuantity>
<cbc:LineExtensionAmount currencyID="EUR">30.00</cbc:LineExtensionAmount><cac:Item><cbc:Name>W</cbc:Name></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount><cbc:BaseQuantity>{base}</cbc:BaseQuantity></cac:Price>
</cac:InvoiceLine></Invoice>"""


@pytest.mark.parametrize(
    "days, price, base, words",
    [
        (
            "9999999999",
            "10",
            "1",
            ["DurationMeasure", "'9999999999' is larger than"],
        ),  # was an OverflowError
        ("²", "10", "1", ["DurationMeasure", "'²' is not a whole number"]),  # "²".isdigit() is true
        (
            "30",
            "10",
            "1e-30",
            ["InvoiceLine[1]/Price", "does not fit a unit price"],
        ),  # was decimal.InvalidOperation
        (
            "30",
            "10.00001",
            "1",
            ["InvoiceLine[1]/Price/PriceAmount", "more than 4 decimals"],
        ),  # was rounded to 10.0000
        ("30", "١٠", "1", ["InvoiceLine[1]/Price/PriceAmount", "'١٠' is not a number"]),  # was 10
    ],
)
def test_ubl_values_are_refused(workspace, tmp_path, capsys, days, price, base, words):
    path = tmp_path / "invoice.xml"
    path.write_text(_UBL.format(days=days, price=price, base=base), encoding="utf-8")
    code, _, err = ingest(capsys, workspace, path, "--add-missing-parties")
    assert_refused(workspace, code, err, str(path), *words)


def test_ubl_with_sound_values_still_loads(workspace, tmp_path, capsys):
    path = tmp_path / "invoice.xml"
    path.write_text(_UBL.format(days="30", price="10", base="1"), encoding="utf-8")
    code, result, err = ingest(capsys, workspace, path, "--add-missing-parties")
    assert code == 0, err
    assert result["rows_quarantined"] == 0
    (due,) = workspace.sql("SELECT due_date FROM ap_invoices").rows()[0]
    assert str(due) == "2024-02-15"  # IssueDate 2024-01-16 + 30 days
