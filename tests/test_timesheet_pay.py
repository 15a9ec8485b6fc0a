"""Timesheet pay is one rule (docs/accounting-rules.md "Labor pay"): the hours as booked, not rounded to
quarter-hours, × rate (overtime × multiplier), rounded half-even once per row. The variance bridge and the
actual order costs both use it, on a warehouse whose hours are not quarter-hours.

Worked by hand: one employee at 20.00/h, overtime × 1.5, books 7.9 h regular + 1.3 h overtime to work centre
WC (standard labor rate 18.00/h). Pay = 7.9 × 20 + 1.3 × 20 × 1.5 = 158.00 + 39.00 = 197.00; actual hours
AH = 9.2, AH × SR = 165.60. One operation makes 10 units at 48 standard labor minutes each: 8 h × 18 = 144.00.
labor_rate = −(197.00 − 165.60) = −31.40; labor_efficiency = −(165.60 − 144.00) = −21.60.
(Rounding the hours to quarter-hours would pay 8 h + 1.25 h: 197.50, and give −31.00 and −22.50.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import opsfin
from opsfin.costing.order_costs import cost_pools
from warehouse_rows import put

MARCH = dt.date(2024, 3, 1)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = opsfin.init(tmp_path_factory.mktemp("pay") / "ws")
    with ws.connect() as con:
        put(con, "sites", [{"site_id": "P1", "kind": "plant", "std_energy_price": Decimal(0)}])
        put(
            con,
            "cost_centers",
            [{"cost_center_id": "CC-WC", "site_id": "P1", "kind": "production"}],
        )
        put(
            con,
            "work_centers",
            [
                {
                    "work_center_id": "WC",
                    "site_id": "P1",
                    "cost_center_id": "CC-WC",
                    "kind": "line",
                    "std_labor_rate": Decimal(18),
                }
            ],
        )
        put(
            con,
            "products",
            [
                {
                    "product_id": "FG",
                    "kind": "finished",
                    "list_price": Decimal(0),
                    "std_unit_cost": Decimal(0),
                }
            ],
        )
        put(
            con,
            "routings",
            [
                {
                    "product_id": "FG",
                    "step": 10,
                    "work_center_id": "WC",
                    "std_labor_minutes_per_unit": 48.0,
                }
            ],
        )
        put(
            con,
            "production_orders",
            [
                {
                    "order_id": "MO1",
                    "site_id": "P1",
                    "product_id": "FG",
                    "planned_qty": 10.0,
                    "status": "completed",
                }
            ],
        )
        put(
            con,
            "operations",
            [
                {
                    "operation_id": "OP1",
                    "order_id": "MO1",
                    "step": 10,
                    "work_center_id": "WC",
                    "shift_id": "S1",
                    "start_at": dt.datetime(2024, 3, 4, 6),
                    "end_at": dt.datetime(2024, 3, 4, 14),
                    "run_minutes": 400.0,
                    "labor_minutes": 480.0,
                    "qty_good": 10.0,
                }
            ],
        )
        put(
            con,
            "employees",
            [
                {
                    "employee_id": "E1",
                    "site_id": "P1",
                    "cost_center_id": "CC-WC",
                    "work_center_id": "WC",
                    "hourly_rate": Decimal(20),
                    "overtime_multiplier": 1.5,
                }
            ],
        )
        put(
            con,
            "timesheets",
            [
                {
                    "timesheet_id": "T1",
                    "employee_id": "E1",
                    "work_date": dt.date(2024, 3, 4),
                    "shift_id": "S1",
                    "work_center_id": "WC",
                    "cost_center_id": "CC-WC",
                    "regular_hours": 7.9,
                    "overtime_hours": 1.3,
                }
            ],
        )
        put(
            con,
            "volume_plan",
            [
                {
                    "version": "B",
                    "period": MARCH,
                    "product_id": "FG",
                    "qty": 0.0,
                    "unit_price": Decimal(0),
                }
            ],
        )
    return ws


def test_the_variance_bridge_pays_the_hours_booked(ws):
    got = {r["category"]: r["amount"] for r in ws.variance("2024-03", "2024-03").to_dicts()}
    assert got["labor_rate"] == Decimal("-31.40")
    assert got["labor_efficiency"] == Decimal("-21.60")
    by_shift = {
        (r["category"], r["shift"]): r["amount"] for r in ws.variance("2024-03", "2024-03", by="shift").to_dicts()
    }
    assert by_shift[("labor_rate", "S1")] == Decimal("-31.40")


def test_order_costs_pay_the_same(ws):
    with ws.connect(read_only=True) as con:
        pools = cost_pools(con, [MARCH]).filter(component="labor").to_dicts()
    assert [(p["pool_id"], p["amount"], p["assigned"]) for p in pools] == [("WC", Decimal("197.00"), Decimal("197.00"))]
