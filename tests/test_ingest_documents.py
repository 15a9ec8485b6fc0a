"""Document formats (bank statements, UBL e-invoices): several tables in one load, and sellers
resolved against the supplier master data. A fake `read_document` drives the rules; the real
readers run on the shared bank files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from opsfin import ingest, readers
from opsfin.canonical import table
from opsfin.readers import ParsedDocument, Party
from services import shared_file

D = dt.date(2024, 1, 5)


def arrow(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema(False)
    return pa.Table.from_pydict({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


def statement_doc() -> ParsedDocument:
    stmt = {
        "statement_id": "ST1",
        "bank_account": "NL77",
        "statement_date": D,
        "currency": "EUR",
        "opening_balance": Decimal("100.00"),
        "closing_balance": Decimal("70.00"),
    }
    txn = {
        "statement_id": "ST1",
        "bank_account": "NL77",
        "booking_date": D,
        "value_date": D,
        "currency": "EUR",
    }
    txns = [
        txn | {"bank_txn_id": "T1", "amount": Decimal("-50.00"), "counterparty": "Insurer"},
        txn | {"bank_txn_id": "T2", "amount": Decimal("20.00"), "reference": "INV-7"},
        txn | {"bank_txn_id": "T3", "amount": Decimal("1.00"), "currency": "eur"},
    ]
    return ParsedDocument(
        "camt053",
        {
            "bank_statements": arrow("bank_statements", [stmt]),
            "bank_transactions": arrow("bank_transactions", txns),
        },
        locations={
            "bank_statements": ["Stmt[1]"],
            "bank_transactions": ["Stmt[1]/Ntry[1]", "Stmt[1]/Ntry[2]", "Stmt[1]/Ntry[3]"],
        },
    )


def invoice_doc() -> ParsedDocument:
    inv = {
        "supplier_ref": "R",
        "kind": "invoice",
        "invoice_date": D,
        "due_date": D,
        "currency": "EUR",
        "tax_amount": Decimal("2.00"),
        "total": Decimal("12.00"),
    }
    invoices = [
        inv | {"invoice_id": i, "supplier_id": s} for i, s in (("INV1", "999"), ("INV2", "777"), ("INV3", "NO123"))
    ]
    lines = [
        {
            "invoice_id": i,
            "line": 1,
            "qty": 1.0,
            "unit_price": Decimal("10.0000"),
            "amount": Decimal("10.00"),
        }
        for i in ("INV1", "INV2", "INV3")
    ]
    parties = {
        "INV1": Party(("999", "S-100"), "Whatever Name"),
        "INV2": Party(("777",), "KNOWN supplier"),
        "INV3": Party(("NO123", "NO123MVA"), "Seller Company Name", country="NO", currency="NOK"),
    }
    return ParsedDocument(
        "ubl",
        {
            "ap_invoices": arrow("ap_invoices", invoices),
            "ap_invoice_lines": arrow("ap_invoice_lines", lines),
        },
        locations={"ap_invoices": ["Invoice"] * 3, "ap_invoice_lines": ["InvoiceLine[1]"] * 3},
        parties=parties,
    )


@pytest.fixture
def fake_reader(monkeypatch):
    docs = {".xml": statement_doc, ".ubl": invoice_doc}

    def detect(path):
        return {".xml": "camt053", ".ubl": "ubl"}.get(Path(path).suffix)

    def read(path, fmt=None):
        return docs[Path(path).suffix]()

    monkeypatch.setattr(readers, "detect_format", detect)
    monkeypatch.setattr(readers, "read_document", read)


def test_statement_fills_two_tables_in_one_load(workspace, tmp_path, fake_reader):
    path = tmp_path / "stmt.xml"
    path.write_text("<Document/>", encoding="utf-8")
    result = ingest.ingest_file(workspace, path)  # the format is detected, the tables known
    assert result.format == "camt053"
    assert result.table == "bank_statements,bank_transactions"
    assert [(t.table, t.rows_read, t.rows_accepted, t.rows_quarantined) for t in result.tables] == [
        ("bank_statements", 1, 1, 0),
        ("bank_transactions", 3, 2, 1),
    ]
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (4, 3, 1)
    loads = workspace.sql("SELECT load_id, table_name, status FROM loads ORDER BY table_name").rows()
    assert loads == [
        (result.load_id, "bank_statements", "loaded"),
        (result.load_id, "bank_transactions", "loaded"),
    ]
    q = ingest.list_quarantine(workspace).to_dicts()
    assert q[0]["reason"].startswith("Stmt[1]/Ntry[3]: column 'currency'")
    assert json.loads(q[0]["raw_record"])["_location"] == "Stmt[1]/Ntry[3]"
    assert workspace.sql("SELECT sum(amount) FROM bank_transactions").item() == Decimal("-30.00")

    assert ingest.ingest_file(workspace, path).already_loaded
    again = ingest.ingest_file(workspace, path, replace=True)
    assert again.replaced_load_ids == [result.load_id] and again.rows_accepted == 3
    assert workspace.sql("SELECT count(*) FROM bank_transactions").item() == 2


def test_cli_format_takes_a_document_format(workspace, tmp_path, fake_reader, capsys):
    from opsfin.cli import main

    path = tmp_path / "stmt.xml"
    path.write_text("<Document/>", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(
            [
                "ingest",
                str(path),
                "--format",
                "camt053",
                "--output",
                "json",
                "-w",
                str(workspace.path),
            ]
        )
    assert info.value.code in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert [t["table"] for t in data["tables"]] == ["bank_statements", "bank_transactions"]
    assert data["rows_read"] == 4


def load_known_supplier(workspace, tmp_path):
    path = tmp_path / "suppliers.csv"
    path.write_text(
        "supplier_id,name,country,currency,payment_terms_days,lead_time_days\n"
        "S-100,Other Name,DE,EUR,30,5\nS-200,Known Supplier,DE,EUR,30,5\n",
        encoding="utf-8",
    )
    ingest.ingest_file(workspace, path, table="suppliers")


def test_ubl_sellers_resolved_or_quarantined_with_their_lines(workspace, tmp_path, fake_reader):
    load_known_supplier(workspace, tmp_path)
    path = tmp_path / "inv.ubl"
    path.write_text("<Invoice/>", encoding="utf-8")
    result = ingest.ingest_file(workspace, path)
    assert [(t.table, t.rows_accepted, t.rows_quarantined) for t in result.tables] == [
        ("ap_invoices", 2, 1),
        ("ap_invoice_lines", 2, 1),
    ]
    assert dict(workspace.sql("SELECT invoice_id, supplier_id FROM ap_invoices").rows()) == {
        "INV1": "S-100",  # matched by its second id
        "INV2": "S-200",  # matched by name, ignoring case
    }
    q = {r["table_name"]: r for r in ingest.list_quarantine(workspace).to_dicts()}
    expected = (
        "supplier 'Seller Company Name' (ids: NO123, NO123MVA) is not in the supplier master data; "
        "load it first or use --add-missing-parties"
    )
    assert q["ap_invoices"]["reason"] == f"Invoice: {expected}"
    assert q["ap_invoices"]["column_name"] == "supplier_id"
    assert "invoice_id 'INV3'" in q["ap_invoice_lines"]["reason"] and expected in q["ap_invoice_lines"]["reason"]


def test_ubl_add_missing_parties_creates_the_supplier_in_the_same_load(workspace, tmp_path, fake_reader):
    load_known_supplier(workspace, tmp_path)
    path = tmp_path / "inv.ubl"
    path.write_text("<Invoice/>", encoding="utf-8")
    result = ingest.ingest_file(workspace, path, add_missing_parties=True)
    assert result.rows_quarantined == 0 and result.rows_accepted == 7
    assert workspace.sql(
        "SELECT * EXCLUDE (_load_id, discount_pct, discount_days) FROM suppliers WHERE supplier_id = 'NO123'"
    ).row(0) == (
        "NO123",
        "Seller Company Name",
        "NO",
        "NOK",
        30,
        0,
    )
    tables = dict(
        workspace.sql("SELECT table_name, rows_accepted FROM loads WHERE load_id = ?", [result.load_id]).rows()
    )
    assert tables == {"suppliers": 1, "ap_invoices": 3, "ap_invoice_lines": 3}
    # --replace removes the supplier it created along with the invoices, then creates it again
    again = ingest.ingest_file(workspace, path, add_missing_parties=True, replace=True)
    assert again.rows_accepted == 7
    assert workspace.sql("SELECT count(*) FROM suppliers").item() == 3


# ---------------------------------------------------------------- the real readers on shared data


def test_real_camt053(workspace):
    path = shared_file("bank/camt053-oca-test.xml")
    result = ingest.ingest_file(workspace, path)
    counts = {t.table: (t.rows_read, t.rows_accepted, t.rows_quarantined) for t in result.tables}
    assert counts == {"bank_statements": (1, 1, 0), "bank_transactions": (4, 4, 0)}
    opening, closing = workspace.sql("SELECT opening_balance, closing_balance FROM bank_statements").row(0)
    assert (opening, closing) == (Decimal("15568.27"), Decimal("15121.12"))
    amounts = [r[0] for r in workspace.sql("SELECT amount FROM bank_transactions ORDER BY amount").rows()]
    assert amounts == [
        Decimal("-754.25"),
        Decimal("-564.05"),
        Decimal("-100.00"),
        Decimal("1405.31"),
    ]
    assert ingest.ingest_file(workspace, path).already_loaded


def test_real_mt940_via_cli(workspace):
    path = shared_file("bank/mt940-betterplace-sepa.sta")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "ingest",
            str(path),
            "-w",
            str(workspace.path),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    counts = {t["table"]: t for t in data["tables"]}
    assert counts["bank_transactions"]["rows_read"] == 97
    assert counts["bank_transactions"]["rows_accepted"] == 97
    assert data["rows_quarantined"] == 0 and data["format"] == "mt940"
    assert workspace.sql("SELECT count(*) FROM bank_transactions").item() == 97


def test_real_peppol_invoice_needs_its_supplier(workspace):
    path = shared_file("einvoice/peppol-base-example.xml")
    first = ingest.ingest_file(workspace, path)
    counts = {t.table: t for t in first.tables}
    assert counts["ap_invoices"].rows_quarantined == counts["ap_invoices"].rows_read == 1
    assert (
        "is not in the supplier master data" in ingest.list_quarantine(workspace, table="ap_invoices")["reason"].item()
    )
    second = ingest.ingest_file(workspace, path, add_missing_parties=True, replace=True)
    counts = {t.table: t for t in second.tables}
    assert counts["suppliers"].rows_accepted == 1 and counts["ap_invoices"].rows_accepted == 1
