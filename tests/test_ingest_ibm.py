"""IBM's accounts-receivable sample through examples/ibm-ar/mapping.yaml: one file into customers,
ar_invoices, ar_receipts and ar_receipt_allocations (docs/cash.md walk-through, docs/ingest.md
"Several tables from one file").

A hand-made 10-row file (rows of the sample, plus an open invoice, a customer whose terms differ and a
bad date) runs everywhere; the real file (../shared/data/receivables) is checked against the CSV read
independently with the csv module."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cli_support import run_cli
from services import shared_file

MAPPING = Path(__file__).resolve().parents[1] / "examples" / "ibm-ar" / "mapping.yaml"
HEADER = (
    "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,"
    "SettledDate,PaperlessBill,DaysToSettle,DaysLate\n"
)
# line 1 is the header: these are lines 2 … 11
ROWS = (
    "391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\n"
    "406,8976-AMJEO,3/3/2012,0007900770,1/26/2013,2/25/2013,61.74,Yes,3/3/2013,Electronic,36,6\n"
    "391,2820-XGXSB,1/26/2012,0009231909,7/3/2013,8/2/2013,65.88,No,7/8/2013,Electronic,5,0\n"
    "406,9322-YCTQO,4/6/2012,0009888306,2/10/2013,3/12/2013,105.92,No,3/17/2013,Electronic,35,5\n"
    "818,6627-ELFBK,11/26/2012,0015752855,10/25/2012,11/24/2012,72.27,Yes,11/28/2012,Paper,34,4\n"
    # line 7: an open invoice (no SettledDate) of 0379-NEVHP, on 45 days' terms
    "391,0379-NEVHP,4/6/2013,0000700001,3/1/2013,4/15/2013,100.00,No,,Electronic,,\n"
    # line 8: 0379-NEVHP again on 45 days: 45 is its most frequent term (30, 45, 45)
    "391,0379-NEVHP,4/6/2013,0000700002,5/1/2013,6/15/2013,20.50,Yes,6/20/2013,Electronic,50,5\n"
    "897,8690-EEBEO,12/5/2012,0023864272,8/13/2013,9/12/2013,74.69,No,9/9/2013,Electronic,27,0\n"
    # line 10: February has no 30th; the only row of customer 4460-ZXNDN
    "770,4460-ZXNDN,6/27/2013,0027545037,2/30/2013,1/15/2013,75.06,No,1/12/2013,Paper,27,0\n"
    "770,3831-FXWYK,3/8/2013,0028049695,5/14/2012,6/13/2012,80.07,Yes,7/1/2012,Paper,48,18\n"
)


def _load(capsys, tmp_path: Path, source: Path, name: str = "ws") -> tuple[Path, dict]:
    folder = tmp_path / name
    assert run_cli(capsys, "init", str(folder))[0] == 0
    code, out, err = run_cli(
        capsys, "ingest", str(source), "--mapping", str(MAPPING), "-w", str(folder), "--format", "json"
    )
    assert code == 0, err
    return folder, json.loads(out)


def _sql(folder: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _counts(result: dict) -> dict[str, tuple[int, int, int]]:
    return {t["table"]: (t["rows_read"], t["rows_accepted"], t["rows_quarantined"]) for t in result["tables"]}


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "ibm-small.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


def test_small_file_fills_four_tables(capsys, tmp_path, small_file):
    folder, result = _load(capsys, tmp_path, small_file)
    # worked by hand from ROWS: 8 customers (one refused), 10 invoices (one refused), 9 settled rows
    assert _counts(result) == {
        "customers": (8, 7, 1),
        "ar_invoices": (10, 9, 1),
        "ar_receipts": (9, 8, 1),
        "ar_receipt_allocations": (9, 8, 1),
    }
    assert result["ignored_columns"] == ["PaperlessDate", "DaysToSettle", "DaysLate"]
    assert _sql(folder, "SELECT sum(total) FROM ar_invoices") == [(Decimal("637.01"),)]
    assert _sql(folder, "SELECT sum(amount) FROM ar_receipts") == [(Decimal("537.01"),)]
    assert _sql(
        folder, "SELECT count(*) FROM ar_invoices WHERE kind = 'invoice' AND currency = 'USD' AND tax_amount = 0"
    ) == [(9,)]
    assert _sql(
        folder,
        "SELECT customer_id, name, segment, country, currency, payment_terms_days, credit_limit "
        "FROM customers WHERE customer_id = '0379-NEVHP'",
    ) == [("0379-NEVHP", "0379-NEVHP", "unspecified", "391", "USD", 45, Decimal("0.00"))]
    assert _sql(folder, "SELECT payment_terms_days FROM customers WHERE customer_id = '8976-AMJEO'") == [(30,)]
    assert _sql(
        folder,
        "SELECT customer_id, so_id, invoice_date, due_date, total, disputed, paperless "
        "FROM ar_invoices WHERE invoice_id = '0007900770'",
    ) == [("8976-AMJEO", "0007900770", dt.date(2013, 1, 26), dt.date(2013, 2, 25), Decimal("61.74"), True, True)]
    assert _sql(folder, "SELECT disputed, paperless FROM ar_invoices WHERE invoice_id = '0000611365'") == [
        (False, False)
    ]
    assert _sql(
        folder,
        "SELECT r.receipt_id, r.customer_id, r.received_date, r.amount, r.reference, a.invoice_id, a.amount "
        "FROM ar_receipts r JOIN ar_receipt_allocations a USING (receipt_id) WHERE r.receipt_id = 'R-0000700002'",
    ) == [
        (
            "R-0000700002",
            "0379-NEVHP",
            dt.date(2013, 6, 20),
            Decimal("20.50"),
            "0000700002",
            "0000700002",
            Decimal("20.50"),
        )
    ]


def test_open_invoice_has_no_receipt_nor_allocation(capsys, tmp_path, small_file):
    folder, _ = _load(capsys, tmp_path, small_file)
    assert _sql(folder, "SELECT total FROM ar_invoices WHERE invoice_id = '0000700001'") == [(Decimal("100.00"),)]
    assert _sql(folder, "SELECT count(*) FROM ar_receipt_allocations WHERE invoice_id = '0000700001'") == [(0,)]
    assert _sql(folder, "SELECT count(*) FROM ar_receipts WHERE receipt_id = 'R-0000700001'") == [(0,)]
    unallocated = (
        "SELECT invoice_id FROM ar_invoices WHERE invoice_id NOT IN (SELECT invoice_id FROM ar_receipt_allocations)"
    )
    assert _sql(folder, unallocated) == [("0000700001",)]


def test_bad_date_is_quarantined_naming_file_row_and_column(capsys, tmp_path, small_file):
    folder, _ = _load(capsys, tmp_path, small_file)
    rows = _sql(folder, "SELECT table_name, source, source_row, column_name, reason, raw_record FROM quarantine")
    by_table = {r[0]: r for r in rows}
    assert len(rows) == 4 and set(by_table) == {"customers", "ar_invoices", "ar_receipts", "ar_receipt_allocations"}
    assert all(r[1] == str(small_file.resolve()) and r[2] == 10 for r in rows)
    _, _, _, column, reason, raw = by_table["ar_invoices"]
    assert column == "invoice_date" and "'2/30/2013' is not a date" in reason
    assert json.loads(raw)["invoiceNumber"] == "0027545037"
    assert by_table["customers"][3] == "payment_terms_days" and "InvoiceDate" in by_table["customers"][4]
    assert by_table["ar_receipts"][3] == "customer_id" and "quarantined" in by_table["ar_receipts"][4]
    assert "quarantined" in by_table["ar_receipt_allocations"][4]
    assert _sql(folder, "SELECT count(*) FROM ar_invoices WHERE invoice_id = '0027545037'") == [(0,)]


def test_reingest_is_idempotent(capsys, tmp_path, small_file):
    folder, first = _load(capsys, tmp_path, small_file)
    before = _sql(
        folder,
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM ar_invoices), "
        "(SELECT count(*) FROM ar_receipts), (SELECT count(*) FROM ar_receipt_allocations), "
        "(SELECT count(*) FROM quarantine)",
    )
    code, out, err = run_cli(
        capsys, "ingest", str(small_file), "--mapping", str(MAPPING), "-w", str(folder), "--format", "json"
    )
    assert code == 0, err
    again = json.loads(out)
    assert again["already_loaded"] is True and again["load_id"] == first["load_id"]
    assert again["rows_read"] == 0
    assert (
        _sql(
            folder,
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM ar_invoices), "
            "(SELECT count(*) FROM ar_receipts), (SELECT count(*) FROM ar_receipt_allocations), "
            "(SELECT count(*) FROM quarantine)",
        )
        == before
        == [(7, 9, 8, 8, 4)]
    )


def test_table_option_with_a_several_table_mapping_is_a_user_error(capsys, tmp_path, small_file):
    folder = tmp_path / "ws"
    run_cli(capsys, "init", str(folder))
    code, _, err = run_cli(
        capsys, "ingest", str(small_file), "--mapping", str(MAPPING), "-w", str(folder), "--table", "customers"
    )
    assert code == 2 and "fills several tables" in err and "Traceback" not in err


# ---------------------------------------------------------------- the real file
def _independent_reading(path: Path) -> dict:
    """What the warehouse must hold, read with the csv module and datetime alone."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def day(text: str) -> dt.date:
        return dt.datetime.strptime(text, "%m/%d/%Y").date()

    terms: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        terms[r["customerID"]][(day(r["DueDate"]) - day(r["InvoiceDate"])).days] += 1
    settled = [r for r in rows if r["SettledDate"].strip()]
    return {
        "invoices": len(rows),
        "customers": len(terms),
        "settled": len(settled),
        "total": sum((Decimal(r["InvoiceAmount"]) for r in rows), Decimal(0)),
        "received": sum((Decimal(r["InvoiceAmount"]) for r in settled), Decimal(0)),
        "terms": {c: n.most_common(1)[0][0] for c, n in terms.items()},
        "disputed": sum(r["Disputed"] == "Yes" for r in rows),
        "paperless": sum(r["PaperlessBill"] == "Electronic" for r in rows),
    }


def _check_against(folder: Path, result: dict, expected: dict) -> None:
    assert _counts(result) == {
        "customers": (expected["customers"], expected["customers"], 0),
        "ar_invoices": (expected["invoices"], expected["invoices"], 0),
        "ar_receipts": (expected["settled"], expected["settled"], 0),
        "ar_receipt_allocations": (expected["settled"], expected["settled"], 0),
    }
    assert _sql(
        folder,
        "SELECT sum(total), count(*) FILTER (WHERE disputed), count(*) FILTER (WHERE paperless) FROM ar_invoices",
    ) == [(expected["total"], expected["disputed"], expected["paperless"])]
    assert _sql(folder, "SELECT sum(amount) FROM ar_receipts") == [(expected["received"],)]
    assert _sql(folder, "SELECT coalesce(sum(amount), 0) FROM ar_receipt_allocations") == [(expected["received"],)]
    assert dict(_sql(folder, "SELECT customer_id, payment_terms_days FROM customers")) == expected["terms"]
    loads = _sql(folder, "SELECT rows_read, rows_accepted, rows_quarantined FROM loads")
    assert len(loads) == 4 and all(read == accepted + refused for read, accepted, refused in loads)


def test_real_file_loads_every_row(capsys, tmp_path):
    source = shared_file("receivables/ibm-accounts-receivable.csv")
    expected = _independent_reading(source)
    # the sample as published: 2,466 invoices of 100 customers, every one settled, all on 30 days
    assert (expected["invoices"], expected["customers"], expected["settled"]) == (2466, 100, 2466)
    assert set(expected["terms"].values()) == {30}
    folder, result = _load(capsys, tmp_path, source)
    _check_against(folder, result, expected)
    settled_late = _sql(
        folder,
        "SELECT count(*) FROM ar_invoices i JOIN ar_receipt_allocations a USING (invoice_id) "
        "JOIN ar_receipts r USING (receipt_id) WHERE r.received_date > i.due_date",
    )
    with source.open(newline="", encoding="utf-8") as fh:
        late = sum(int(r["DaysLate"]) > 0 for r in csv.DictReader(fh))
    assert settled_late == [(late,)]


def test_ten_row_slice_of_the_real_file_loads_the_same_way(capsys, tmp_path):
    source = shared_file("receivables/ibm-accounts-receivable.csv")
    piece = tmp_path / "ibm-10.csv"
    with source.open(encoding="utf-8") as fh:
        piece.write_text("".join(fh.readline() for _ in range(11)), encoding="utf-8")
    expected = _independent_reading(piece)
    assert expected["invoices"] == 10
    folder, result = _load(capsys, tmp_path, piece)
    _check_against(folder, result, expected)
