"""The scale path for costing: order costs, unit economics and value streams give the same tables on Spark
as on DuckDB, Decimal for Decimal (tiny company), and the hand-worked numbers of test_unit_economics.py
on both engines.

Spark needs the `spark` extra and Java 17. Without them the Spark tests skip, except under
OPSFIN_REQUIRE_ALL=1 (CI), where they fail. One local SparkSession serves the whole module.

Hand-worked additions to the fixture of test_unit_economics.py (February, no energy bill): M1 reads 0.1 kWh
and 0.2 kWh and P1's standard energy price is 0.1500, so the machine's energy is 0.3 × 0.15 = 0.045 → 0.04
(half-even) and all of it goes to O3-1, the only operation of February. Summed as doubles, 0.1 + 0.2 is
0.30000000000000004 and the cost would round to 0.05: kWh must be summed exactly.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import polars as pl
import pytest

import opsfin
from cli_support import run_cli
from opsfin.costing.order_costs import cost_pools, order_costs
from opsfin.costing.unit_economics import support_costs, unit_economics, warehouse_costs
from opsfin.costing.value_stream import value_stream, value_stream_steps
from opsfin.errors import UserError
from services import missing
from test_unit_economics import FIXTURE_SQL, _fix_sales_orders

D = dt.date
M = Decimal

EXACT_KWH_SQL = """
UPDATE machine_readings SET kwh = 0.1 WHERE machine_id = 'M1' AND hour_start = '2024-02-01 08:00:00';
INSERT INTO machine_readings VALUES ('M1', '2024-02-01 09:00:00', 60, 0, 0, 0, 0.2, 40, 1, 'HW');
UPDATE sites SET std_energy_price = 0.1500 WHERE site_id = 'P1';
"""


def _spark_tables(ws):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        return ws.kpi_tables("spark")
    except UserError as exc:
        missing(f"costing on Spark needs pyspark and Java: {exc}")


@pytest.fixture(scope="module")
def engines(tiny_demo):
    """(Spark tables, DuckDB tables) of the tiny company."""
    spark = _spark_tables(tiny_demo)
    duck = tiny_demo.kpi_tables("duckdb")
    yield spark, duck
    duck.backend.disconnect()


@pytest.fixture(scope="module")
def hw(tmp_path_factory):
    ws = opsfin.init(tmp_path_factory.mktemp("costing_hw") / "hw")
    with ws.connect() as con:
        con.execute(_fix_sales_orders(FIXTURE_SQL) + EXACT_KWH_SQL)
    return ws


CASES = {
    "unit economics by product": lambda t: unit_economics(t, t.base_currency, "product"),
    "unit economics by site and shift, Feb-Mar": lambda t: unit_economics(
        t, t.base_currency, "site,shift", D(2024, 2, 1), D(2024, 3, 31)
    ),
    "order costs": lambda t: order_costs(t),
    "order costs completed in February": lambda t: order_costs(t, D(2024, 2, 1), D(2024, 2, 29)),
    "value streams by family": lambda t: value_stream(t),
    "non-value-added steps by product, Feb-Mar": lambda t: value_stream_steps(
        t, "product", D(2024, 2, 1), D(2024, 3, 31)
    ),
    "warehouse cost per line picked": lambda t: warehouse_costs(t),
    "support cost per ticket from February": lambda t: support_costs(t, D(2024, 2, 1)),
}


def _assert_money_not_all_zero(frame: pl.DataFrame, label: str) -> None:
    money = [c for c, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    assert money, f"{label}: no money column to compare"
    for c in money:
        assert any(v for v in frame[c].to_list()), f"{label}: {c} is zero everywhere, nothing compared"


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_costing_same_on_spark_and_duckdb(engines, case):
    spark_t, duck_t = engines
    spark_df, duck_df = CASES[case](spark_t), CASES[case](duck_t)
    assert duck_df.height > 0, f"{case}: no rows on the tiny company, nothing compared"
    if case.startswith(("unit economics", "order costs")):
        _assert_money_not_all_zero(duck_df, case)
    assert spark_df.schema == duck_df.schema
    # exact: Decimal == Decimal, float == float, the same rows in the same order
    assert spark_df.to_dicts() == duck_df.to_dicts(), case


@pytest.mark.slow
def test_cli_unit_economics_engine_spark_matches_duckdb(engines, tiny_demo, capsys):
    def run(engine: str) -> str:
        code, out, err = run_cli(
            capsys,
            "unit-economics",
            "--by",
            "site,shift",
            "--engine",
            engine,
            "--format",
            "csv",
            "-w",
            str(tiny_demo.path),
        )
        assert code == 0, f"--engine {engine} failed:\n{err[-3000:]}"
        return out

    duck, spark = run("duckdb"), run("spark")
    assert duck.count("\n") > 1 and duck.startswith("site_id,shift_id,units,revenue,")
    assert spark == duck


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def test_hand_worked_costs_on_each_engine(hw, engine):
    t = _spark_tables(hw) if engine == "spark" else hw.kpi_tables("duckdb")
    try:
        orders = {r["order_id"]: r for r in order_costs(t).iter_rows(named=True)}
        feb = cost_pools(t, [D(2024, 2, 1)])
        ue = unit_economics(t, "EUR", "product", D(2024, 1, 1), D(2024, 1, 31)).row(0, named=True)
        steps = value_stream_steps(t, "family").row(0, named=True)
    finally:
        if engine == "duckdb":
            t.backend.disconnect()
    assert (orders["O1"]["total_cost"], orders["O1"]["unit_cost"]) == (M("557.75"), M("5.5775"))
    assert (orders["O2"]["total_cost"], orders["O2"]["unit_cost"]) == (M("537.25"), M("10.7450"))
    assert orders["O1"]["qty_good"] == 100 and orders["O3"]["completed_at"] is None
    # February energy: 0.3 kWh summed exactly × 0.15 = 0.045 → 0.04, all on O3-1
    energy = feb.filter(pl.col("component") == "energy").row(0, named=True)
    assert (energy["amount"], energy["basis"], energy["unassigned"]) == (
        M("0.04"),
        "std_price",
        M("0.00"),
    )
    assert orders["O3"]["energy"] == M("0.04")
    # revenue: I2 (USD, 2024-01-15) at the 2024-01-01 rate 0.90, not the later 0.50 → 600.00 + 540.00
    assert (ue["units"], ue["revenue"], ue["contribution_margin"]) == (
        90.0,
        M("1140.00"),
        M("663.00"),
    )
    assert (ue["unit_cost"], ue["cm_per_unit"]) == (M("7.3000"), M("7.3667"))
    # the non-value-added step 2 of O1 and O2: labor 57 + 38, energy 2.25 + 3.75, overheads 15 + 45 + 25 + 75
    assert (steps["step"], steps["operations"], steps["cost"]) == (2, 2, M("261.00"))


def test_unknown_engine_is_a_clear_error(tiny_demo, capsys):
    code, out, err = run_cli(capsys, "order-costs", "--engine", "postgres", "-w", str(tiny_demo.path))
    assert code != 0 and "Traceback" not in err
    assert "postgres" in err and "duckdb" in err


def _abc_and_allocation(t, ws, case: str) -> dict[str, pl.DataFrame]:
    from opsfin.costing.abc import abc_inputs, run_abc
    from opsfin.costing.allocations import allocation_inputs, run_allocation
    from opsfin.runs.model import load_abc_config, load_allocation_config

    if case == "abc":
        config = load_abc_config(ws.model_dir)
        r = run_abc(abc_inputs(t, config, D(2024, 2, 1), D(2024, 3, 31)), config, "customer")
        return {"objects": r.objects, "pools": r.pools, "assignments": r.assignments}
    config = load_allocation_config(ws.model_dir)
    r = run_allocation(allocation_inputs(t, D(2024, 3, 1), config.roles), config, "reciprocal")
    return {"flows": r.flows, "summary": r.summary}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["abc", "allocation"])
def test_abc_and_allocation_same_on_spark_and_duckdb(engines, tiny_demo, case):
    spark_t, duck_t = engines
    spark, duck = (
        _abc_and_allocation(spark_t, tiny_demo, case),
        _abc_and_allocation(duck_t, tiny_demo, case),
    )
    for view, duck_df in duck.items():
        label = f"{case} {view}"
        assert duck_df.height > 0, f"{label}: no rows on the tiny company, nothing compared"
        _assert_money_not_all_zero(duck_df, label)
        assert spark[view].schema == duck_df.schema, label
        assert spark[view].to_dicts() == duck_df.to_dicts(), label


def test_allocation_post_on_spark_is_a_clear_error(tiny_demo, capsys):
    code, out, err = run_cli(
        capsys,
        "allocate",
        "--method",
        "direct",
        "--period",
        "2024-03",
        "--post",
        "--engine",
        "spark",
        "-w",
        str(tiny_demo.path),
    )
    assert code != 0 and "Traceback" not in err
    assert "--post" in err and "DuckDB" in err
