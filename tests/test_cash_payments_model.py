"""The learned payment model (docs/cash.md, "Learned payment behaviour"): nothing after the as-of date is
read, a customer whose payments slip gets later expected dates, and the lags for new invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import ibis
import numpy as np
import polars as pl
import pytest

from opsfin import warehouse
from opsfin.cash import payments
from opsfin.cash.documents import open_documents
from opsfin.cash.payments import payment_lags, predict_payment_dates
from opsfin.kpis.engine import Tables
from warehouse_rows import put

D = dt.date
TINY_AS_OF = D(2024, 4, 30)  # the tiny company's last day: 8 weekly snapshots to learn from
AFTER = D(2024, 5, 5)  # every row the test adds is dated here, after the as-of date


def _copy_of(ws) -> duckdb.DuckDBPyConnection:
    """The workspace's warehouse copied into memory (the session's tiny company stays as it is)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{ws.warehouse_path}' AS src (READ_ONLY)")
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()]
    for name in names:
        con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM src."{name}"')
    con.execute("DETACH src")
    return con


def _add_future_rows(con: duckdb.DuckDBPyConnection, open_ar: list[str], open_ap: list[str]) -> None:
    """Rows dated after the as-of date: new invoices, receipts and payments settling documents open at it,
    and a new exchange rate."""
    customer, supplier = con.execute(
        "SELECT (SELECT min(customer_id) FROM customers), (SELECT min(supplier_id) FROM suppliers)"
    ).fetchone()
    invoice = {"customer_id": customer, "kind": "invoice", "invoice_date": AFTER, "currency": "EUR"}
    put(con, "ar_invoices", [{**invoice, "invoice_id": "FUT-AR", "due_date": AFTER, "total": Decimal("5.00")}])
    put(
        con,
        "ap_invoices",
        [
            {
                "invoice_id": "FUT-AP",
                "supplier_id": supplier,
                "kind": "invoice",
                "invoice_date": AFTER,
                "due_date": AFTER,
                "currency": "EUR",
                "total": Decimal("5.00"),
            }
        ],
    )
    totals = dict(con.execute("SELECT invoice_id, total FROM ar_invoices").fetchall())
    owners = dict(con.execute("SELECT invoice_id, customer_id FROM ar_invoices").fetchall())
    for i, doc in enumerate(open_ar):
        receipt = f"FUT-R{i}"
        put(
            con,
            "ar_receipts",
            [
                {
                    "receipt_id": receipt,
                    "customer_id": owners[doc],
                    "received_date": AFTER,
                    "amount": totals[doc],
                    "currency": "EUR",
                }
            ],
        )
        put(con, "ar_receipt_allocations", [{"receipt_id": receipt, "invoice_id": doc, "amount": totals[doc]}])
    ap_totals = dict(con.execute("SELECT invoice_id, total FROM ap_invoices").fetchall())
    ap_owners = dict(con.execute("SELECT invoice_id, supplier_id FROM ap_invoices").fetchall())
    for i, doc in enumerate(open_ap):
        payment = f"FUT-P{i}"
        put(
            con,
            "ap_payments",
            [
                {
                    "payment_id": payment,
                    "supplier_id": ap_owners[doc],
                    "paid_date": AFTER,
                    "amount": ap_totals[doc],
                    "currency": "EUR",
                }
            ],
        )
        put(con, "ap_payment_allocations", [{"payment_id": payment, "invoice_id": doc, "amount": ap_totals[doc]}])
    put(con, "fx_rates", [{"rate_date": AFTER, "currency": "USD", "rate_to_base": Decimal("0.1")}])


@pytest.mark.slow
def test_rows_dated_after_the_as_of_date_change_no_prediction(tiny_demo):
    con = _copy_of(tiny_demo)
    tables = Tables(ibis.duckdb.from_connection(con), "EUR")
    before = predict_payment_dates(tables, TINY_AS_OF)
    lags_before = payment_lags(tables, TINY_AS_OF)
    assert set(before.filter(doc_type="ar_invoice")["method"]) == {"learned"}
    ar = before.filter(doc_type="ar_invoice")["doc_id"].to_list()
    ap = before.filter(doc_type="ap_invoice")["doc_id"].to_list()
    # half the open AR (every other one, so every customer loses some) and every open AP settled later
    _add_future_rows(con, ar[::2], ap)
    tables = Tables(ibis.duckdb.from_connection(con), "EUR")
    payments._LAST_FIT.clear()  # fit again from what the warehouse now holds, not the kept fit
    assert predict_payment_dates(tables, TINY_AS_OF).equals(before)
    assert payment_lags(tables, TINY_AS_OF).equals(lags_before)
    # the added rows do matter to a later as-of date: the settled documents are no longer open then
    later = open_documents(tables, AFTER)["doc_id"].to_list()
    assert not set(ar[::2]) & set(later)
    assert "FUT-AR" in later


# ------------------------------------------------------------------ a customer whose payments slip
START = D(2023, 1, 2)
SLIP_FROM = D(2023, 8, 1)  # invoices of customer "LATE" issued from here are paid 30 days late


def _paying_world() -> Tables:
    """Six customers on 30-day terms invoicing every 3 days for a year, each paying 0–4 days after the
    due date (a fixed cycle); customer LATE pays its invoices issued from SLIP_FROM 30 days later still."""
    con = duckdb.connect()
    warehouse.create_schema(con)
    customers = ["C1", "C2", "C3", "C4", "C5", "LATE"]
    put(
        con,
        "customers",
        [
            {"customer_id": c, "segment": "OEM", "country": "DE", "currency": "EUR", "payment_terms_days": 30}
            for c in customers
        ],
    )
    invoices, receipts, allocations = [], [], []
    for k in range(120):
        day = START + dt.timedelta(days=3 * k)
        for j, c in enumerate(customers):
            doc = f"{c}-{k:03d}"
            due = day + dt.timedelta(days=30)
            late = (k + j) % 5 + (30 if c == "LATE" and day >= SLIP_FROM else 0)
            total = Decimal(100 + 10 * j)
            invoices.append(
                {
                    "invoice_id": doc,
                    "customer_id": c,
                    "kind": "invoice",
                    "invoice_date": day,
                    "due_date": due,
                    "currency": "EUR",
                    "total": total,
                }
            )
            receipts.append(
                {
                    "receipt_id": f"R-{doc}",
                    "customer_id": c,
                    "received_date": due + dt.timedelta(days=late),
                    "amount": total,
                    "currency": "EUR",
                }
            )
            allocations.append({"receipt_id": f"R-{doc}", "invoice_id": doc, "amount": total})
    put(con, "ar_invoices", invoices)
    put(con, "ar_receipts", receipts)
    put(con, "ar_receipt_allocations", allocations)
    return Tables(ibis.duckdb.from_connection(con), "EUR")


def _days_past_due(tables: Tables, as_of: dt.date) -> dict[bool, float]:
    """The mean days past due of the expected dates, for LATE (True) and the others (False)."""
    rows = predict_payment_dates(tables, as_of).filter(doc_type="ar_invoice")
    assert set(rows["method"]) == {"learned"}
    late = (pl.col("expected_date") - pl.col("due_date")).dt.total_days()
    means = rows.group_by(is_late=pl.col("party_id") == "LATE").agg(late.mean().alias("late"))
    return {r["is_late"]: r["late"] for r in means.to_dicts()}


@pytest.mark.slow
def test_a_customer_whose_payments_slip_gets_later_expected_dates():
    tables = _paying_world()
    # before the slip everyone pays 0–4 days late (2 on average); by 2023-11-15 LATE's invoices of August
    # and early September (its last 15 settled) have come in about 32 days late
    before = _days_past_due(tables, D(2023, 7, 31))
    after = _days_past_due(tables, D(2023, 11, 15))
    assert before[True] == pytest.approx(before[False], abs=2)
    assert after[True] >= before[True] + 20  # the slip is 30 days
    assert after[False] == pytest.approx(before[False], abs=2)  # the others keep their habit
    lags = {r["party_id"]: r for r in payment_lags(tables, D(2023, 11, 15)).to_dicts()}
    # a new invoice: 30 days of terms plus the habit, about 32 days; LATE's about 30 more
    assert 30 <= lags["C1"]["p50_days"] <= 36
    assert lags["LATE"]["p50_days"] >= lags["C1"]["p50_days"] + 20
    assert all(r["p10_days"] <= r["p50_days"] <= r["p90_days"] for r in lags.values())


def test_training_targets_of_rows_all_paid_and_some_still_open():
    """Worked by hand: paid rows keep their days; an open row waits at least until the day after the
    as-of date (censored_after + 1) or its habit, whichever is later. With no open row at all Polars may
    hand out a read-only buffer: the targets must still be a writable copy, not a crash."""
    from opsfin.cash.payment_model import training_targets

    paid = pl.DataFrame(
        {"remaining_days": [3, 10], "censored_after": [None, None]}, schema_overrides={"censored_after": pl.Int64}
    )
    assert training_targets(paid, np.array([5.0, 5.0])).tolist() == [3.0, 10.0]
    some_open = pl.DataFrame({"remaining_days": [4, None, None], "censored_after": [None, 6, 20]})
    # row 2: max(6 + 1, habit 12) = 12; row 3: max(20 + 1, habit 12) = 21
    assert training_targets(some_open, np.array([1.0, 12.0, 12.0])).tolist() == [4.0, 12.0, 21.0]
