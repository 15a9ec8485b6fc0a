"""The Webb Company (Horngren, Datar & Rajan, *Cost Accounting*, ch. 7 and 8), April, built as warehouse rows
and run through the real variance engine (`Workspace.variance`, `Workspace.variance_summary`).

The book's data: budget 12,000 jackets at $120; actual 10,000 sold at $125. Standards per jacket: 2 sq yd of
cloth at $30, 0.8 labour-hours at $20, 0.40 machine-hours with variable overhead at $30 and fixed overhead at
$57.50 per machine-hour (budgeted fixed overhead $276,000 over 12,000 x 0.40 = 4,800 machine-hours), so the
standard cost of a jacket is 60 + 16 + 12 + 23 = $111. Actual: 22,200 sq yd bought and used at $28,
9,000 labour-hours at $22, 4,500 machine-hours, variable overhead $130,500, fixed overhead $285,000.

Published answers (ch. 7 and 8): selling-price $50,000 F; direct materials price $44,400 F, efficiency
$66,000 U; direct labour price $18,000 U, efficiency $20,000 U; variable overhead spending $4,500 F,
efficiency $15,000 U; fixed overhead spending $9,000 U, production-volume $46,000 U; actual operating income
$14,900 against a static budget of $108,000 (a $93,100 U static-budget variance).

Worked here by hand, on the engine's gross-margin basis (standard cost includes fixed overhead): static
GM 12,000 x (120 - 111) = 108,000; flexible GM 10,000 x 9 = 90,000; sales-quantity (10,000 - 12,000) x 9 =
18,000 U (the book's sales-volume variance of $64,000 U is this plus the production-volume $46,000 U);
one product, so no mix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import opsfin
from warehouse_rows import put

APRIL = dt.date(2024, 4, 1)
DAY = dt.date(2024, 4, 30)

PUBLISHED = {
    "sales_price": 50_000,
    "sales_mix": 0,
    "sales_quantity": -18_000,
    "material_price": 44_400,
    "invoice_price": 0,
    "material_usage": -66_000,
    "labor_rate": -18_000,
    "labor_efficiency": -20_000,
    "energy_price": 0,
    "energy_usage": 0,
    "var_overhead_spending": 4_500,
    "var_overhead_efficiency": -15_000,
    "fixed_overhead_spending": -9_000,
    "production_volume": -46_000,
    "scrap": 0,
    "other_manufacturing": 0,
    "total": -93_100,
}


def _gl(journal: str, *entries: tuple[str, str, str | None, str]) -> list[dict]:
    """entries: (account, amount, cost centre, source document)."""
    return [
        {
            "entry_id": f"{journal}-{i}",
            "journal_id": journal,
            "posting_date": DAY,
            "account_id": account,
            "cost_center_id": cc,
            "amount": Decimal(amount),
            "currency": "EUR",
            "source_doc": doc,
        }
        for i, (account, amount, cc, doc) in enumerate(entries)
    ]


def _master(con) -> None:
    put(con, "sites", [{"site_id": "W1", "kind": "plant", "std_energy_price": Decimal(0)}])
    put(con, "cost_centers", [{"cost_center_id": "CC-SEW", "site_id": "W1", "kind": "production"}])
    put(
        con,
        "work_centers",
        [
            {
                "work_center_id": "SEW",
                "site_id": "W1",
                "cost_center_id": "CC-SEW",
                "kind": "line",
                "std_labor_rate": Decimal(20),
                "std_variable_overhead_rate": Decimal(30),
                "std_fixed_overhead_rate": Decimal("57.50"),
            }
        ],
    )
    put(con, "machines", [{"machine_id": "SEW-M1", "work_center_id": "SEW"}])
    put(con, "shifts", [{"shift_id": "DAY", "site_id": "W1", "hours": 8.0}])
    put(
        con,
        "products",
        [
            {
                "product_id": "JACKET",
                "kind": "finished",
                "list_price": Decimal(120),
                "std_unit_cost": Decimal(111),
            },
            {
                "product_id": "CLOTH",
                "kind": "raw",
                "list_price": Decimal(0),
                "std_unit_cost": Decimal(30),
            },
        ],
    )
    put(con, "bom", [{"product_id": "JACKET", "component_id": "CLOTH", "qty_per": 2.0}])
    put(
        con,
        "routings",
        [
            {
                "product_id": "JACKET",
                "step": 10,
                "work_center_id": "SEW",
                "std_run_minutes_per_unit": 24.0,
                "std_labor_minutes_per_unit": 48.0,
                "std_kwh_per_unit": 0.0,
            }
        ],
    )
    roles = {
        "REV": "revenue",
        "COGS": "cogs",
        "VOH": "variable_overhead",
        "FOH": "fixed_overhead",
        "V-MP": "variance_material_price",
        "V-MU": "variance_material_usage",
        "V-LR": "variance_labor_rate",
        "V-LE": "variance_labor_efficiency",
        "V-OH": "variance_overhead",
        "V-VOL": "variance_volume",
        "AR": "receivables",
        "AP": "payables",
        "FG": "inventory",
        "WIP": "wip",
    }
    put(con, "accounts", [{"account_id": a, "role": r} for a, r in roles.items()])


def _plan_and_actuals(con) -> None:
    put(
        con,
        "volume_plan",
        [
            {
                "version": "B",
                "period": APRIL,
                "product_id": "JACKET",
                "qty": 12_000.0,
                "unit_price": Decimal(120),
            }
        ],
    )
    put(
        con,
        "budget_lines",
        [
            {
                "version": "B",
                "period": APRIL,
                "cost_center_id": "CC-SEW",
                "account_id": "FOH",
                "amount": Decimal(276_000),
            }
        ],
    )
    put(
        con,
        "ar_invoices",
        [
            {
                "invoice_id": "INV1",
                "customer_id": "C1",
                "kind": "invoice",
                "invoice_date": DAY,
                "currency": "EUR",
                "total": Decimal(1_250_000),
            }
        ],
    )
    put(
        con,
        "ar_invoice_lines",
        [
            {
                "invoice_id": "INV1",
                "line": 1,
                "product_id": "JACKET",
                "qty": 10_000.0,
                "unit_price": Decimal(125),
                "amount": Decimal(1_250_000),
            }
        ],
    )
    put(
        con,
        "purchase_orders",
        [
            {
                "po_id": "PO1",
                "line": 1,
                "supplier_id": "S1",
                "site_id": "W1",
                "product_id": "CLOTH",
                "qty": 22_200.0,
                "unit_price": Decimal(28),
                "currency": "EUR",
            }
        ],
    )
    put(
        con,
        "goods_receipts",
        [
            {
                "receipt_id": "GR1",
                "po_id": "PO1",
                "line": 1,
                "qty": 22_200.0,
                "received_date": dt.date(2024, 4, 10),
            }
        ],
    )
    put(
        con,
        "production_orders",
        [
            {
                "order_id": "MO1",
                "site_id": "W1",
                "product_id": "JACKET",
                "planned_qty": 10_000.0,
                "closed_date": DAY,
                "status": "closed",
            }
        ],
    )
    put(
        con,
        "inventory_movements",
        [
            {
                "movement_id": "MV1",
                "moved_at": dt.datetime(2024, 4, 11),
                "site_id": "W1",
                "product_id": "CLOTH",
                "qty": -22_200.0,
                "unit_cost": Decimal(30),
                "kind": "issue",
                "ref_doc": "MO1",
            }
        ],
    )
    # 4,500 machine-hours over two operations; 10,000 good jackets
    put(
        con,
        "operations",
        [
            {
                "operation_id": f"OP{i}",
                "order_id": "MO1",
                "step": 10,
                "work_center_id": "SEW",
                "machine_id": "SEW-M1",
                "shift_id": "DAY",
                "start_at": dt.datetime(2024, 4, 2 + 14 * i),
                "end_at": dt.datetime(2024, 4, 15 + 14 * i),
                "run_minutes": 135_000.0,
                "qty_good": 5_000.0,
            }
            for i in range(2)
        ],
    )
    # 9,000 labour-hours at $22: ten timesheet rows of 900 hours
    put(
        con,
        "employees",
        [
            {
                "employee_id": "E1",
                "site_id": "W1",
                "cost_center_id": "CC-SEW",
                "work_center_id": "SEW",
                "hourly_rate": Decimal(22),
                "overtime_multiplier": 1.5,
            }
        ],
    )
    put(
        con,
        "timesheets",
        [
            {
                "timesheet_id": f"T{i}",
                "employee_id": "E1",
                "work_date": dt.date(2024, 4, 1 + i),
                "shift_id": "DAY",
                "work_center_id": "SEW",
                "cost_center_id": "CC-SEW",
                "regular_hours": 900.0,
                "overtime_hours": 0.0,
            }
            for i in range(10)
        ],
    )


def _postings(con) -> None:
    put(
        con,
        "gl_entries",
        [
            *_gl("J-SALE", ("REV", "-1250000", None, "INV1"), ("AR", "1250000", None, "INV1")),
            *_gl("J-COGS", ("COGS", "1110000", None, "INV1"), ("FG", "-1110000", None, "INV1")),  # 10,000 x 111
            *_gl(
                "J-OH",
                ("VOH", "130500", "CC-SEW", "BILLS"),
                ("FOH", "285000", "CC-SEW", "BILLS"),
                ("AP", "-415500", None, "BILLS"),
            ),
            # the month-end clearing, as the ERP posts it: each role carries minus its variances
            *_gl(
                "J-VAR",
                ("V-MP", "-44400", None, "CLOSE"),
                ("V-MU", "66000", None, "CLOSE"),
                ("V-LR", "18000", "CC-SEW", "CLOSE"),
                ("V-LE", "20000", "CC-SEW", "CLOSE"),
                ("V-OH", "19500", "CC-SEW", "CLOSE"),
                ("V-VOL", "46000", "CC-SEW", "CLOSE"),
                ("WIP", "-125100", None, "CLOSE"),
            ),
        ],
    )


@pytest.fixture(scope="module")
def webb(tmp_path_factory):
    ws = opsfin.init(tmp_path_factory.mktemp("webb") / "ws")
    with ws.connect() as con:
        _master(con)
        _plan_and_actuals(con)
        _postings(con)
    return ws


def test_every_category_is_the_published_answer(webb):
    got = {r["category"]: r["amount"] for r in webb.variance("2024-04", "2024-04").to_dicts()}
    assert got == {k: Decimal(v).quantize(Decimal("0.01")) for k, v in PUBLISHED.items()}


def test_the_ends_of_the_bridge(webb):
    ends = webb.variance_summary("2024-04", "2024-04").to_dicts()[0]
    assert ends == {
        "static_budget_gm": Decimal("108000.00"),
        "flexible_budget_gm": Decimal("90000.00"),
        "actual_gm": Decimal("14900.00"),
    }


def test_the_variable_overhead_parts_follow_the_machine_and_shift(webb):
    by_shift = webb.variance("2024-04", "2024-04", by="shift").to_dicts()
    eff = {r["shift"]: r["amount"] for r in by_shift if r["category"] == "var_overhead_efficiency"}
    assert eff == {"DAY": Decimal("-15000.00")}
    by_wc = webb.variance("2024-04", "2024-04", by="work_center").to_dicts()
    spending = {r["work_center"]: r["amount"] for r in by_wc if r["category"] == "var_overhead_spending"}
    assert spending == {"SEW": Decimal("4500.00")}
