"""What the cash forecast reads (docs/cash.md): the bank balance at a day and the GL's cash journals by kind,
on a small warehouse written by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import duckdb
import ibis
import pytest

from opsfin.canonical import table
from opsfin.cash.forecast_reads import bank_balance, cash_history
from opsfin.errors import UserError
from opsfin.kpis.engine import Tables

ROWS = """
INSERT INTO accounts VALUES ('1000', 'Bank', 'asset', 'cash', 'T'), ('1100', 'AR', 'asset', 'ar', 'T'),
  ('2000', 'AP', 'liability', 'ap', 'T'), ('2200', 'Payroll', 'liability', 'payroll_liability', 'T'),
  ('2300', 'VAT', 'liability', 'tax', 'T'), ('2400', 'Prepayments', 'liability', 'other', 'T'),
  ('3000', 'Capital', 'equity', 'equity', 'T'), ('6700', 'Opex', 'expense', 'opex', 'T'),
  ('6910', 'Bank charges', 'expense', 'other', 'T');
INSERT INTO gl_entries VALUES
  ('e1', 'J1', '2025-01-31', '1000', NULL, -100.00, 'EUR', 'pay', 'P1', 'T'),
  ('e2', 'J1', '2025-01-31', '2200', NULL, 100.00, 'EUR', 'pay', 'P1', 'T'),
  ('e3', 'J2', '2025-01-10', '1000', NULL, 50.00, 'EUR', 'receipt', 'R1', 'T'),
  ('e4', 'J2', '2025-01-10', '1100', NULL, -50.00, 'EUR', 'receipt', 'R1', 'T'),
  ('e5', 'J3', '2025-01-15', '1000', NULL, -30.00, 'EUR', 'rent', 'X', 'T'),
  ('e6', 'J3', '2025-01-15', '6700', NULL, 30.00, 'EUR', 'rent', 'X', 'T'),
  ('e7', 'J4', '2025-01-10', '1000', NULL, -20.00, 'EUR', 'VAT', 'X', 'T'),
  ('e8', 'J4', '2025-01-10', '2300', NULL, 20.00, 'EUR', 'VAT', 'X', 'T'),
  ('e9', 'J5', '2025-01-20', '1000', NULL, 10.00, 'EUR', 'on account', 'X', 'T'),
  ('e10', 'J5', '2025-01-20', '2400', NULL, -10.00, 'EUR', 'on account', 'X', 'T'),
  ('e11', 'J6', '2025-01-02', '1000', NULL, 1000.00, 'EUR', 'capital', 'X', 'T'),
  ('e12', 'J6', '2025-01-02', '3000', NULL, -1000.00, 'EUR', 'capital', 'X', 'T'),
  ('e13', 'J7', '2025-01-21', '1000', NULL, -2.00, 'EUR', 'fee', 'X', 'T'),
  ('e14', 'J7', '2025-01-21', '6910', NULL, 2.00, 'EUR', 'fee', 'X', 'T'),
  ('e15', 'J8', '2025-01-22', '1000', NULL, -40.00, 'EUR', 'supplier', 'X', 'T'),
  ('e16', 'J8', '2025-01-22', '2000', NULL, 40.00, 'EUR', 'supplier', 'X', 'T'),
  ('e17', 'J9', '2025-02-01', '1000', NULL, -70.00, 'EUR', 'later', 'X', 'T'),
  ('e18', 'J9', '2025-02-01', '6700', NULL, 70.00, 'EUR', 'later', 'X', 'T');
INSERT INTO fx_rates VALUES ('2025-01-01', 'USD', 0.90000000, 'T'), ('2025-01-20', 'USD', 0.80000000, 'T');
INSERT INTO bank_statements VALUES
  ('S1', 'EUR-ACC', '2025-01-10', 'EUR', 0, 500.00, 'T'), ('S2', 'EUR-ACC', '2025-01-20', 'EUR', 500.00, 700.00, 'T'),
  ('S3', 'USD-ACC', '2025-01-15', 'USD', 0, 100.00, 'T');
INSERT INTO bank_transactions VALUES
  ('B1', NULL, 'EUR-ACC', '2025-01-21', '2025-01-21', -25.50, 'EUR', NULL, NULL, NULL, 'T'),
  ('B2', NULL, 'USD-ACC', '2025-01-19', '2025-01-19', 10.00, 'USD', NULL, NULL, NULL, 'T'),
  ('B3', NULL, 'EUR-ACC', '2025-01-25', '2025-01-25', -1.00, 'EUR', NULL, NULL, NULL, 'T');
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    path = tmp_path_factory.mktemp("reads") / "w.duckdb"
    con = duckdb.connect(str(path))
    for name in ("accounts", "gl_entries", "fx_rates", "bank_statements", "bank_transactions"):
        con.execute(table(name).ddl())
    con.execute(ROWS)
    con.close()
    t = Tables(ibis.duckdb.connect(str(path), read_only=True), "EUR")
    yield t
    t.backend.disconnect()


def test_cash_journals_by_kind(tables):
    rows = cash_history(tables, dt.date(2025, 1, 1), dt.date(2025, 1, 31)).to_dicts()
    got = sorted((r["posting_date"], r["kind"], r["amount"]) for r in rows)
    # receipts (ar), supplier payments (ap) and owners' capital are not run-rate items; February is not read
    assert got == [
        (dt.date(2025, 1, 10), "tax", D("-20.00")),
        (dt.date(2025, 1, 15), "fixed_costs", D("-30.00")),
        (dt.date(2025, 1, 20), "other", D("10.00")),
        (dt.date(2025, 1, 21), "fixed_costs", D("-2.00")),
        (dt.date(2025, 1, 31), "payroll", D("-100.00")),
    ]


def test_bank_balance_by_hand(tables):
    # 2025-01-21: EUR 700.00 (statement of the 20th) − 25.50 booked after it = 674.50; USD 100.00 (statement
    # of the 15th) + 10.00 booked after it = 110.00 at 0.8 (the rate of the 20th) = 88.00; 762.50 in all
    assert bank_balance(tables, dt.date(2025, 1, 21)) == D("762.50")
    # 2025-01-16: EUR 500.00 (the 10th); USD 100.00 at 0.9 = 90.00
    assert bank_balance(tables, dt.date(2025, 1, 16)) == D("590.00")
    with pytest.raises(UserError, match="no bank statement on or before 2025-01-09"):
        bank_balance(tables, dt.date(2025, 1, 9))


PLAN_ROWS = """
INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total,
  _load_id) VALUES ('A1', 'C1', 'SO1', 'invoice', '2025-01-10', '2025-02-09', 'EUR', 210.00, 1210.00, 'T'),
  ('A2', 'C2', 'SO2', 'invoice', '2025-01-20', '2025-02-19', 'EUR', 63.00, 363.00, 'T'),
  ('A0', 'C1', 'SO0', 'invoice', '2024-10-01', '2024-10-31', 'EUR', 0, 9999.00, 'T');
INSERT INTO ap_invoices VALUES ('P1', 'S1', 'REF1', 'invoice', '2025-01-15', '2025-02-14', 'EUR', 0, 650.00, 'T');
INSERT INTO volume_plan VALUES ('V', '2025-02-01', 'FG1', 10, 200.0000, 'T'), ('V', '2025-01-01', 'FG1', 99, 1.0000, 'T');
"""


def test_planned_sales_and_purchases_by_hand(tmp_path):
    import polars as pl

    from opsfin.cash.forecast_plan import planned_flows

    path = tmp_path / "plan.duckdb"
    con = duckdb.connect(str(path))
    for name in ("ar_invoices", "ap_invoices", "volume_plan", "fx_rates"):
        con.execute(table(name).ddl())
    con.execute(PLAN_ROWS)
    con.close()
    t = Tables(ibis.duckdb.connect(str(path), read_only=True), "EUR")
    lags = pl.DataFrame(
        {
            "party_type": ["customer", "customer", "supplier"],
            "party_id": ["C1", "C2", "S1"],
            "p10_days": [0, 5, 7],
            "p50_days": [10, 10, 14],
            "p90_days": [20, 30, 21],
        }
    )
    try:
        flows = planned_flows(t, dt.date(2025, 1, 31), dt.date(2025, 2, 28), "V", 90, lambda _t, _d: lags)
    finally:
        t.backend.disconnect()
    # the trailing 90 days (A0 is older): VAT factor 1573 / 1300 = 1.21, purchases 650 / 1300 = 0.5 of net sales.
    # February plans 10 × 200 = 2 000.00 over its 20 weekdays: 100.00 net a day, 121.00 gross, 50.00 bought.
    # 121.00 split over the customers' lags by invoicing 1 210 : 363 = 10 : 3 → 93.08 and 27.92.
    sales = flows.filter(pl.col("kind") == "planned_sales")
    purchases = flows.filter(pl.col("kind") == "planned_purchases")
    assert sales.height == 40 and sum(sales["amount"], D(0)) == D("2420.00")
    assert purchases.height == 20 and set(purchases["amount"]) == {D("50.00")}
    monday = dt.date(2025, 2, 3)
    got = sorted(
        (r["date"], r["early_date"], r["late_date"], r["amount"])
        for r in sales.filter(pl.col("ref").str.ends_with(str(monday))).to_dicts()
    )
    assert got == [
        (dt.date(2025, 2, 13), monday, dt.date(2025, 2, 23), D("93.08")),
        (dt.date(2025, 2, 13), dt.date(2025, 2, 8), dt.date(2025, 3, 5), D("27.92")),
    ]
    bought = purchases.filter(pl.col("ref").str.ends_with(str(monday))).row(0, named=True)
    assert (bought["date"], bought["early_date"], bought["late_date"]) == (
        dt.date(2025, 2, 17),
        dt.date(2025, 2, 10),
        dt.date(2025, 2, 24),
    )
    assert set(flows.filter(pl.col("kind") == "planned_sales")["direction"]) == {"in"}
