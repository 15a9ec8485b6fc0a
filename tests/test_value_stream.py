"""Value streams, worked by hand on the fixture of tests/test_unit_economics.py, plus
invariants on the tiny demo and the `opsfin value-stream` CLI contract.

Orders completed (family Fam, product FG-1): O1 released 01-02 08:00, completed 01-03 08:00 → 24 h lead time;
O2 released 01-10 08:00, completed 01-10 20:00 → 12 h. O3 is still open and counts nowhere.
- value-added time: run time of step 1 (routing value_added) = 60 + 60 min = 120 min → mean 1.0 h per order
- wait: O1 0 + 120, O2 0 + 60 = 180 min → mean 1.5 h per order
- lead time: (24 + 12) / 2 = 18 h; PCE = 120 min / (36 h · 60) = 1/18
- cost per unit = (557.75 + 537.25) / 150 good units = 7.3000
- non-value-added step 2 (WC-A): O1-2 57.00 labor + 2.25 energy + 15 var OH + 45 fix OH = 119.25;
  O2-2 38.00 + 3.75 + 25 + 75 = 141.75 → 261.00, per unit 261 / 150 = 1.7400
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

import opsfin
from cli_support import run_in_process
from opsfin.costing.order_costs import order_costs
from opsfin.errors import UserError
from test_unit_economics import FIXTURE_SQL, _fix_sales_orders

M = Decimal


@pytest.fixture
def hw(tmp_path):
    ws = opsfin.init(tmp_path / "hw")
    with ws.connect() as con:
        con.execute(_fix_sales_orders(FIXTURE_SQL).replace("'W1', NULL, 'p", "'W1', 'E1', 'p"))
    return ws


def test_value_stream_hand_worked(hw):
    vs = hw.value_stream(by="family")
    assert vs.height == 1
    r = vs.row(0, named=True)
    assert (r["family"], r["orders"], r["units"]) == ("Fam", 2, 150)
    assert r["lead_time_hours"] == pytest.approx(18.0)
    assert r["value_added_hours"] == pytest.approx(1.0)
    assert r["wait_hours"] == pytest.approx(1.5)
    assert r["pce"] == pytest.approx(1 / 18)
    assert r["cost_per_unit"] == M("7.3000")
    assert r["nva_cost"] == M("261.00")
    assert (r["largest_nva_step"], r["largest_nva_cost"]) == ("2 WC-A", M("261.00"))

    by_product = hw.value_stream(by="product", start="2024-01-01", end="2024-01-31").row(0, named=True)
    assert by_product["product_id"] == "FG-1" and by_product["pce"] == pytest.approx(1 / 18)


def test_value_stream_steps_hand_worked(hw):
    steps = hw.value_stream(steps=True)
    assert steps.height == 1
    s = steps.row(0, named=True)
    assert (s["step"], s["work_center_id"], s["value_added"], s["operations"]) == (
        2,
        "WC-A",
        False,
        2,
    )
    assert s["run_hours"] == pytest.approx(80 / 60) and s["wait_hours"] == pytest.approx(3.0)
    assert (s["cost"], s["cost_per_unit"]) == (M("261.00"), M("1.7400"))


def test_value_stream_empty_range_and_errors(hw):
    assert hw.value_stream(start="2025-01-01", end="2025-01-31").height == 0
    with pytest.raises(UserError, match="family or product"):
        hw.value_stream(by="site")
    with pytest.raises(UserError, match="after"):
        hw.value_stream(start="2024-02-01", end="2024-01-01")


def test_tiny_demo_value_stream_invariants(tiny_demo):
    vs = tiny_demo.value_stream(by="product", start="2024-02-01", end="2024-02-29")
    with tiny_demo.connect(read_only=True) as con:
        orders = order_costs(con, dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert vs["orders"].sum() == orders.height
    assert vs["units"].sum() == pytest.approx(orders["qty_good"].sum())
    for r in vs.iter_rows(named=True):
        assert 0 < r["pce"] < 1
        assert r["value_added_hours"] <= r["lead_time_hours"]
        mine = orders.filter(pl.col("product_id") == r["product_id"])
        exp = (sum(mine["total_cost"].to_list(), M(0)) / M(str(mine["qty_good"].sum()))).quantize(M("0.0001"))
        assert r["cost_per_unit"] == exp
    steps = tiny_demo.value_stream(by="product", start="2024-02-01", end="2024-02-29", steps=True)
    assert not steps["value_added"].any()
    assert steps["cost"].to_list() == sorted(steps["cost"].to_list(), reverse=True)
    for r in vs.iter_rows(named=True):
        assert r["nva_cost"] == sum(steps.filter(pl.col("product_id") == r["product_id"])["cost"].to_list(), M(0))


def test_cli_value_stream(tiny_demo):
    def run(*args):
        return run_in_process("value-stream", *args, "-w", str(tiny_demo.path))

    p = run("--format", "csv")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0].split(",") == [
        "family",
        "orders",
        "units",
        "lead_time_hours",
        "value_added_hours",
        "wait_hours",
        "setup_hours",
        "pce",
        "cost_per_unit",
        "nva_cost",
        "largest_nva_step",
        "largest_nva_cost",
    ]
    p = run(
        "--by",
        "product",
        "--steps",
        "--format",
        "json",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
    )
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert rows and {"product_id", "step", "work_center_id", "cost"} <= set(rows[0])
    p = run()
    assert p.returncode == 0 and "Value streams" in p.stdout
    p = run("--by", "machine")
    assert p.returncode == 2 and "family or product" in p.stderr and "Traceback" not in p.stderr
