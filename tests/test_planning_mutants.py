"""Plan-engine cases that kill mutants a sampled `make mutation` found alive in planning/ (docs/testing.md,
"Mutation testing"): the payables open when the plan starts, where a product without a routing is made, and
the hint of a version with no volume plan. Tiny hand-made tables, each expected figure worked in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pytest

from opsfin.errors import UserError
from opsfin.planning.balances import open_supplier_invoices
from opsfin.planning.production import production_sites
from opsfin.planning.volumes import version_volumes

D = dt.date


def _reader(**tables):
    memtables = {name: ibis.memtable(rows) for name, rows in tables.items()}
    return lambda name: memtables[name]


def _ap(invoices, allocations, payments):
    fx = {"currency": ["USD"], "rate_date": [D(2024, 1, 1)], "rate_to_base": [Decimal("0.90000000")]}
    return _reader(ap_invoices=invoices, ap_payment_allocations=allocations, ap_payments=payments, fx_rates=fx)


def test_supplier_invoices_open_at_the_start_net_of_vat_and_payments_before_it():
    invoices = {
        "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
        "invoice_date": [D(2024, 1, 10), D(2024, 1, 20), D(2024, 1, 25), D(2024, 2, 5), D(2024, 1, 15)],
        "due_date": [D(2024, 2, 10), D(2024, 2, 20), D(2024, 2, 25), D(2024, 3, 5), D(2024, 2, 15)],
        "total": [Decimal("1200.00"), Decimal("600.00"), Decimal("500.00"), Decimal("900.00"), Decimal("0.00")],
        "tax_amount": [Decimal("200.00"), Decimal("100.00"), Decimal("0.00"), Decimal("150.00"), Decimal("0.00")],
        "currency": ["EUR", "USD", "EUR", "EUR", "EUR"],
    }
    allocations = {
        "payment_id": ["P1", "P2", "P3"],
        "invoice_id": ["I1", "I3", "I2"],
        "amount": [Decimal("300.00"), Decimal("500.00"), Decimal("600.00")],
    }
    # P1 and P2 paid before the plan starts (2024-02-01); P3, which pays I2 whole, only after it
    payments = {"payment_id": ["P1", "P2", "P3"], "paid_date": [D(2024, 1, 31), D(2024, 1, 30), D(2024, 2, 2)]}
    got = sorted(open_supplier_invoices(_ap(invoices, allocations, payments), D(2024, 2, 1), "EUR"))
    # I1: open 1200 - 300 = 900, net share (1200 - 200) / 1200 → 750.00 EUR
    # I2: open 600 (P3 comes later), net share 500 / 600, at 0.9 → 450.00 EUR
    # I3: paid in full before the start: left out; I4: invoiced after the start; I5: a zero total
    assert [(due, amount.quantize(Decimal("0.01"))) for due, amount in got] == [
        (D(2024, 2, 10), Decimal("750.00")),
        (D(2024, 2, 20), Decimal("450.00")),
    ]


def test_a_product_without_a_routing_is_made_where_most_of_its_orders_are():
    t = _reader(
        routings={"product_id": ["FG-1", "FG-1"], "step": [10, 20], "work_center_id": ["A-CUT", "B-PACK"]},
        work_centers={"work_center_id": ["A-CUT", "B-PACK"], "site_id": ["PA", "PB"]},
        production_orders={
            # FG-1 has a routing: its first step's site (PA) wins over its orders' site (PB);
            # FG-2 has none: two orders at PB against one at PA
            "product_id": ["FG-1", "FG-1", "FG-2", "FG-2", "FG-2"],
            "site_id": ["PB", "PB", "PA", "PB", "PB"],
        },
    )
    assert production_sites(t) == {"FG-1": "PA", "FG-2": "PB"}


def test_a_version_without_volume_plan_rows_says_how_to_make_one():
    t = _reader(
        volume_plan={
            "version": ["B2024"],
            "period": [D(2024, 1, 1)],
            "product_id": ["FG-1"],
            "qty": [10.0],
            "unit_price": [Decimal("5.00")],
        },
        products={"product_id": ["FG-1"], "std_unit_cost": [Decimal("3.0000")]},
    )
    with pytest.raises(UserError) as caught:
        version_volumes(t, "F2025", [D(2024, 1, 1)])
    assert "'F2025' has no volume_plan rows" in str(caught.value)
    assert (
        caught.value.hint
        == "`opsfin plan list` shows the versions; build a demand forecast with `opsfin forecast demand`"
    )
