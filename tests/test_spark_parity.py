"""The scale path, proven: every KPI gives the same numbers on Spark as on DuckDB (tiny company).

Spark needs the `spark` extra and Java 17. Without them these tests skip, except under
OPSFIN_REQUIRE_ALL=1 (CI), where they fail. One local SparkSession serves the whole module.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

import opsfin
from cli_support import run_cli
from opsfin.canonical import MODEL_TABLE_NAMES
from opsfin.cli import app
from opsfin.errors import UserError
from opsfin.kpis import KPIS, compute
from services import missing

REL_TOL = 1e-9
CASES = [(k.id, by) for k in KPIS for by in ([], ["site"]) if set(by) <= k.dims]


def _need_spark() -> None:
    from opsfin.runs.spark import require_spark

    try:
        require_spark()
    except UserError as exc:
        missing(f"Spark parity needs pyspark and Java: {exc}")


@pytest.fixture(scope="module")
def spark_t(tiny_demo):
    _need_spark()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return tiny_demo.kpi_tables("spark")


@pytest.fixture(scope="module")
def duck_t(tiny_demo):
    return tiny_demo.kpi_tables("duckdb")


def _num(v: Decimal | float | int | str | None) -> float | None:
    """Spark's decimals, DuckDB's doubles and CSV text, as floats; None and "" are null."""
    return None if v is None or v == "" else float(v)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    scale = max(abs(a), abs(b))
    return scale == 0 or abs(a - b) / scale <= REL_TOL


def _assert_same(spark_rows: list[dict], duck_rows: list[dict], keys: list[str], label: str) -> None:
    def index(rows):
        out = {}
        for r in rows:
            k = tuple(str(r[c]) if r[c] is not None else None for c in keys)
            assert k not in out, f"{label}: duplicate key {k}"
            out[k] = r
        return out

    s, d = index(spark_rows), index(duck_rows)
    assert set(s) == set(d), (
        f"{label}: keys differ; only on Spark: {sorted(set(s) - set(d), key=str)[:5]}, "
        f"only on DuckDB: {sorted(set(d) - set(s), key=str)[:5]}"
    )
    for k in d:
        for col in ("value", "numerator", "denominator"):
            a, b = _num(s[k][col]), _num(d[k][col])
            assert _close(a, b), f"{label} {k} {col}: Spark {a!r} vs DuckDB {b!r}"


@pytest.mark.slow
@pytest.mark.parametrize(("kpi", "by"), CASES, ids=[f"{k}-{'-'.join(b) or 'company'}" for k, b in CASES])
def test_kpi_same_on_spark_and_duckdb(spark_t, duck_t, kpi, by):
    [spark_df] = compute(spark_t, [kpi], "month", by)
    [duck_df] = compute(duck_t, [kpi], "month", by)
    assert spark_df.columns == duck_df.columns == ["period_start", *by, "kpi", "value", "numerator", "denominator"]
    assert duck_df.height > 0, f"{kpi} by {by or 'company'}: no rows on the tiny company, nothing compared"
    assert spark_df.schema["period_start"] == duck_df.schema["period_start"] == pl.Date
    _assert_same(
        spark_df.to_dicts(),
        duck_df.to_dicts(),
        ["period_start", *by, "kpi"],
        f"{kpi} by {by or 'company'}",
    )


# other grains, finer dimensions and clipped first/last periods (--from/--to)
EXTRA = [
    ("oee", "week", ["shift"]),
    ("on_time_delivery", "day", ["customer"]),
    ("ppv_rate", "quarter", ["supplier"]),
    ("days_to_pay", "week", ["customer"]),
    ("first_pass_yield", "year", ["family"]),
    ("dso", "week", []),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kpi", "grain", "by"), EXTRA, ids=[f"{k}-{g}-{'-'.join(b) or 'company'}" for k, g, b in EXTRA]
)
def test_grains_and_clipping_same_on_spark(spark_t, duck_t, kpi, grain, by):
    [spark_df] = compute(spark_t, [kpi], grain, by, start="2024-01-10", end="2024-03-20")
    [duck_df] = compute(duck_t, [kpi], grain, by, start="2024-01-10", end="2024-03-20")
    assert duck_df.height > 0
    _assert_same(
        spark_df.to_dicts(),
        duck_df.to_dicts(),
        ["period_start", *by, "kpi"],
        f"{kpi} {grain} by {by}",
    )


@pytest.mark.slow
def test_bottlenecks_same_on_spark(spark_t, duck_t):
    from opsfin.kpis.bottlenecks import bottlenecks

    spark_df, duck_df = bottlenecks(spark_t), bottlenecks(duck_t)
    assert duck_df.height > 0
    assert spark_df.select("period_start", "site", "work_center", "operations", "runner_up").equals(
        duck_df.select("period_start", "site", "work_center", "operations", "runner_up")
    )
    for col in ("capacity_utilization", "mean_wait_minutes", "runner_up_utilization"):
        for a, b in zip(spark_df[col].to_list(), duck_df[col].to_list(), strict=True):
            assert _close(a, b), f"bottlenecks {col}: Spark {a!r} vs DuckDB {b!r}"


@pytest.mark.slow
def test_custom_kpi_same_on_spark(spark_t, duck_t, tmp_path):
    from opsfin.kpis.catalog import custom_kpi

    kpi = custom_kpi(
        {
            "id": "setup_share",
            "source": "operations",
            "numerator": "setup_minutes",
            "denominator": "setup_minutes + run_minutes",
            "filter": "qty_good > 0",
        },
        tmp_path / "kpis.yaml",
    )
    [spark_df] = compute(spark_t, ["setup_share"], "month", ["site"], catalog={"setup_share": kpi})
    [duck_df] = compute(duck_t, ["setup_share"], "month", ["site"], catalog={"setup_share": kpi})
    assert duck_df.height > 0
    _assert_same(
        spark_df.to_dicts(),
        duck_df.to_dicts(),
        ["period_start", "site", "kpi"],
        "custom setup_share",
    )


def test_every_kpi_is_covered():
    assert {k for k, _ in CASES} == {k.id for k in KPIS}
    assert any(by for _, by in CASES)


@pytest.mark.slow
def test_cli_kpi_engine_spark_matches_duckdb(spark_t, tiny_demo, capsys):
    """`opsfin kpi --engine spark`, run as the console entry point runs it, in this process: its Spark session
    is the module's (a second JVM would only cost time)."""

    def run(engine: str) -> list[dict]:
        args = ("kpi", "oee", "--by", "site", "--engine", engine, "--format", "csv", "-w", str(tiny_demo.path))
        code, out, err = run_cli(capsys, *args)
        assert code == 0, f"--engine {engine} failed:\n{err[-3000:]}"
        return list(csv.DictReader(io.StringIO(out)))

    spark_rows, duck_rows = run("spark"), run("duckdb")
    assert duck_rows and list(spark_rows[0]) == list(duck_rows[0]) == [
        "period_start",
        "site",
        "kpi",
        "value",
        "numerator",
        "denominator",
    ]
    _assert_same(spark_rows, duck_rows, ["period_start", "site", "kpi"], "opsfin kpi oee --by site")


@pytest.mark.slow
def test_warehouse_backend_setting_selects_spark(spark_t, tiny_demo, monkeypatch):
    monkeypatch.setenv("OPSFIN_WAREHOUSE__BACKEND", "spark")
    ws = opsfin.open(tiny_demo.path)
    assert ws.settings.warehouse.backend == "spark"
    t = ws.kpi_tables()
    assert t.backend.name == "pyspark"
    spark_df = ws.kpi("overtime_share,revenue", by=["site"])
    duck_df = ws.kpi("overtime_share,revenue", by=["site"], engine="duckdb")
    _assert_same(spark_df.to_dicts(), duck_df.to_dicts(), ["period_start", "site", "kpi"], "ws.kpi on spark")


def test_spark_cache_is_reused(spark_t, tiny_demo):
    from opsfin.runs.spark import CACHE_DIR, parquet_cache

    first = parquet_cache(tiny_demo)
    assert first.parent == tiny_demo.path / CACHE_DIR
    assert parquet_cache(tiny_demo) == first
    assert {p.stem for p in first.glob("*.parquet")} == set(MODEL_TABLE_NAMES)


# ---------------------------------------------------------------- no Spark needed
def test_export_parquet_writes_every_table(tiny_demo, tmp_path):
    out = tmp_path / "pq"
    result = CliRunner().invoke(app, ["export", "parquet", str(out), "-w", str(tiny_demo.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    counts = tiny_demo.row_counts()
    assert {r["table"]: r["rows"] for r in json.loads(result.stdout)} == {n: counts[n] for n in MODEL_TABLE_NAMES}
    con = duckdb.connect()
    for name in MODEL_TABLE_NAMES:
        path = out / f"{name}.parquet"
        assert path.exists(), name
        assert con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0] == counts[name]
    # exact money and the TIME column written as a timestamp on 1970-01-01 (Spark 4.0 cannot read TIME)
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out / 'gl_entries.parquet'}')").fetchall()
    types = {r[0]: r[1] for r in described}
    assert types["amount"] == "DECIMAL(18,2)"
    start = con.execute(f"SELECT start_time FROM read_parquet('{out / 'shifts.parquet'}') LIMIT 1").fetchone()[0]
    assert start.date().isoformat() == "1970-01-01"


def test_missing_java_is_a_clear_error(monkeypatch):
    from opsfin.runs import spark

    monkeypatch.setattr(spark, "java_executable", lambda: None)
    with pytest.raises(UserError, match=r"pip install 'opsfin\[spark\]'"):
        spark.require_spark()
