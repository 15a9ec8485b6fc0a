"""Actual order costing and unit economics, worked by hand on a small fixture warehouse,
plus invariants on the tiny demo company and the CLI contract (`opsfin unit-economics`, `opsfin order-costs`).

Fixture (base EUR; one plant P1 with one work centre WC-A = cost centre CC-A and one machine M1):

January
- timesheets booked to WC-A: E1 (rate 20, overtime ×1.5) 8 h + 2 h OT = 160 + 60 = 220.00; 8 h = 160.00
  → labor pool WC-A/Jan = 380.00
- M1 readings: 30 + 20 kWh = 50 kWh (idle hours included); energy bill CC-A/Jan = 15.00 (0.30/kWh)
- GL variable_overhead CC-A/Jan = 100.00, fixed_overhead = 300.00; the month-end clearing journal (it posts
  to inventory_wip) credits them all and must be ignored
- operations (all on M1, ending in January):
    op    order step  run  labor  wait
    O1-1  O1    1     60   60     0
    O1-2  O1    2     30   30     120
    O2-1  O2    1     60   90     0
    O2-2  O2    2     50   20     60
  Σ labor minutes 200, Σ run minutes 200
  labor  380.00 × (60, 30, 90, 20)/200 = 114.00, 57.00, 171.00, 38.00
  energy  15.00 × (60, 30, 60, 50)/200 =   4.50,  2.25,   4.50,  3.75
  var OH 100.00 × run/200              =  30.00, 15.00,  30.00, 25.00
  fix OH 300.00 × run/200              =  90.00, 45.00,  90.00, 75.00
- material issued at standard 2.0000: O1 100 × 2 = 200.00; O2 50 × 2 = 100.00
  O1 = 200 + 171 + 6.75 + 45 + 135 = 557.75 for 100 good → 5.5775 per unit
  O2 = 100 + 209 + 8.25 + 55 + 165 = 537.25 for  50 good → 10.7450 per unit

February (O3 released, not completed)
- E1 4 h = 80.00 → O3-1 (run 40, labor 40) gets 80.00; M1 10 kWh, no bill → 10 × site std 0.20 = 2.00;
  no overhead bills; material 10 × 2 = 20.00.

Sales in January: C1 (EUR) 60 units at 10 = 600.00; C2 (USD) 30 at 20 = 600.00 USD × 0.90 = 540.00.
Unit cost of FG-1 = Jan orders: 150 units; material 300, labor 380, energy 15, var OH 100, fix OH 300
  C1 60 units: material 120.00, labor 152.00, energy 6.00, var OH 40.00, fix OH 120.00
  C2 30 units: material  60.00, labor  76.00, energy 3.00, var OH 20.00, fix OH  60.00
  product: units 90, revenue 1140.00, material 180, labor 228, energy 9, var OH 60, fix OH 180
  contribution margin = 1140 − (180 + 228 + 9 + 60) = 663.00; unit cost = 657 / 90 = 7.3000;
  cm per unit = 663 / 90 = 7.3667; cm ratio = 663 / 1140
Warehouse W1: expenses 500.00 / (3 + 2) pick lines = 100.0000. Support CC-S: 300.00 / 3 tickets closed in
January (a fourth is still open) = 100.0000.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import duckdb
import polars as pl
import pytest

import opsfin
from cli_support import run_in_process
from opsfin.costing.order_costs import allocate, cost_pools, operation_costs, order_costs
from opsfin.costing.unit_economics import unit_economics
from opsfin.errors import UserError

D = dt.date

FIXTURE_SQL = """
INSERT INTO sites VALUES ('P1', 'Plant', 'plant', 'EU', 0.2000, 'HW'), ('W1', 'DC', 'warehouse', 'EU', 0.2, 'HW'),
  ('S1', 'Service', 'support', 'EU', 0.2, 'HW');
INSERT INTO cost_centers VALUES ('CC-A', 'P1', 'Line A', 'production', 'ann', 'HW'),
  ('CC-W', 'W1', 'DC ops', 'warehouse', 'dan', 'HW'), ('CC-S', 'S1', 'Support', 'support', 'eve', 'HW'),
  ('CC-SAL', 'W1', 'Sales', 'sales', 'sam', 'HW');
INSERT INTO work_centers VALUES ('WC-A', 'P1', 'CC-A', 'Line A', 'line', 20, 10, 30, 'HW');
INSERT INTO machines VALUES ('M1', 'WC-A', 'Press', 30.0, 10.0, 'HW');
INSERT INTO shifts VALUES ('SH1', 'P1', 'Day', '06:00:00', 8.0, 'HW');
INSERT INTO employees VALUES ('E1', 'P1', 'CC-A', 'WC-A', 'operator', 20, 1.5, 'HW');
INSERT INTO products VALUES ('FG-1', 'Pump', 'Fam', 'finished', 'pc', 15, 7.0000, 'HW'),
  ('RM-1', 'Steel', 'raw', 'raw', 'kg', 2, 2.0000, 'HW');
INSERT INTO routings VALUES ('FG-1', 1, 'WC-A', 0, 0.5, 0.5, 0.1, TRUE, 'HW'), ('FG-1', 2, 'WC-A', 0, 0.3, 0.2, 0.1, FALSE, 'HW');
INSERT INTO customers VALUES ('C1', 'One', 'retail', 'FR', 'EUR', 30, 1000, 'HW'), ('C2', 'Two', 'retail', 'US', 'USD', 30, 1000, 'HW');
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 0.90000000, 'HW'), ('2024-01-20', 'USD', 0.50000000, 'HW');
INSERT INTO accounts VALUES ('1000', 'Cash', 'asset', 'cash', 'HW'), ('1300', 'WIP', 'asset', 'inventory_wip', 'HW'),
  ('4000', 'Sales', 'revenue', 'revenue', 'HW'), ('6000', 'Direct labor', 'expense', 'direct_labor', 'HW'),
  ('6100', 'Energy', 'expense', 'energy', 'HW'), ('6200', 'Supplies', 'expense', 'variable_overhead', 'HW'),
  ('6300', 'Fixed OH', 'expense', 'fixed_overhead', 'HW'), ('6500', 'Opex', 'expense', 'opex', 'HW'),
  ('6600', 'Payroll', 'expense', 'payroll', 'HW'), ('1200', 'AR', 'asset', 'ar', 'HW');

INSERT INTO timesheets VALUES
  ('T1', 'E1', '2024-01-02', 'SH1', 'WC-A', 'CC-A', NULL, 8, 2, 'HW'),
  ('T2', 'E1', '2024-01-10', 'SH1', 'WC-A', 'CC-A', NULL, 8, 0, 'HW'),
  ('T3', 'E1', '2024-02-01', 'SH1', 'WC-A', 'CC-A', NULL, 4, 0, 'HW');
INSERT INTO machine_readings VALUES
  ('M1', '2024-01-02 08:00:00', 60, 60, 0, 0, 30, 40, 1, 'HW'),
  ('M1', '2024-01-10 08:00:00', 60, 40, 0, 0, 20, 40, 1, 'HW'),
  ('M1', '2024-02-01 08:00:00', 60, 40, 0, 0, 10, 40, 1, 'HW');
INSERT INTO production_orders VALUES
  ('O1', 'P1', 'FG-1', 100, '2024-01-01', '2024-01-05', '2024-01-02 08:00:00', '2024-01-03 08:00:00', '2024-01-31', 'closed', 'HW'),
  ('O2', 'P1', 'FG-1', 50, '2024-01-01', '2024-01-15', '2024-01-10 08:00:00', '2024-01-10 20:00:00', '2024-01-31', 'closed', 'HW'),
  ('O3', 'P1', 'FG-1', 40, '2024-02-01', '2024-02-10', '2024-02-01 08:00:00', NULL, NULL, 'released', 'HW');
INSERT INTO operations VALUES
  ('O1-1', 'O1', 1, 'WC-A', 'M1', 'SH1', '2024-01-02 08:00:00', '2024-01-02 09:00:00', 0, 60, 60, 100, 0, 0, 'HW'),
  ('O1-2', 'O1', 2, 'WC-A', 'M1', 'SH1', '2024-01-02 11:00:00', '2024-01-02 11:30:00', 0, 30, 30, 100, 0, 120, 'HW'),
  ('O2-1', 'O2', 1, 'WC-A', 'M1', 'SH1', '2024-01-10 08:00:00', '2024-01-10 09:00:00', 0, 60, 90, 50, 0, 0, 'HW'),
  ('O2-2', 'O2', 2, 'WC-A', 'M1', 'SH1', '2024-01-10 10:00:00', '2024-01-10 10:50:00', 0, 50, 20, 50, 0, 60, 'HW'),
  ('O3-1', 'O3', 1, 'WC-A', 'M1', 'SH1', '2024-02-01 08:00:00', '2024-02-01 08:40:00', 0, 40, 40, 40, 0, 0, 'HW');
INSERT INTO inventory_movements VALUES
  ('MV1', '2024-01-02 08:00:00', 'P1', 'RM-1', -100, 2.0000, 'issue', 'O1', 'HW'),
  ('MV2', '2024-01-10 08:00:00', 'P1', 'RM-1', -50, 2.0000, 'issue', 'O2', 'HW'),
  ('MV3', '2024-02-01 08:00:00', 'P1', 'RM-1', -10, 2.0000, 'issue', 'O3', 'HW'),
  ('MV4', '2024-01-03 08:00:00', 'P1', 'FG-1', 100, 7.0000, 'production', 'O1', 'HW'),
  ('MV5', '2024-01-10 20:00:00', 'P1', 'FG-1', 50, 7.0000, 'production', 'O2', 'HW');
INSERT INTO gl_entries VALUES
  ('G1', 'J1', '2024-01-31', '6100', 'CC-A', 15.00, 'EUR', 'Energy bill', 'EB-1', 'HW'),
  ('G2', 'J1', '2024-01-31', '1000', NULL, -15.00, 'EUR', 'Energy bill', 'EB-1', 'HW'),
  ('G3', 'J2', '2024-01-31', '6200', 'CC-A', 100.00, 'EUR', 'Supplies', 'SU-1', 'HW'),
  ('G4', 'J2', '2024-01-31', '6300', 'CC-A', 300.00, 'EUR', 'Rent', 'SU-1', 'HW'),
  ('G5', 'J2', '2024-01-31', '1000', NULL, -400.00, 'EUR', 'Supplies', 'SU-1', 'HW'),
  ('G6', 'J3', '2024-01-31', '1300', 'CC-A', 415.00, 'EUR', 'Month end', 'ME-1', 'HW'),
  ('G7', 'J3', '2024-01-31', '6100', 'CC-A', -15.00, 'EUR', 'Month end', 'ME-1', 'HW'),
  ('G8', 'J3', '2024-01-31', '6200', 'CC-A', -100.00, 'EUR', 'Month end', 'ME-1', 'HW'),
  ('G9', 'J3', '2024-01-31', '6300', 'CC-A', -300.00, 'EUR', 'Month end', 'ME-1', 'HW'),
  ('G10', 'J4', '2024-01-20', '6500', 'CC-W', 500.00, 'EUR', 'DC rent', 'R-1', 'HW'),
  ('G11', 'J4', '2024-01-20', '6600', 'CC-S', 300.00, 'EUR', 'Support pay', 'R-1', 'HW'),
  ('G12', 'J4', '2024-01-20', '1000', NULL, -800.00, 'EUR', 'Rent', 'R-1', 'HW');
INSERT INTO sales_orders VALUES
  ('SO1', 1, 'C1', 'W1', 'FG-1', 60, 10.0000, 'EUR', '2024-01-05', '2024-01-15'),
  ('SO2', 1, 'C2', 'W1', 'FG-1', 30, 20.0000, 'USD', '2024-01-05', '2024-01-15');
INSERT INTO shipments VALUES ('SH1', 'SO1', 1, 60, '2024-01-15', 'HW'), ('SH2', 'SO2', 1, 30, '2024-01-15', 'HW');
INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES
  ('I1', 'C1', 'SO1', 'invoice', '2024-01-15', '2024-02-14', 'EUR', 120.00, 720.00, 'HW'),
  ('I2', 'C2', 'SO2', 'invoice', '2024-01-15', '2024-02-14', 'USD', 0.00, 600.00, 'HW');
INSERT INTO ar_invoice_lines VALUES ('I1', 1, 'FG-1', 60, 10.0000, 600.00, 'HW'), ('I2', 1, 'FG-1', 30, 20.0000, 600.00, 'HW');
INSERT INTO warehouse_tasks VALUES
  ('WT1', 'W1', 'E1', 'pick', '2024-01-15 08:00:00', '2024-01-15 08:30:00', 'SO1', 3, 60, 'HW'),
  ('WT2', 'W1', 'E1', 'pick', '2024-01-15 09:00:00', '2024-01-15 09:30:00', 'SO2', 2, 30, 'HW'),
  ('WT3', 'W1', 'E1', 'pack', '2024-01-15 10:00:00', '2024-01-15 10:30:00', 'SO2', 9, 30, 'HW');
INSERT INTO support_tickets VALUES
  ('TK1', 'CC-S', 'C1', '2024-01-03 09:00:00', '2024-01-03 10:00:00', 30, 5, 'HW'),
  ('TK2', 'CC-S', 'C1', '2024-01-04 09:00:00', '2024-01-05 10:00:00', 30, 4, 'HW'),
  ('TK3', 'CC-S', 'C2', '2024-01-30 09:00:00', '2024-01-31 10:00:00', 30, NULL, 'HW'),
  ('TK4', 'CC-S', 'C2', '2024-01-31 09:00:00', NULL, 30, NULL, 'HW');
"""


def _fix_sales_orders(sql: str) -> str:
    # sales_orders also carries _load_id
    return sql.replace("'2024-01-05', '2024-01-15'),", "'2024-01-05', '2024-01-15', 'HW'),").replace(
        "'2024-01-05', '2024-01-15');", "'2024-01-05', '2024-01-15', 'HW');"
    )


@pytest.fixture
def hw(tmp_path):
    ws = opsfin.init(tmp_path / "hw")
    with ws.connect() as con:
        con.execute(_fix_sales_orders(FIXTURE_SQL))
    return ws


M = Decimal


def by_id(frame: pl.DataFrame, key: str) -> dict:
    return {r[key]: r for r in frame.iter_rows(named=True)}


# ---------------------------------------------------------------------------------------------- allocate
def test_allocate_is_exact_and_largest_remainder():
    parts = allocate(M("1.00"), [("a", 1), ("b", 1), ("c", 1)])
    assert parts == {"a": M("0.34"), "b": M("0.33"), "c": M("0.33")}
    assert sum(allocate(M("-10.01"), [("a", 2.5), ("b", 7.25), ("c", 0.0)]).values()) == M("-10.01")
    assert allocate(M("5.00"), [("a", 0), ("b", 0)]) == {}


# ---------------------------------------------------------------------------------------- hand-worked
def test_order_costs_hand_worked(hw):
    with hw.connect(read_only=True) as con:
        orders = by_id(order_costs(con), "order_id")
        ops = by_id(operation_costs(con), "operation_id")
    assert (
        ops["O1-1"]["labor"],
        ops["O1-2"]["labor"],
        ops["O2-1"]["labor"],
        ops["O2-2"]["labor"],
    ) == (M("114.00"), M("57.00"), M("171.00"), M("38.00"))
    assert (ops["O1-1"]["energy"], ops["O1-2"]["energy"], ops["O2-2"]["energy"]) == (
        M("4.50"),
        M("2.25"),
        M("3.75"),
    )
    assert ops["O2-2"]["variable_overhead"] == M("25.00") and ops["O2-2"]["fixed_overhead"] == M("75.00")
    o1, o2, o3 = orders["O1"], orders["O2"], orders["O3"]
    assert [
        o1[c]
        for c in (
            "material",
            "labor",
            "energy",
            "variable_overhead",
            "fixed_overhead",
            "total_cost",
        )
    ] == [M("200.00"), M("171.00"), M("6.75"), M("45.00"), M("135.00"), M("557.75")]
    assert o1["unit_cost"] == M("5.5775") and o1["qty_good"] == 100
    assert o2["total_cost"] == M("537.25") and o2["unit_cost"] == M("10.7450")
    # February: no energy bill → 10 kWh × 0.20 std price; labor 4 h × 20; open order carries cost so far
    assert (o3["material"], o3["labor"], o3["energy"], o3["fixed_overhead"]) == (
        M("20.00"),
        M("80.00"),
        M("2.00"),
        M("0.00"),
    )


def test_order_costs_range_keeps_completed_orders_only(hw):
    with hw.connect(read_only=True) as con:
        jan = order_costs(con, D(2024, 1, 1), D(2024, 1, 31))
    assert sorted(jan["order_id"]) == ["O1", "O2"]


def test_cost_pools_exclude_clearing_journal_and_conserve(hw):
    with hw.connect(read_only=True) as con:
        pools = cost_pools(con)
    jan = {r["component"]: r for r in pools.filter(pl.col("month") == D(2024, 1, 1)).iter_rows(named=True)}
    assert {k: v["amount"] for k, v in jan.items()} == {
        "labor": M("380.00"),
        "energy": M("15.00"),
        "variable_overhead": M("100.00"),
        "fixed_overhead": M("300.00"),
    }
    assert all(r["unassigned"] == 0 for r in pools.iter_rows(named=True))
    feb_energy = pools.filter((pl.col("month") == D(2024, 2, 1)) & (pl.col("component") == "energy")).row(0, named=True)
    assert feb_energy["basis"] == "std_price" and feb_energy["amount"] == M("2.00")


def test_unit_economics_hand_worked(hw):
    ue = hw.unit_economics(start="2024-01-01", end="2024-01-31")
    assert ue.columns[:12] == [
        "product_id",
        "units",
        "revenue",
        "material",
        "labor",
        "energy",
        "variable_overhead",
        "fixed_overhead",
        "unit_cost",
        "contribution_margin",
        "cm_per_unit",
        "cm_ratio",
    ]
    r = ue.row(0, named=True)
    assert r["product_id"] == "FG-1" and r["units"] == 90
    assert (
        r["revenue"],
        r["material"],
        r["labor"],
        r["energy"],
        r["variable_overhead"],
        r["fixed_overhead"],
    ) == (M("1140.00"), M("180.00"), M("228.00"), M("9.00"), M("60.00"), M("180.00"))
    assert r["contribution_margin"] == M("663.00")
    assert r["unit_cost"] == M("7.3000") and r["cm_per_unit"] == M("7.3667")
    assert r["cm_ratio"] == pytest.approx(663 / 1140)
    assert r["cost_basis"] == "period"

    cust = by_id(hw.unit_economics(by="customer", start="2024-01-01", end="2024-01-31"), "customer_id")
    assert cust["C1"]["revenue"] == M("600.00") and cust["C1"]["contribution_margin"] == M("282.00")  # 600 − 318
    assert cust["C2"]["revenue"] == M("540.00") and cust["C2"]["contribution_margin"] == M("381.00")  # 540 − 159
    assert cust["C2"]["labor"] == M("76.00")


def test_unit_economics_by_shift_and_site(hw):
    shift = hw.unit_economics(by="shift,site", start="2024-01-01", end="2024-01-31")
    assert shift.height == 1
    r = shift.row(0, named=True)
    assert (r["shift_id"], r["site_id"], r["units"], r["revenue"]) == (
        "SH1",
        "W1",
        90,
        M("1140.00"),
    )


def test_unit_economics_falls_back_to_history(hw):
    # no order completes in February: the cost basis is every order completed up to the period end
    with hw.connect() as con:
        con.execute("INSERT INTO shipments VALUES ('SH3', 'SO1', 1, 10, '2024-02-10', 'HW')")
    r = hw.unit_economics(start="2024-02-01", end="2024-02-29").row(0, named=True)
    assert r["cost_basis"] == "history" and r["units"] == 10
    assert r["material"] == M("20.00") and r["revenue"] == M("0.00")


def test_warehouse_and_support_scopes(hw):
    wh = hw.unit_economics(scope="warehouse", start="2024-01-01", end="2024-01-31").row(0, named=True)
    assert (wh["cost_center_id"], wh["cost"], wh["lines_picked"], wh["cost_per_line"]) == (
        "CC-W",
        M("500.00"),
        5,
        M("100.0000"),
    )
    sup = hw.unit_economics(scope="support", start="2024-01-01", end="2024-01-31").row(0, named=True)
    assert (sup["cost"], sup["tickets_closed"], sup["cost_per_ticket"]) == (
        M("300.00"),
        3,
        M("100.0000"),
    )


def test_user_errors(hw):
    with pytest.raises(UserError, match="--by"):
        hw.unit_economics(by="colour")
    with pytest.raises(UserError, match="after"):
        hw.unit_economics(start="2024-02-01", end="2024-01-01")
    with pytest.raises(UserError, match="--scope"):
        hw.unit_economics(scope="plant")
    with hw.connect() as con:
        con.execute(
            "INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES ('I3', 'C2', 'SO2', 'invoice', '2023-12-01', '2024-01-01', 'USD', "
            "0, 10, 'HW'); INSERT INTO ar_invoice_lines VALUES ('I3', 1, 'FG-1', 1, 10, 10.00, 'HW')"
        )
    with pytest.raises(UserError, match="I3.*fx_rates"):
        hw.unit_economics()


# ---------------------------------------------------------------------------------- tiny demo invariants
GL_POOLS_SQL = """
SELECT date_trunc('month', g.posting_date)::DATE AS month, a.role, sum(g.amount) AS amount
FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id JOIN cost_centers c ON c.cost_center_id = g.cost_center_id
WHERE c.kind = 'production' AND a.role IN ('direct_labor', 'energy', 'variable_overhead', 'fixed_overhead')
  AND g.amount > 0 AND g.source_doc NOT LIKE 'MONTH-END-%'
GROUP BY ALL
"""
ROLE = {
    "direct_labor": "labor",
    "energy": "energy",
    "variable_overhead": "variable_overhead",
    "fixed_overhead": "fixed_overhead",
}


def test_tiny_demo_conservation_per_month(tiny_demo):
    """Σ labor/energy/overhead assigned to operations (hence orders) of a month == the month's actual cost
    booked in the GL (payroll accruals and bills, month-end clearing left out), to the cent."""
    with tiny_demo.connect(read_only=True) as con:
        expected = {(r[0], ROLE[r[1]]): r[2] for r in con.execute(GL_POOLS_SQL).fetchall()}
        ops = operation_costs(con)
        orders = order_costs(con)
    assert expected
    got = {}
    for r in ops.iter_rows(named=True):
        for c in ("labor", "energy", "variable_overhead", "fixed_overhead"):
            got[(r["month"], c)] = got.get((r["month"], c), M(0)) + r[c]
    assert got == expected
    for c in ("labor", "energy", "variable_overhead", "fixed_overhead"):
        assert sum(orders[c].to_list(), M(0)) == sum(v for (_, cc), v in expected.items() if cc == c)


def test_tiny_demo_material_at_standard(tiny_demo):
    with tiny_demo.connect(read_only=True) as con:
        exp = con.execute(
            "SELECT sum(round(CAST(-m.qty AS DECIMAL(18,4)) * p.std_unit_cost, 2)) FROM inventory_movements m JOIN products p "
            "USING (product_id) WHERE m.kind = 'issue'"
        ).fetchone()[0]
        got = sum(order_costs(con)["material"].to_list(), M(0))
    assert got == exp


@pytest.mark.parametrize("by", ["product", "customer", "product,shift", "site"])
def test_tiny_demo_unit_economics_invariants(tiny_demo, by):
    for month in (D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)):
        end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        ue = tiny_demo.unit_economics(by=by, start=month, end=end)
        assert ue.height > 0
        for r in ue.iter_rows(named=True):
            assert (
                r["contribution_margin"]
                == r["revenue"] - r["material"] - r["labor"] - r["energy"] - r["variable_overhead"]
            )
        # revenue ties to the GL revenue of the month
        gl = tiny_demo.sql(
            "SELECT -sum(g.amount) AS r FROM gl_entries g JOIN accounts a USING (account_id) "
            "WHERE a.role = 'revenue' AND g.posting_date BETWEEN ? AND ?",
            [month, end],
        )["r"][0]
        assert sum(ue["revenue"].to_list(), M(0)) == gl
        shipped = tiny_demo.sql("SELECT sum(qty) AS q FROM shipments WHERE shipped_date BETWEEN ? AND ?", [month, end])[
            "q"
        ][0]
        assert sum(ue["units"].to_list()) == pytest.approx(shipped)


# ----------------------------------------------------------------------------------------------- CLI
def opsfin_cli(ws, *args: str) -> subprocess.CompletedProcess:
    return run_in_process(*args, "-w", str(ws.path))


def test_cli_unit_economics_contract(tiny_demo):
    p = opsfin_cli(
        tiny_demo,
        "unit-economics",
        "--by",
        "product,customer",
        "--from",
        "2024-02-01",
        "--to",
        "2024-02-29",
        "--format",
        "csv",
    )
    assert p.returncode == 0, p.stderr
    header = p.stdout.splitlines()[0].split(",")
    assert header == [
        "product_id",
        "customer_id",
        "units",
        "revenue",
        "material",
        "labor",
        "energy",
        "variable_overhead",
        "fixed_overhead",
        "unit_cost",
        "contribution_margin",
        "cm_per_unit",
        "cm_ratio",
        "cost_basis",
    ]
    p = opsfin_cli(tiny_demo, "unit-economics", "--format", "json")
    rows = json.loads(p.stdout)
    assert rows and all(
        M(r["contribution_margin"])
        == M(r["revenue"]) - M(r["material"]) - M(r["labor"]) - M(r["energy"]) - M(r["variable_overhead"])
        for r in rows
    )
    for scope, col in (("warehouse", "cost_per_line"), ("support", "cost_per_ticket")):
        p = opsfin_cli(tiny_demo, "unit-economics", "--scope", scope, "--format", "json")
        assert p.returncode == 0, p.stderr
        assert all(col in r for r in json.loads(p.stdout))
    p = opsfin_cli(tiny_demo, "order-costs", "--from", "2024-03-01", "--to", "2024-03-31", "--format", "json")
    assert p.returncode == 0 and json.loads(p.stdout)[0]["total_cost"]
    p = opsfin_cli(tiny_demo, "unit-economics")
    assert p.returncode == 0 and "Unit economics" in p.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["unit-economics", "--by", "colour"], "--by 'colour'"),
        (["unit-economics", "--from", "2024-02-30"], "--from"),
        (["unit-economics", "--from", "2024-03-01", "--to", "2024-02-01"], "after"),
        (["unit-economics", "--scope", "plant"], "--scope"),
        (["unit-economics", "--scope", "support", "--by", "product"], "--by"),
        (["order-costs", "--to", "soon"], "--to"),
    ],
)
def test_cli_errors(tiny_demo, args, message):
    p = opsfin_cli(tiny_demo, *args)
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr


def test_cli_missing_workspace(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "opsfin", "unit-economics", "-w", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_engine_is_pure_on_a_connection(hw):
    """The engine reads only through the connection it is given and returns the same table twice."""
    con = duckdb.connect(str(hw.warehouse_path), read_only=True)
    try:
        a = unit_economics(con, "EUR", "product")
        b = unit_economics(con, "EUR", "product")
    finally:
        con.close()
    assert a.equals(b)


def test_an_invoice_with_credit_lines_splits_its_base_amount_by_the_one_cent_rule():
    """A foreign-currency invoice with a credit line: each line's exact share of the base amount is
    base × line / net, rounded by opsfin.core.money's rule (largest remainder; ties to the larger share,
    then the earlier line). Worked by hand: 10.01 over +2, −1, +2 (net 3) is 6.6733…, −3.3366…, 6.6733…;
    rounded down 6.67, −3.34, 6.67 (10.00); the missing cent goes to line 1 (a tie, the earlier line)."""
    from opsfin.costing.unit_economics import _split_signed

    parts = _split_signed(Decimal("10.01"), [(1, Decimal("2")), (2, Decimal("-1")), (3, Decimal("2"))])
    assert parts == {1: Decimal("6.68"), 2: Decimal("-3.34"), 3: Decimal("6.67")}
    assert _split_signed(Decimal("10.00"), [(1, Decimal("30")), (2, Decimal("-10"))]) == {
        1: Decimal("15.00"),
        2: Decimal("-5.00"),
    }


def test_foreign_invoices_are_converted_once_and_split_over_their_lines(hw):
    """Two more USD invoices in late January, worked by hand (each invoice's net × its rate, half-even to the
    cent, split over its lines by amount; the one cent rule):
    - I4 on 01-16 (rate 0.90): lines 10.00, 20.00, 3.37 → net 33.37 × 0.9 = 30.033 → 30.03 = 3003 cents;
      shares 899.91, 1799.82, 303.27 → floors 899, 1799, 303 (3001); the 2 missing cents go to the largest
      remainders (.91, .82) → 9.00, 18.00, 3.03;
    - I5 on 01-25 (rate 0.50) with a credit line: 10.01, −3.00 → net 7.01 × 0.5 = 3.505 → 3.50 (half to
      even); shares 499.79, −149.79 → rounded down 499, −150 (349); the missing cent goes to the larger
      remainder (.79, line 1) → 5.00, −1.50."""
    from opsfin.costing.unit_economics import revenue_lines

    with hw.connect() as con:
        con.execute(
            "INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES "
            "('I4', 'C2', 'SO2', 'invoice', '2024-01-16', '2024-02-15', 'USD', 0, 33.37, 'HW'), "
            "('I5', 'C2', 'SO2', 'invoice', '2024-01-25', '2024-02-24', 'USD', 0, 7.01, 'HW'); "
            "INSERT INTO ar_invoice_lines VALUES ('I4', 1, 'FG-1', 1, 10, 10.00, 'HW'), "
            "('I4', 2, 'FG-1', 1, 20, 20.00, 'HW'), ('I4', 3, 'FG-1', 1, 3.37, 3.37, 'HW'), "
            "('I5', 1, 'FG-1', 1, 10.01, 10.01, 'HW'), ('I5', 2, 'FG-1', 1, -3, -3.00, 'HW')"
        )
    con = duckdb.connect(str(hw.warehouse_path), read_only=True)
    try:
        rows = revenue_lines(con, "EUR", dt.date(2024, 1, 16), dt.date(2024, 1, 31))
    finally:
        con.close()
    assert [(r["invoice_id"], r["line"], r["revenue"]) for r in rows] == [
        ("I4", 1, M("9.00")),
        ("I4", 2, M("18.00")),
        ("I4", 3, M("3.03")),
        ("I5", 1, M("5.00")),
        ("I5", 2, M("-1.50")),
    ]


def test_reads_are_compiled_once_and_still_read_new_rows(hw):
    """The second run uses the SQL compiled by the first (no new entry in the compile cache) and still reads
    the warehouse as it is now: 10 more units shipped to C1 on 01-20 → 60 + 30 + 10 = 100 units."""
    from opsfin.costing import compiled

    assert hw.unit_economics().row(0, named=True)["units"] == 90.0
    known = set(compiled._SQL)
    with hw.connect() as con:
        con.execute("INSERT INTO shipments VALUES ('SH3', 'SO1', 1, 10, '2024-01-20', 'HW')")
    assert hw.unit_economics().row(0, named=True)["units"] == 100.0
    assert set(compiled._SQL) == known


def test_unit_economics_revenue_sums_lines_at_par_and_converts_the_others(hw):
    """Revenue per customer reads the lines at rate 1 summed by the warehouse and converts the others invoice
    by invoice. Added to January: the USD invoices I4 (30.03) and I5 (3.50) of the test above, for C2, and a
    EUR invoice I6 for C1 with lines 12.34 and 0.01. C1: 600.00 + 12.35 = 612.35; C2: 540.00 + 30.03 + 3.50 =
    573.53; by product (both customers): 1185.88."""
    with hw.connect() as con:
        con.execute(
            "INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES "
            "('I4', 'C2', 'SO2', 'invoice', '2024-01-16', '2024-02-15', 'USD', 0, 33.37, 'HW'), "
            "('I5', 'C2', 'SO2', 'invoice', '2024-01-25', '2024-02-24', 'USD', 0, 7.01, 'HW'), "
            "('I6', 'C1', 'SO1', 'invoice', '2024-01-18', '2024-02-17', 'EUR', 0, 12.35, 'HW'); "
            "INSERT INTO ar_invoice_lines VALUES ('I4', 1, 'FG-1', 1, 10, 10.00, 'HW'), "
            "('I4', 2, 'FG-1', 1, 20, 20.00, 'HW'), ('I4', 3, 'FG-1', 1, 3.37, 3.37, 'HW'), "
            "('I5', 1, 'FG-1', 1, 10.01, 10.01, 'HW'), ('I5', 2, 'FG-1', 1, -3, -3.00, 'HW'), "
            "('I6', 1, 'FG-1', 1, 12.34, 12.34, 'HW'), ('I6', 2, 'FG-1', 1, 0.01, 0.01, 'HW')"
        )
    cust = by_id(hw.unit_economics(by="customer", start="2024-01-01", end="2024-01-31"), "customer_id")
    assert (cust["C1"]["revenue"], cust["C2"]["revenue"]) == (M("612.35"), M("573.53"))
    assert hw.unit_economics(start="2024-01-01", end="2024-01-31")["revenue"].to_list() == [M("1185.88")]
