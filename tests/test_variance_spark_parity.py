"""The scale path for variances: the variance bridge gives the same rows on Spark as on DuckDB, Decimal for
Decimal (tiny company): the company bridge, every split (`--by`), the monthly bridge, its ends and the source
rows of a drill; and `opsfin variance --engine spark` prints what `--engine duckdb` prints.

Spark needs the `spark` extra and Java 17. Without them the Spark tests skip, except under
OPSFIN_REQUIRE_ALL=1 (CI), where they fail. One local SparkSession serves the whole module, and each engine
builds the bridge once: every table below is cut from that one bridge (`bridge_table`), so each is a check
of the engine's reads, not of the cutting.
"""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

from cli_support import run_cli
from opsfin.costing.variance import DIMENSIONS, bridge_table, build_bridge, source_rows, summary
from opsfin.errors import UserError
from services import missing


def _spark_tables(ws):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        return ws.kpi_tables("spark")
    except UserError as exc:
        missing(f"variances on Spark need pyspark and Java: {exc}")


@pytest.fixture(scope="module")
def engines(tiny_demo):
    """(Spark tables, DuckDB tables) of the tiny company."""
    spark = _spark_tables(tiny_demo)
    duck = tiny_demo.kpi_tables("duckdb")
    yield spark, duck
    duck.backend.disconnect()


@pytest.fixture(scope="module")
def bridges(engines, tiny_demo):
    """The whole bridge of the tiny company, built on Spark and on DuckDB."""
    spark, duck = engines
    base = tiny_demo.settings.base_currency
    return build_bridge(spark, base_currency=base), build_bridge(duck, base_currency=base)


def _rows_with_money(rows: list[dict]) -> int:
    return sum(1 for r in rows if r["amount"] != 0)


@pytest.mark.slow
@pytest.mark.parametrize("by", [None, *DIMENSIONS])
@pytest.mark.parametrize("monthly", [False, True])
def test_bridge_same_on_spark_and_duckdb(bridges, by, monthly):
    spark_b, duck_b = bridges
    spark_df, duck_df = bridge_table(spark_b, by, monthly), bridge_table(duck_b, by, monthly)
    duck_rows = duck_df.to_dicts()
    assert _rows_with_money(duck_rows) > 5, "the tiny company's bridge is empty: nothing compared"
    if by is not None:  # the split places money on real members, not only on (unassigned)
        assert any(r[by] not in (None, "(unassigned)") and r["amount"] != 0 for r in duck_rows), by
    assert spark_df.schema == duck_df.schema
    # exact: Decimal == Decimal, the same rows in the same order
    assert spark_df.to_dicts() == duck_rows


@pytest.mark.slow
def test_bridge_pieces_and_ends_same_on_spark_and_duckdb(bridges):
    spark_b, duck_b = bridges
    assert (spark_b.months, spark_b.versions) == (duck_b.months, duck_b.versions)
    assert (spark_b.static, spark_b.actual_gm) == (duck_b.static, duck_b.actual_gm)
    assert summary(spark_b) == summary(duck_b)

    # every piece: its cents exactly, and its members' shares before rounding. The shares of revenue over
    # invoice lines and of scrap over operations are doubles, as the ERP computes them (docs/variances.md),
    # summed by each backend in its own order: equal to a millionth of a cent, not to the last bit.
    def pieces(b):
        return {(p.month, p.category, tuple(sorted(p.parts.get("work_center", {})))): p for p in b.pieces}

    spark_p, duck_p = pieces(spark_b), pieces(duck_b)
    assert spark_p.keys() == duck_p.keys() and len(duck_p) == len(duck_b.pieces)
    for k, d in duck_p.items():
        s = spark_p[k]
        assert s.target == d.target, k
        assert {dim: set(m) for dim, m in s.parts.items()} == {dim: set(m) for dim, m in d.parts.items()}, k
        for dim, members in d.parts.items():
            for member, share in members.items():
                assert abs(s.parts[dim][member] - share) < Fraction(1, 10**6), (k, dim, member)


@pytest.mark.slow
@pytest.mark.parametrize("category", ["material_price", "var_overhead_efficiency"])
def test_drill_same_on_spark_and_duckdb(engines, tiny_demo, category):
    spark, duck = engines
    base = tiny_demo.settings.base_currency
    spark_df = source_rows(spark, category, "2024-02", "2024-03", base_currency=base)
    duck_df = source_rows(duck, category, "2024-02", "2024-03", base_currency=base)
    assert duck_df.height > 0, f"{category}: no source rows on the tiny company, nothing compared"
    if category == "material_price":  # the FX as-of lookup is exercised: a foreign currency at a rate ≠ 1
        assert any(r["currency"] != base and r["rate_to_base"] not in (None, 1) for r in duck_df.to_dicts())
    assert spark_df.schema == duck_df.schema
    assert spark_df.to_dicts() == duck_df.to_dicts()


@pytest.mark.slow
def test_cli_variance_engine_spark_matches_duckdb(engines, tiny_demo, capsys):
    def run(engine: str) -> str:
        code, out, err = run_cli(
            capsys,
            "variance",
            "--from",
            "2024-03",
            "--to",
            "2024-03",
            "--by",
            "machine",
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
    assert duck.startswith("category,machine,amount") and duck.count("\n") > 10
    assert spark == duck


def test_unknown_engine_is_a_clear_error(tiny_demo, capsys):
    code, out, err = run_cli(capsys, "variance", "--engine", "postgres", "-w", str(tiny_demo.path))
    assert code != 0 and "Traceback" not in err
    assert "postgres" in err and "duckdb" in err
