"""Balances and cash of a plan (docs/planning.md, "Operations and balances"), worked by hand.

Plan months 2025-03 … 2025-05; DSO measured over February 2025 (`dso_months: 1`, one month end, 28 days).
- C1: invoiced 28 000 in February, 14 000 of it open at 28 Feb → DSO 14 000 / 28 000 × 28 = 14 days.
  C2: invoiced 28 000 in February, open 28 000 + 17 000 of a January invoice → DSO 45 000 / 28 000 × 28 = 45.
  Each invoiced half of the (net) February amount: weight ½.
- Revenue: January 31 000 and February 28 000 (the GL), then the plan's 31 000, 30 000, 46 500.
  AR end Feb = ½ × 28 000 × 14/28 + ½ × (28 000 + 31 000 × 17/31) = 7 000 + 22 500 = 29 500;
  end Mar = ½ × 31 000 × 14/31 + ½ × (31 000 + 28 000 × 14/28) = 29 500; end Apr the same;
  end May = ½ × 1 500 × 14 + ½ × (46 500 + 30 000 × 14/30) = 10 500 + 30 250 = 40 750.
- AP: open when the plan starts, a 10 000 net invoice due 12 Mar (11 900 with VAT) and 5 000 still open of
  a 6 000 invoice due 21 Apr; plan receipts 31 000, 30 000, 46 500 (1 000, 1 000, 1 500 a day) on 45 days'
  terms, counted back: AP end Feb 15 000; Mar 5 000 + 31 000 = 36 000; Apr 30 000 + 15 × 1 000 = 45 000;
  May 46 500 + 14 × 1 000 = 60 500.
- Inventory (from the operations plan): 43 000 at the start, then 50 000, 52 000, 49 000.
- Operating income 5 000, 4 000, 6 000. net_cash_flow = OI + ΔAP − ΔAR − ΔInv: Mar 5 000 + 21 000 − 7 000 =
  19 000; Apr 4 000 + 9 000 − 2 000 = 11 000; May 6 000 + 15 500 − 11 250 + 3 000 = 13 250.
  cash_in = revenue − ΔAR: 31 000, 30 000, 35 250; cash_out = cash_in − net: 12 000, 19 000, 22 000.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import polars as pl
import pytest

from opsfin.planning.balances import ROLES, count_back, plan_balances
from opsfin.planning.materials import RECEIPT_SCHEMA
from opsfin.planning.operations import OperationsPlan
from opsfin.planning.operations_config import BalancesConfig

D = dt.date
MAR, APR, MAY = D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 1)
MONTHS = [MAR, APR, MAY]
MONEY = pl.Decimal(18, 2)


def table(rows: list[tuple], schema: dict) -> ibis.Table:
    return ibis.memtable(pl.DataFrame(rows, schema=schema, orient="row"))


def tables() -> dict[str, ibis.Table]:
    dec = Decimal
    inv_schema = {
        "invoice_id": pl.Utf8,
        "customer_id": pl.Utf8,
        "invoice_date": pl.Date,
        "currency": pl.Utf8,
        "total": MONEY,
        "tax_amount": MONEY,
    }
    return {
        "gl_entries": table(
            [
                ("4000", D(2025, 1, 20), dec("-31000")),
                ("4000", D(2025, 2, 20), dec("-28000")),
                ("1200", D(2025, 2, 20), dec("28000")),
            ],
            {"account_id": pl.Utf8, "posting_date": pl.Date, "amount": MONEY},
        ),
        "accounts": table([("4000", "revenue"), ("1200", "ar")], {"account_id": pl.Utf8, "role": pl.Utf8}),
        "ar_invoices": table(
            [
                ("I1", "C1", D(2025, 1, 15), "EUR", dec("31000"), dec("0")),
                ("I2", "C1", D(2025, 2, 14), "EUR", dec("28000"), dec("0")),
                ("I3", "C2", D(2025, 2, 1), "EUR", dec("28000"), dec("0")),
                ("I4", "C2", D(2025, 1, 20), "EUR", dec("31000"), dec("0")),
                ("I5", "C2", D(2025, 3, 2), "EUR", dec("99999"), dec("0")),  # after the window
            ],
            inv_schema,
        ),
        "ar_receipts": table(
            [("R1", D(2025, 2, 10)), ("R2", D(2025, 2, 20)), ("R3", D(2025, 2, 25)), ("R4", D(2025, 3, 5))],
            {"receipt_id": pl.Utf8, "received_date": pl.Date},
        ),
        "ar_receipt_allocations": table(
            [
                ("R1", "I1", dec("31000")),
                ("R2", "I2", dec("14000")),
                ("R3", "I4", dec("14000")),
                ("R4", "I3", dec("28000")),
            ],
            {"receipt_id": pl.Utf8, "invoice_id": pl.Utf8, "amount": MONEY},
        ),
        "customers": table([("C1", 30), ("C2", 30)], {"customer_id": pl.Utf8, "payment_terms_days": pl.Int32}),
        "fx_rates": table([], {"rate_date": pl.Date, "currency": pl.Utf8, "rate_to_base": pl.Decimal(18, 8)}),
        "suppliers": table([("S1", 45)], {"supplier_id": pl.Utf8, "payment_terms_days": pl.Int32}),
        "ap_invoices": table(
            [
                ("A1", D(2025, 2, 10), D(2025, 3, 12), "EUR", dec("11900"), dec("1900")),
                ("A2", D(2025, 2, 20), D(2025, 4, 21), "EUR", dec("6000"), dec("0")),
                ("A3", D(2025, 1, 5), D(2025, 2, 4), "EUR", dec("7000"), dec("0")),  # paid before the plan
            ],
            {
                "invoice_id": pl.Utf8,
                "invoice_date": pl.Date,
                "due_date": pl.Date,
                "currency": pl.Utf8,
                "total": MONEY,
                "tax_amount": MONEY,
            },
        ),
        "ap_payments": table(
            [("P1", D(2025, 2, 25)), ("P2", D(2025, 2, 4))], {"payment_id": pl.Utf8, "paid_date": pl.Date}
        ),
        "ap_payment_allocations": table(
            [("P1", "A2", dec("1000")), ("P2", "A3", dec("7000"))],
            {"payment_id": pl.Utf8, "invoice_id": pl.Utf8, "amount": MONEY},
        ),
    }


def operations() -> OperationsPlan:
    empty = pl.DataFrame()
    inventory = pl.DataFrame(
        [(MAR, "W1", Decimal("50000")), (APR, "W1", Decimal("52000")), (MAY, "W1", Decimal("49000"))],
        schema={"period": pl.Date, "site_id": pl.Utf8, "amount": MONEY},
        orient="row",
    )
    receipts = pl.DataFrame(
        [(m, "P1", "S1", "RM-1", 1.0, Decimal(a)) for m, a in ((MAR, "31000"), (APR, "30000"), (MAY, "46500"))],
        schema=RECEIPT_SCHEMA,
        orient="row",
    )
    opening = pl.DataFrame([("W1", Decimal("43000"))], schema={"site_id": pl.Utf8, "amount": MONEY}, orient="row")
    return OperationsPlan(empty, empty, empty, inventory, [], receipts=receipts, opening_inventory=opening)


def pnl() -> pl.DataFrame:
    rows = []
    for month, revenue, income in ((MAR, "31000", "5000"), (APR, "30000", "4000"), (MAY, "46500", "6000")):
        rows += [(month, "W1", "revenue", Decimal(revenue)), (month, None, "operating_income", Decimal(income))]
    schema = {"period": pl.Date, "site_id": pl.Utf8, "line": pl.Utf8, "amount": MONEY}
    return pl.DataFrame(rows, schema=schema, orient="row")


@pytest.fixture(scope="module")
def balances():
    frame = plan_balances(tables(), pnl(), operations(), MONTHS, BalancesConfig(dso_months=1))
    return {(r["period"], r["role"]): r["amount"] for r in frame.iter_rows(named=True)}, frame


def test_ar_from_each_customers_dso(balances):
    got, _ = balances
    assert [got[(m, "ar")] for m in MONTHS] == [Decimal("29500.00"), Decimal("29500.00"), Decimal("40750.00")]


def test_ap_from_open_invoices_and_supplier_terms(balances):
    got, _ = balances
    assert [got[(m, "ap")] for m in MONTHS] == [Decimal("36000.00"), Decimal("45000.00"), Decimal("60500.00")]


def test_inventory_and_the_cash_flow(balances):
    got, frame = balances
    assert [got[(m, "inventory")] for m in MONTHS] == [Decimal("50000.00"), Decimal("52000.00"), Decimal("49000.00")]
    assert [got[(m, "net_cash_flow")] for m in MONTHS] == [
        Decimal("19000.00"),
        Decimal("11000.00"),
        Decimal("13250.00"),
    ]
    assert [got[(m, "cash_in")] for m in MONTHS] == [Decimal("31000.00"), Decimal("30000.00"), Decimal("35250.00")]
    assert [got[(m, "cash_out")] for m in MONTHS] == [Decimal("12000.00"), Decimal("19000.00"), Decimal("22000.00")]
    assert frame.columns == ["period", "role", "amount"] and frame.schema["amount"] == MONEY
    assert frame.filter(pl.col("period") == MAR)["role"].to_list() == list(ROLES)


def test_the_cash_identity_holds_every_month(balances):
    got, _ = balances
    income = {MAR: Decimal(5000), APR: Decimal(4000), MAY: Decimal(6000)}
    prev = {"ar": Decimal(29500), "ap": Decimal(15000), "inventory": Decimal(43000)}
    for m in MONTHS:
        delta = {role: got[(m, role)] - prev[role] for role in prev}
        assert got[(m, "net_cash_flow")] == income[m] + delta["ap"] - delta["ar"] - delta["inventory"]
        assert got[(m, "cash_in")] - got[(m, "cash_out")] == got[(m, "net_cash_flow")]
        prev = {role: got[(m, role)] for role in prev}


def test_count_back_takes_the_last_days_of_revenue():
    revenue = {D(2024, 2, 1): Decimal(2900), D(2024, 3, 1): Decimal(3100)}
    # 45 days at the end of March 2024: all of March and 14 of February's 29 days
    assert count_back(revenue, Decimal(45), D(2024, 3, 1)) == Decimal(3100) + Decimal(1400)
    assert count_back(revenue, Decimal(0), D(2024, 3, 1)) == 0
