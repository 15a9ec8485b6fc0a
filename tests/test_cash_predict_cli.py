"""`opsfin cash predict` on the tiny company (docs/cash.md, "Learned payment behaviour"): one row per
document open at the as-of date and nothing else, the JSON shape, and clear errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import duckdb
import pytest

from cli_support import run_cli

AS_OF = "2024-03-31"
KEYS = ["doc_type", "doc_id", "party_id", "open_amount", "due_date", "expected_date", "p10_date", "p90_date"]


def _open_by_sql(ws, day: str) -> dict[tuple[str, str], Decimal]:
    """Open documents worked out independently: issued by `day`, total less allocations dated by `day`."""
    query = """
        SELECT kind, i.invoice_id, i.total - coalesce(sum(a.amount) FILTER (WHERE m.day <= DATE '{day}'), 0) AS rest
        FROM {inv} i LEFT JOIN {alloc} a ON a.invoice_id = i.invoice_id
        LEFT JOIN (SELECT {key} AS k, {date} AS day FROM {money}) m ON m.k = a.{key}
        WHERE i.invoice_date <= DATE '{day}' GROUP BY kind, i.invoice_id, i.total
    """
    out = {}
    with duckdb.connect(str(ws.warehouse_path), read_only=True) as con:
        for doc_type, inv, alloc, key, date, money in (
            ("ar_invoice", "ar_invoices", "ar_receipt_allocations", "receipt_id", "received_date", "ar_receipts"),
            ("ap_invoice", "ap_invoices", "ap_payment_allocations", "payment_id", "paid_date", "ap_payments"),
        ):
            sql = query.format(day=day, inv=inv, alloc=alloc, key=key, date=date, money=money)
            for kind, doc, rest in con.execute(sql).fetchall():
                if (rest > 0) if kind == "invoice" else (rest < 0):
                    out[(doc_type, doc)] = rest
    return out


@pytest.fixture(scope="module")
def predicted(tiny_demo):
    """The JSON `cash predict --format json` prints (the same call and encoder), computed once."""
    from opsfin.jsonout import dumps
    from opsfin.runs.cash import predict_payments

    return json.loads(dumps(predict_payments(tiny_demo, AS_OF).as_dict()))


@pytest.mark.slow
def test_one_row_per_open_document_and_nothing_else(tiny_demo, predicted):
    assert list(predicted) == ["as_of", "documents"]
    assert predicted["as_of"] == AS_OF
    docs = predicted["documents"]
    assert all(list(d) == KEYS for d in docs)
    expected = _open_by_sql(tiny_demo, AS_OF)
    got = {(d["doc_type"], d["doc_id"]): Decimal(d["open_amount"]) for d in docs}
    assert len(got) == len(docs)
    assert got == expected
    assert {t for t, _ in got} == {"ar_invoice", "ap_invoice"}


@pytest.mark.slow
def test_every_expected_date_after_the_as_of_date_inside_its_range(predicted):
    day = dt.date.fromisoformat(AS_OF)
    for d in predicted["documents"]:
        p10, mid, p90 = (dt.date.fromisoformat(d[k]) for k in ("p10_date", "expected_date", "p90_date"))
        assert day < p10 <= mid <= p90, d


@pytest.mark.slow
def test_the_command_prints_that_json_and_the_same_rows_as_csv(tiny_demo, capsys, predicted):
    ws = str(tiny_demo.path)
    code, out, err = run_cli(capsys, "cash", "predict", "--as-of", AS_OF, "--format", "json", "-w", ws)
    assert code == 0, err
    assert json.loads(out) == predicted
    code, out, _ = run_cli(capsys, "cash", "predict", "--as-of", AS_OF, "--format", "csv", "-w", ws)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == KEYS
    assert [r["doc_id"] for r in rows] == [d["doc_id"] for d in predicted["documents"]]


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2023-12-31", "--as-of 2023-12-31: before the first invoice (2024-01-01)"),
        ("2024-05-01", "--as-of 2024-05-01: after the warehouse's last invoice, receipt or payment (2024-04-30)"),
        ("2024-13-01", "--as-of: '2024-13-01' is not a date"),
    ],
)
def test_a_date_outside_the_data_is_a_clear_error(tiny_demo, capsys, as_of, message):
    code, out, err = run_cli(capsys, "cash", "predict", "--as-of", as_of, "-w", str(tiny_demo.path))
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_an_empty_warehouse_is_a_clear_error(tmp_path, capsys):
    assert run_cli(capsys, "init", str(tmp_path / "ws"))[0] == 0
    code, _, err = run_cli(capsys, "cash", "predict", "--as-of", AS_OF, "-w", str(tmp_path / "ws"))
    assert code == 2
    assert "no AR or AP invoices in the warehouse: nothing to predict" in err
