"""Open documents as of a date, and the rule-based payment dates (AP; AR with too little history),
on hand-built warehouse rows (docs/cash.md, "Learned payment behaviour")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import ibis
import pytest

from opsfin import warehouse
from opsfin.cash.documents import open_documents
from opsfin.cash.payments import predict_payment_dates
from opsfin.errors import UserError
from opsfin.kpis.engine import Tables
from warehouse_rows import put

D = dt.date
AS_OF = D(2024, 3, 31)


def _world() -> duckdb.DuckDBPyConnection:
    """Customer C1 (EUR) and suppliers S1 (terms 30, paid 2, 4, 9 and 4 days late), S2 (terms 30, no
    history) and S3 (terms 45, paid once, 30 days late), with a USD rate before and after the as-of date."""
    con = duckdb.connect()
    warehouse.create_schema(con)
    put(con, "customers", [{"customer_id": "C1", "currency": "EUR", "payment_terms_days": 30}])
    put(
        con,
        "suppliers",
        [
            {"supplier_id": "S1", "currency": "EUR", "payment_terms_days": 30},
            {"supplier_id": "S2", "currency": "EUR", "payment_terms_days": 30},
            {"supplier_id": "S3", "currency": "EUR", "payment_terms_days": 45},
        ],
    )
    put(
        con,
        "fx_rates",
        [
            {"rate_date": D(2024, 3, 1), "currency": "USD", "rate_to_base": Decimal("0.9")},
            {"rate_date": D(2024, 4, 5), "currency": "USD", "rate_to_base": Decimal("0.5")},  # after as-of
        ],
    )

    def ar(invoice_id, kind, day, due, total, currency="EUR"):
        return {
            "invoice_id": invoice_id,
            "customer_id": "C1",
            "kind": kind,
            "invoice_date": day,
            "due_date": due,
            "currency": currency,
            "total": Decimal(total),
        }

    put(
        con,
        "ar_invoices",
        [
            ar("I1", "invoice", D(2024, 3, 1), D(2024, 3, 31), "100.00"),  # 40 paid before, 60 after
            ar("I2", "credit_note", D(2024, 3, 15), D(2024, 3, 15), "-20.00"),  # not used yet
            ar("I3", "invoice", D(2024, 3, 20), D(2024, 4, 19), "33.25", "USD"),  # 33.25 × 0.9 = 29.925
            ar("I4", "invoice", D(2024, 4, 2), D(2024, 5, 2), "70.00"),  # issued after as-of
            ar("I5", "invoice", D(2024, 3, 5), D(2024, 4, 4), "30.00"),  # paid in full before
        ],
    )
    put(
        con,
        "ar_receipts",
        [
            {"receipt_id": "R1", "customer_id": "C1", "received_date": D(2024, 3, 10), "amount": Decimal("70.00")},
            {"receipt_id": "R2", "customer_id": "C1", "received_date": D(2024, 4, 5), "amount": Decimal("60.00")},
        ],
    )
    put(
        con,
        "ar_receipt_allocations",
        [
            {"receipt_id": "R1", "invoice_id": "I1", "amount": Decimal("40.00")},
            {"receipt_id": "R1", "invoice_id": "I5", "amount": Decimal("30.00")},
            {"receipt_id": "R2", "invoice_id": "I1", "amount": Decimal("60.00")},
        ],
    )

    def ap(invoice_id, supplier, day, due, total):
        return {
            "invoice_id": invoice_id,
            "supplier_id": supplier,
            "kind": "invoice",
            "invoice_date": day,
            "due_date": due,
            "currency": "EUR",
            "total": Decimal(total),
        }

    paid = [  # (invoice, supplier, due, paid on): S1 2, 4, 9 and 4 days late, S3 30 days late
        ("H1", "S1", D(2024, 1, 10), D(2024, 1, 12)),
        ("H2", "S1", D(2024, 1, 20), D(2024, 1, 24)),
        ("H3", "S1", D(2024, 2, 1), D(2024, 2, 10)),
        ("H4", "S3", D(2024, 1, 15), D(2024, 2, 14)),
        ("P1", "S1", D(2024, 3, 27), D(2024, 3, 31)),  # 4 days late, paid on the as-of date: settled
    ]
    put(
        con,
        "ap_invoices",
        [ap(i, s, due - dt.timedelta(days=30), due, "200.00") for i, s, due, _ in paid]
        + [
            ap("P2", "S1", D(2024, 3, 10), D(2024, 4, 10), "80.00"),  # paid after as-of
            ap("P3", "S2", D(2024, 3, 11), D(2024, 4, 10), "50.00"),
            ap("P4", "S3", D(2024, 3, 12), D(2024, 4, 26), "60.00"),
            ap("P5", "S1", D(2024, 2, 19), D(2024, 3, 20), "10.00"),  # overdue 11 days
            ap("P6", "S1", D(2024, 1, 21), D(2024, 2, 20), "15.00"),  # overdue 40 days
        ],
    )
    payments = [(f"Y{i}", s, paid_on, inv, "200.00") for i, (inv, s, _, paid_on) in enumerate(paid)]
    payments.append(("Y9", "S1", D(2024, 4, 1), "P2", "80.00"))
    put(
        con,
        "ap_payments",
        [{"payment_id": p, "supplier_id": s, "paid_date": d, "amount": Decimal(a)} for p, s, d, _, a in payments],
    )
    put(
        con,
        "ap_payment_allocations",
        [{"payment_id": p, "invoice_id": i, "amount": Decimal(a)} for p, _, _, i, a in payments],
    )
    return con


@pytest.fixture(scope="module")
def tables() -> Tables:
    return Tables(ibis.duckdb.from_connection(_world()), "EUR")


def test_open_documents_at_the_end_of_the_as_of_date(tables):
    docs = open_documents(tables, AS_OF)
    got = [(r["doc_type"], r["doc_id"], r["open_amount"], r["open_amount_base"]) for r in docs.to_dicts()]
    assert got == [
        # AP by due date: P6 (02-20), P5 (03-20), P2 and P3 (04-10), P4 (04-26); P1, paid on the as-of
        # date, is settled
        ("ap_invoice", "P6", Decimal("15.00"), Decimal("15.00")),
        ("ap_invoice", "P5", Decimal("10.00"), Decimal("10.00")),
        ("ap_invoice", "P2", Decimal("80.00"), Decimal("80.00")),
        ("ap_invoice", "P3", Decimal("50.00"), Decimal("50.00")),
        ("ap_invoice", "P4", Decimal("60.00"), Decimal("60.00")),
        # AR: the credit note (due 03-15) unused; I1 100 − 40 paid by 03-31 (the 60 of 04-05 not yet);
        # I3 in USD at the 03-01 rate (not the later 0.5): 29.925 → 29.92 half to even; I4 not issued yet
        ("ar_invoice", "I2", Decimal("-20.00"), Decimal("-20.00")),
        ("ar_invoice", "I1", Decimal("60.00"), Decimal("60.00")),
        ("ar_invoice", "I3", Decimal("33.25"), Decimal("29.92")),
    ]


def test_a_part_paid_invoice_closes_when_the_rest_arrives(tables):
    before = open_documents(tables, D(2024, 4, 4))
    after = open_documents(tables, D(2024, 4, 5))
    assert "I1" in before["doc_id"].to_list()
    assert "I1" not in after["doc_id"].to_list()
    assert "I4" in after["doc_id"].to_list()  # issued on 04-02


def test_no_rate_on_or_before_the_as_of_date_is_a_user_error():
    con = _world()
    con.execute("DELETE FROM fx_rates WHERE rate_date = DATE '2024-03-01'")  # only the rate of 04-05 is left
    with pytest.raises(UserError, match="ar_invoice I3: no fx_rates row for USD on or before 2024-03-31"):
        open_documents(Tables(ibis.duckdb.from_connection(con), "EUR"), AS_OF)


def test_supplier_lateness_own_pooled_by_terms_and_never_before_tomorrow(tables):
    rows = {r["doc_id"]: r for r in predict_payment_dates(tables, AS_OF).to_dicts()}

    def dates(doc):
        r = rows[doc]
        return r["p10_date"], r["expected_date"], r["p90_date"]

    # S1 paid 2, 4, 4, 9 days late (P1 too: paid on the as-of date): P10 2, P50 4, P90 9 (nearest ranks);
    # P2 due 04-10 → 04-12, 04-14, 04-19
    assert dates("P2") == (D(2024, 4, 12), D(2024, 4, 14), D(2024, 4, 19))
    # S2 has no history: its terms' pool (30 days: S1's four) → the same lateness
    assert dates("P3") == (D(2024, 4, 12), D(2024, 4, 14), D(2024, 4, 19))
    # S3 has one payment (fewer than 3): its pool is the 45-day terms, itself: 30 days late → 05-26
    assert dates("P4") == (D(2024, 5, 26),) * 3
    # P5 was due 03-20: +2/+4/+9 all lie on or before the as-of date, so tomorrow
    assert dates("P5") == (D(2024, 4, 1),) * 3
    assert rows["P2"]["method"] == rows["P5"]["method"] == "empirical lateness by supplier"
    # P6 is 40 days past due, more than S1 was ever paid late (9) + 14 days' grace: held, expected a year
    # after the as-of date, possibly released tomorrow (P5, 11 days past due, is within 9 + 14)
    assert dates("P6") == (D(2024, 4, 1), D(2025, 3, 31), D(2025, 3, 31))
    assert (
        rows["P6"]["method"]
        == "held: 40 days past due; this supplier was never paid more than 9 days late (+14 days' grace)"
    )


def test_too_little_customer_history_falls_back_with_its_reason(tables):
    ar = predict_payment_dates(tables, AS_OF).filter(doc_type="ar_invoice")
    # one settled customer invoice (I5, paid 03-10, due 04-04: 25 days early) — far too few to learn from
    assert set(ar["method"]) == {"fallback: 1 settled customer invoices, fewer than 50 to learn from"}
    rows = {r["doc_id"]: r for r in ar.to_dicts()}
    # C1 has 1 settled invoice (< 3): its pool (terms 30) is itself, −25 days; I3 due 04-19 → 03-25,
    # before the as-of date, so tomorrow
    assert rows["I3"]["expected_date"] == D(2024, 4, 1)
    assert all(r["expected_date"] > AS_OF for r in rows.values())
