"""The operations side of the plan engine (docs/planning.md, "Operations and balances") on a company small
enough to work by hand: two finished goods, a two-level BOM, a supplier with a 35-day lead time, one work
centre of two machines at plant P1, shipped from the DC W1. Plan months 2025-03 … 2025-05.

The hand calculation (days of cover 10, FG-B 5):
- FG-A ships 3100, 3000, 4650 (100, 100, 150 a day); opening stock 800.
  target Mar = 10 × 3000/30 = 1000 → production 3100 + 1000 − 800 = 3300; Apr target 10 × 4650/31 = 1500 →
  3000 + 1500 − 1000 = 3500; May (last month, its own shipments) 1500 → 4650 + 1500 − 1500 = 4650.
- FG-B ships 620, 600, 620 (20 a day); opening 100; target 5 days = 100 → production 620, 600, 620.
- SUB-1 (made, one per FG-A, from 3 RM-2) = 3300, 3500, 4650; RM-1 (2 per FG-A, 1 per FG-B) = 7220, 7600,
  9920; RM-2 = 9900, 10500, 13950.
- RM-3 (1 per FG-B) has no purchase order: bought in the month it is needed, 620, 600, 620, with a problem.
  FG-X is shipped but neither routed nor produced: not planned, with a problem.
- RM-2 from S-LONG (35 days): the May need (1 May − 35 d = 27 Mar) is ordered in March; April and May order
  for June and July, taken equal to May: 13950 each month, at standard 5 → 69 750.00.
  RM-1 from S-SHORT (10 days, the latest PO; an older PO was S-LONG's): Mar orders April's 7600, Apr orders
  May's 9920, May orders June's (= May's) 9920, at standard 2.
- WC1 machine minutes in May: FG-A 4650 × 6 + ⌈4650/1000⌉ = 5 setups × 60 = 28 200; FG-B 620 × 3 + ⌈620/300⌉
  = 3 × 30 = 1 950; SUB-1 4650 × 1.2 = 5 580 (no orders in history: one setup of 0) → 35 730 min = 595.5 h.
  March: 19 800 + 240 + 1 860 + 90 + 3 960 = 25 950 min = 432.5 h.
- Available: Mon–Fri (from February's timesheets), shifts E and L of 8 h = 16 h a day, 2 machines,
  availability (5400 planned − 600 breakdown) ÷ (5400 + 600 maintenance) = 0.8. March 2025 has 21 weekdays
  → 21 × 16 × 2 × 0.8 = 537.6 h; May 22 → 563.2 h. May utilization 595.5 / 563.2, overtime 32.3 h.
- Inventory: P1 holds RM-1 1000 × 2 + RM-2 500 × 5 = 4500 every month; W1 FG-A 1000 × 50 + FG-B 100 × 30 =
  53 000 at the end of March, 1500 × 50 + 3000 = 78 000 at the end of April and May; WIP 1000 (the GL).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import polars as pl
import pytest

from opsfin.planning.operations import plan_operations
from opsfin.planning.operations_config import OperationsConfig

D = dt.date
MAR, APR, MAY = D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 1)
MONTHS = [MAR, APR, MAY]
TS = pl.Datetime("us")


def table(rows: list[tuple], schema: dict) -> ibis.Table:
    return ibis.memtable(pl.DataFrame(rows, schema=schema, orient="row"))


def weekdays(month: dt.date) -> list[dt.date]:
    days = [month + dt.timedelta(days=i) for i in range(31)]
    return [d for d in days if d.month == month.month and d.weekday() < 5]


def company() -> dict[str, ibis.Table]:
    money4 = pl.Decimal(18, 4)
    feb = weekdays(D(2025, 2, 1))
    return {
        "products": table(
            [
                ("FG-A", "finished", Decimal("50")),
                ("FG-B", "finished", Decimal("30")),
                ("SUB-1", "component", Decimal("20")),
                ("RM-1", "raw", Decimal("2")),
                ("RM-2", "raw", Decimal("5")),
                ("RM-3", "raw", Decimal("1")),
            ],
            {"product_id": pl.Utf8, "kind": pl.Utf8, "std_unit_cost": money4},
        ),
        "bom": table(
            [
                ("FG-A", "SUB-1", 1.0),
                ("FG-A", "RM-1", 2.0),
                ("SUB-1", "RM-2", 3.0),
                ("FG-B", "RM-1", 1.0),
                ("FG-B", "RM-3", 1.0),
            ],
            {"product_id": pl.Utf8, "component_id": pl.Utf8, "qty_per": pl.Float64},
        ),
        "routings": table(
            [
                ("FG-A", 1, "WC1", 60.0, 6.0, 3.0),
                ("FG-B", 1, "WC1", 30.0, 3.0, 1.5),
                ("SUB-1", 1, "WC1", 0.0, 1.2, 0.0),
            ],
            {
                "product_id": pl.Utf8,
                "step": pl.Int32,
                "work_center_id": pl.Utf8,
                "std_setup_minutes": pl.Float64,
                "std_run_minutes_per_unit": pl.Float64,
                "std_labor_minutes_per_unit": pl.Float64,
            },
        ),
        "work_centers": table([("WC1", "P1")], {"work_center_id": pl.Utf8, "site_id": pl.Utf8}),
        "machines": table([("M1", "WC1"), ("M2", "WC1")], {"machine_id": pl.Utf8, "work_center_id": pl.Utf8}),
        "employees": table([("E1", "WC1"), ("E2", "WC1")], {"employee_id": pl.Utf8, "work_center_id": pl.Utf8}),
        "shifts": table(
            [("P1-E", "P1", 8.0), ("P1-L", "P1", 8.0)], {"shift_id": pl.Utf8, "site_id": pl.Utf8, "hours": pl.Float64}
        ),
        "timesheets": table(
            [(d, "E1", "P1-E", "WC1") for d in feb] + [(d, "E2", "P1-L", "WC1") for d in feb],
            {"work_date": pl.Date, "employee_id": pl.Utf8, "shift_id": pl.Utf8, "work_center_id": pl.Utf8},
        ),
        "machine_readings": table(
            [("M1", dt.datetime(2025, 2, 3, 6), 2700.0, 2000.0), ("M2", dt.datetime(2025, 2, 3, 6), 2700.0, 1000.0)],
            {"machine_id": pl.Utf8, "hour_start": TS, "planned_minutes": pl.Float64, "run_minutes": pl.Float64},
        ),
        "downtime_events": table(
            [
                ("M1", dt.datetime(2025, 2, 4, 6), dt.datetime(2025, 2, 4, 16), True),
                ("M2", dt.datetime(2025, 2, 5, 6), dt.datetime(2025, 2, 5, 16), False),
                ("M2", dt.datetime(2025, 1, 5, 6), dt.datetime(2025, 1, 5, 16), False),  # before the window
            ],
            {"machine_id": pl.Utf8, "start_at": TS, "end_at": TS, "planned": pl.Boolean},
        ),
        "production_orders": table(
            [
                ("PO1", "P1", "FG-A", 800.0, D(2025, 1, 10)),
                ("PO2", "P1", "FG-A", 1200.0, D(2025, 2, 10)),
                ("PO3", "P1", "FG-B", 300.0, D(2025, 2, 11)),
            ],
            {
                "order_id": pl.Utf8,
                "site_id": pl.Utf8,
                "product_id": pl.Utf8,
                "planned_qty": pl.Float64,
                "created_date": pl.Date,
            },
        ),
        "purchase_orders": table(
            [
                ("PUR1", 1, "S-LONG", "P1", "RM-1", 100.0, Decimal("2.1"), "EUR", D(2024, 11, 2)),
                ("PUR2", 1, "S-SHORT", "P1", "RM-1", 100.0, Decimal("2.2"), "EUR", D(2025, 1, 5)),
                ("PUR3", 1, "S-LONG", "P1", "RM-2", 100.0, Decimal("5.5"), "EUR", D(2025, 2, 5)),
            ],
            {
                "po_id": pl.Utf8,
                "line": pl.Int32,
                "supplier_id": pl.Utf8,
                "site_id": pl.Utf8,
                "product_id": pl.Utf8,
                "qty": pl.Float64,
                "unit_price": money4,
                "currency": pl.Utf8,
                "ordered_date": pl.Date,
            },
        ),
        "suppliers": table(
            [("S-LONG", 35, 45), ("S-SHORT", 10, 60)],
            {"supplier_id": pl.Utf8, "lead_time_days": pl.Int32, "payment_terms_days": pl.Int32},
        ),
        "inventory_movements": table(
            [
                (dt.datetime(2025, 2, 1, 8), "W1", "FG-A", 800.0),
                (dt.datetime(2025, 2, 1, 8), "W1", "FG-B", 100.0),
                (dt.datetime(2025, 2, 1, 8), "P1", "RM-1", 1000.0),
                (dt.datetime(2025, 2, 1, 8), "P1", "RM-2", 700.0),
                (dt.datetime(2025, 2, 20, 8), "P1", "RM-2", -200.0),
                (dt.datetime(2025, 3, 2, 8), "P1", "RM-2", 9999.0),  # after the plan starts: not opening stock
            ],
            {"moved_at": TS, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64},
        ),
        "fx_rates": table([], {"rate_date": pl.Date, "currency": pl.Utf8, "rate_to_base": pl.Decimal(18, 8)}),
        "gl_entries": table(
            [
                ("1410", D(2025, 2, 3), Decimal("1500")),
                ("1410", D(2025, 2, 28), Decimal("-500")),
                ("1410", MAR, Decimal("99")),
            ],
            {"account_id": pl.Utf8, "posting_date": pl.Date, "amount": pl.Decimal(18, 2)},
        ),
        "accounts": table([("1410", "inventory_wip")], {"account_id": pl.Utf8, "role": pl.Utf8}),
    }


SHIPMENTS = pl.DataFrame(
    [
        (MAR, "W1", "FG-A", 3100.0),
        (APR, "W1", "FG-A", 3000.0),
        (MAY, "W1", "FG-A", 4650.0),
        (MAR, "W1", "FG-B", 620.0),
        (APR, "W1", "FG-B", 600.0),
        (MAY, "W1", "FG-B", 620.0),
        (MAR, "W1", "FG-X", 10.0),  # neither routed nor ever produced
    ],
    schema={"period": pl.Date, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64},
    orient="row",
)
CONFIG = OperationsConfig.model_validate(
    {
        "days_of_cover": 10,
        "days_of_cover_by_product": {"FG-B": 5},
        "availability_months": 1,
        "working_days_months": 1,
        "lot_size_months": 6,
    }
)


@pytest.fixture(scope="module")
def plan():
    return plan_operations(company(), SHIPMENTS, MONTHS, CONFIG)


def by_key(frame: pl.DataFrame, *keys: str, value: str = "qty") -> dict:
    return {tuple(r[k] for k in keys): r[value] for r in frame.iter_rows(named=True)}


def test_production_holds_the_days_of_cover_at_the_production_site(plan):
    made = by_key(plan.production, "period", "site_id", "product_id")
    assert made[(MAR, "P1", "FG-A")] == pytest.approx(3300)
    assert made[(APR, "P1", "FG-A")] == pytest.approx(3500)
    assert made[(MAY, "P1", "FG-A")] == pytest.approx(4650)
    assert [made[(m, "P1", "FG-B")] for m in MONTHS] == pytest.approx([620, 600, 620])
    # the made component of the second BOM level is produced with its parent
    assert [made[(m, "P1", "SUB-1")] for m in MONTHS] == pytest.approx([3300, 3500, 4650])
    assert {r for r in plan.production["site_id"]} == {"P1"}


def test_purchases_fall_in_the_month_the_order_is_placed(plan):
    bought = by_key(plan.purchases, "period", "product_id")
    assert [bought[(m, "RM-2")] for m in MONTHS] == pytest.approx([13950, 13950, 13950])
    assert [bought[(m, "RM-1")] for m in MONTHS] == pytest.approx([7600, 9920, 9920])
    amounts = by_key(plan.purchases, "period", "product_id", value="amount")
    assert amounts[(MAR, "RM-2")] == Decimal("69750.00")
    assert amounts[(APR, "RM-1")] == Decimal("19840.00")
    assert plan.purchases.schema["amount"] == pl.Decimal(18, 2)


def test_receipts_arrive_the_month_they_are_needed_from_their_supplier(plan):
    got = by_key(plan.receipts, "period", "supplier_id", "product_id")
    assert got[(MAR, "S-LONG", "RM-2")] == pytest.approx(9900)
    assert got[(MAR, "S-SHORT", "RM-1")] == pytest.approx(7220)
    assert got[(MAY, "S-SHORT", "RM-1")] == pytest.approx(9920)


def test_required_and_available_hours_utilization_and_overtime(plan):
    cap = {r["period"]: r for r in plan.capacity.iter_rows(named=True)}
    assert list(plan.capacity.columns) == [
        "period",
        "work_center_id",
        "required_hours",
        "available_hours",
        "utilization",
        "overtime_hours",
    ]
    assert cap[MAR]["required_hours"] == pytest.approx(432.5)
    assert cap[MAR]["available_hours"] == pytest.approx(537.6)
    assert cap[MAR]["utilization"] == pytest.approx(432.5 / 537.6)
    assert cap[MAR]["overtime_hours"] == 0
    assert cap[MAY]["required_hours"] == pytest.approx(595.5)
    assert cap[MAY]["available_hours"] == pytest.approx(563.2)
    assert cap[MAY]["utilization"] == pytest.approx(595.5 / 563.2)
    assert cap[MAY]["overtime_hours"] == pytest.approx(32.3)
    overloads = [p for p in plan.problems if "overloaded" in p]
    assert len(overloads) == 1 and "WC1" in overloads[0] and "2025-05" in overloads[0]


def test_labor_hours_from_the_routing(plan):
    labor = by_key(plan.labor, "period", "work_center_id", value="labor_hours")
    assert labor[(MAR, "WC1")] == pytest.approx((3300 * 3 + 620 * 1.5) / 60)


def test_inventory_at_standard_per_site_and_month_end(plan):
    inv = by_key(plan.inventory, "period", "site_id", value="amount")
    assert inv[(MAR, "P1")] == Decimal("4500.00")
    assert inv[(MAR, "W1")] == Decimal("53000.00")
    assert inv[(APR, "W1")] == Decimal("78000.00")
    assert inv[(MAY, "W1")] == Decimal("78000.00")
    # work in process: the GL's inventory_wip before the plan (1500 − 500), on a row without a site
    assert [inv[(m, None)] for m in MONTHS] == [Decimal("1000.00")] * 3
    opening = by_key(plan.opening_inventory, "site_id", value="amount")
    assert opening == {("P1",): Decimal("4500.00"), ("W1",): Decimal("43000.00"), (None,): Decimal("1000.00")}


def test_recent_po_prices_and_run_availability():
    config = CONFIG.model_copy(update={"purchase_price": "recent_po", "price_months": 2, "availability_basis": "run"})
    plan = plan_operations(company(), SHIPMENTS, MONTHS, config)
    amounts = by_key(plan.purchases, "period", "product_id", value="amount")
    assert amounts[(MAR, "RM-2")] == Decimal("76725.00")  # 13950 × 5.50, the February PO
    assert amounts[(MAR, "RM-1")] == Decimal("16720.00")  # 7600 × 2.20, the January PO (November's is older)
    cap = {r["period"]: r for r in plan.capacity.iter_rows(named=True)}
    assert cap[MAR]["available_hours"] == pytest.approx(21 * 16 * 2 * 3000 / 5400)


def test_no_setups_when_not_asked():
    plan = plan_operations(company(), SHIPMENTS, MONTHS, CONFIG.model_copy(update={"setup_per_order": False}))
    cap = {r["period"]: r for r in plan.capacity.iter_rows(named=True)}
    assert cap[MAR]["required_hours"] == pytest.approx((19800 + 1860 + 3960) / 60)


def test_what_cannot_be_planned_is_a_problem_not_an_error(plan):
    bought = by_key(plan.purchases, "period", "product_id")
    assert [bought[(m, "RM-3")] for m in MONTHS] == pytest.approx([620, 600, 620])
    assert any(p.startswith("RM-3: no purchase order") for p in plan.problems)
    assert any(p.startswith("FG-X: no routing") for p in plan.problems)
    assert "FG-X" not in plan.production["product_id"].to_list()


def test_hours_needed_where_none_are_available_are_all_overtime():
    from opsfin.planning.capacity import capacity_frame

    frame, problems = capacity_frame({(MAR, "WC9"): 10.0}, [MAR], {"WC9": 1}, {"WC9": "P9"}, {}, {})
    assert frame.row(0) == (MAR, "WC9", 10.0, 0.0, 0.0, 10.0)
    assert problems == [
        "WC9 is overloaded in 2025-03: 10.0 h required, 0.0 h available (no hours available); 10.0 h overtime"
    ]
