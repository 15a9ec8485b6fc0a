"""camt.053 reader against the golden parse of the OCA test statement (../shared/data/bank)."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from opsfin import canonical
from opsfin.errors import UserError
from opsfin.readers import detect_format, read_document
from opsfin.readers.camt053 import read_camt053
from services import SHARED_DATA, shared_file

DATA = SHARED_DATA
XML = DATA / "bank" / "camt053-oca-test.xml"
GOLDEN = DATA / "bank" / "camt053-oca-test.expected.pydata"


@pytest.fixture(scope="module")
def data_dir() -> Path:
    shared_file("bank/camt053-oca-test.xml")
    return DATA


@pytest.fixture(scope="module")
def golden(data_dir):
    currency, account, statements = ast.literal_eval(GOLDEN.read_text(encoding="utf-8"))
    return currency, account, statements


@pytest.fixture(scope="module")
def doc(data_dir):
    return read_document(XML)


def _dec(x: float) -> Decimal:
    # The golden file stores floats; money is compared at cent precision.
    return Decimal(repr(x)).quantize(Decimal("0.01"))


def test_detect_format(data_dir):
    assert detect_format(XML) == "camt053"


def test_schema_is_canonical(doc):
    assert doc.format == "camt053"
    for name in ("bank_statements", "bank_transactions"):
        assert doc.tables[name].schema == canonical.table(name).arrow_schema(False)
        assert len(doc.locations[name]) == doc.tables[name].num_rows


def test_statement_matches_golden(doc, golden):
    currency, account, statements = golden
    rows = doc.tables["bank_statements"].to_pylist()
    assert len(rows) == len(statements) == 1
    for row, exp in zip(rows, statements, strict=True):
        assert row["statement_id"] == exp["name"] == "1234Test/1"
        assert row["bank_account"] == account == "NL77ABNA0574908765"
        assert row["currency"] == currency == "EUR"
        assert row["statement_date"] == dt.date.fromisoformat(exp["date"])
        assert row["opening_balance"] == _dec(exp["balance_start"]) == Decimal("15568.27")
        assert row["closing_balance"] == _dec(exp["balance_end_real"]) == Decimal("15121.12")


def test_every_transaction_matches_golden(doc, golden):
    _currency, account, statements = golden
    expected = [t for s in statements for t in s["transactions"]]
    rows = doc.tables["bank_transactions"].to_pylist()
    assert len(rows) == len(expected) == 4
    for row, exp in zip(rows, expected, strict=True):
        assert row["amount"] == _dec(exp["amount"])
        assert row["booking_date"] == dt.date.fromisoformat(exp["date"])
        assert row["value_date"] == dt.date(2014, 1, 5)  # every Ntry/ValDt
        assert row["counterparty"] == exp["partner_name"]
        assert row["reference"] == exp["ref"]  # Refs/EndToEndId here
        # The golden `payment_ref` is AddtlTxInf; our description keeps it (after Ustrd).
        assert exp["payment_ref"] in row["description"]
        assert row["statement_id"] == "1234Test/1"
        assert row["bank_account"] == account
        assert row["currency"] == "EUR"


def test_ids_and_locations(doc):
    txns = doc.tables["bank_transactions"].to_pylist()
    assert [t["bank_txn_id"] for t in txns] == [
        "1234Test/1/1/1",
        "1234Test/1/2/1",
        "1234Test/1/2/2",
        "1234Test/1/3/1",
    ]
    assert doc.locations["bank_transactions"] == [
        "Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]",
        "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]",
        "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[2]",
        "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[1]",
    ]
    assert doc.locations["bank_statements"] == ["Stmt[1]"]
    # the batch entry (Ntry[2], 664.05 DBIT) is split into its two details
    assert sum(t["amount"] for t in txns[1:3]) == Decimal("-664.05")
    assert read_document(XML).tables["bank_transactions"].equals(doc.tables["bank_transactions"])


def test_sample_statement_does_not_balance(doc):
    # Known property of the OCA test file: opening + entries != closing (it is a parser test,
    # not a real statement). The reader reports balances as given and does not invent rows.
    txns = doc.tables["bank_transactions"].to_pylist()
    stmt = doc.tables["bank_statements"].to_pylist()[0]
    assert stmt["opening_balance"] + sum(t["amount"] for t in txns) == Decimal("15555.28")
    assert doc.meta["warnings"] == ["Stmt[1] (1234Test/1): opening 15568.27 + entries -12.99 != closing 15121.12"]


# ---------------------------------------------------------------- synthetic files

_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _camt(entries: str, ns: str = _NS) -> str:
    return f"""<?xml version="1.0"?>
<Document xmlns="{ns}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-01T10:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S-1</Id><CreDtTm>2024-03-01T10:00:00</CreDtTm>
<Acct><Id><Othr><Id>12345678</Id></Othr></Id><Ccy>EUR</Ccy><Ownr><Nm>Our Company BV</Nm></Ownr></Acct>
<Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2024-02-29</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">90.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-01</Dt></Dt></Bal>
{entries}
</Stmt></BkToCstmrStmt></Document>"""


def test_newer_version_prcd_othr_and_structured_reference(tmp_path):
    entry = """<Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><DtTm>2024-03-01T09:00:00</DtTm></BookgDt><ValDt><Dt>2024-03-02</Dt></ValDt><AcctSvcrRef>BANK-1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Nm>Customer Ltd</Nm></Pty></Dbtr><Cdtr><Pty><Nm>Our Company BV</Nm></Pty></Cdtr></RltdPties>
<RmtInf><Ustrd>INV 1</Ustrd><Ustrd>INV 2</Ustrd><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
</TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">0.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
<BookgDt><Dt>2024-03-01</Dt></BookgDt></Ntry>"""
    path = tmp_path / "statement.xml"
    path.write_text(_camt(entry), encoding="utf-8")
    assert detect_format(path) == "camt053"
    doc = read_document(path)
    stmt = doc.tables["bank_statements"].to_pylist()[0]
    assert stmt["bank_account"] == "12345678"
    assert stmt["opening_balance"] == Decimal("-10.00")  # PRCD, DBIT
    assert stmt["statement_date"] == dt.date(2024, 3, 1)
    (txn,) = doc.tables["bank_transactions"].to_pylist()
    assert txn["amount"] == Decimal("100.00")
    assert txn["booking_date"] == dt.date(2024, 3, 1) and txn["value_date"] == dt.date(2024, 3, 2)
    assert txn["counterparty"] == "Customer Ltd"
    assert txn["reference"] == "RF18539007547034"
    assert txn["description"] == "INV 1 INV 2"
    assert doc.meta["skipped"] == [{"location": "Stmt[1]/Ntry[2]", "reason": "entry status PDNG (not booked)"}]


def test_entry_without_details_and_unsplittable_batch(tmp_path):
    entries = """<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2024-03-01</Dt></BookgDt>
<AcctSvcrRef>FEE-9</AcctSvcrRef><AddtlNtryInf>Bank fee</AddtlNtryInf></Ntry>
<Ntry><Amt Ccy="EUR">7.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2024-03-01</Dt></BookgDt>
<NtryDtls><TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">3.00</Amt></TxAmt></AmtDtls></TxDtls>
<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">3.00</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls></Ntry>"""
    path = tmp_path / "s.xml"
    path.write_text(_camt(entries), encoding="utf-8")
    doc = read_camt053(path)
    txns = doc.tables["bank_transactions"].to_pylist()
    assert [(t["bank_txn_id"], t["amount"], t["reference"], t["description"]) for t in txns] == [
        ("S-1/1/1", Decimal("-5.00"), "FEE-9", "Bank fee"),
        ("S-1/2/1", Decimal("-7.00"), None, None),
    ]
    assert doc.locations["bank_transactions"] == ["Stmt[1]/Ntry[1]", "Stmt[1]/Ntry[2]"]
    assert "do not add up" in doc.meta["warnings"][0]
    assert "opening -10.00 + entries -12.00 != closing 90.00" in doc.meta["warnings"][1]


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><BkToCstmrStmt><Stmt>",
            "not well-formed XML",
        ),
        ("this is not a bank statement\n", "unrecognised document format"),
        ("", "unrecognised document format"),
    ],
)
def test_malformed_file_names_the_file(tmp_path, content, message):
    path = tmp_path / "broken.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as err:
        read_document(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_bad_amount_names_the_element(tmp_path):
    entry = (
        """<Ntry><Amt Ccy="EUR">12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2024-03-01</Dt></BookgDt></Ntry>"""
    )
    path = tmp_path / "bad.xml"
    path.write_text(_camt(entry), encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.xml: Stmt\[1\]/Ntry\[1\]/Amt: '12,50' is not a number"):
        read_document(path)


def test_missing_balance_is_a_user_error(tmp_path):
    text = _camt("").replace("CLBD", "XXXX")
    path = tmp_path / "nobal.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=r"Stmt\[1\]: no closing balance"):
        read_document(path, fmt="camt053")


def test_other_xml_is_not_camt(tmp_path):
    path = tmp_path / "other.xml"
    path.write_text("<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'/>", encoding="utf-8")
    assert detect_format(path) is None
    with pytest.raises(UserError, match="not a camt.053 statement"):
        read_document(path, fmt="camt053")


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_document(tmp_path / "nope.xml")
    path = tmp_path / "x.xml"
    path.write_text("<a/>", encoding="utf-8")
    with pytest.raises(UserError, match="unknown document format 'csv'"):
        read_document(path, fmt="csv")


def test_statement_without_entries(tmp_path):
    path = tmp_path / "empty.xml"
    path.write_text(_camt(""), encoding="utf-8")
    doc = read_document(path)
    assert doc.tables["bank_transactions"].num_rows == 0
    assert doc.tables["bank_transactions"].schema == canonical.table("bank_transactions").arrow_schema(False)
    assert doc.tables["bank_statements"].to_pylist()[0]["closing_balance"] == Decimal("90.00")


def test_out_of_range_amount_is_a_user_error(tmp_path):
    entry = (
        """<Ntry><Amt Ccy="EUR">1E+30</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2024-03-01</Dt></BookgDt></Ntry>"""
    )
    path = tmp_path / "huge.xml"
    path.write_text(_camt(entry), encoding="utf-8")
    with pytest.raises(UserError, match=r"huge\.xml: Stmt\[1\]/Ntry\[1\]/Amt: '1E\+30' is out of range"):
        read_document(path)
