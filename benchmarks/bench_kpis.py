"""Time every KPI by site × month on the `large` demo company, and three of them against hand-written SQL.

    python benchmarks/bench_kpis.py                 # builds (once) and reuses ./.bench/large
    python benchmarks/bench_kpis.py /path/to/large  # or OPSFIN_BENCH_LARGE=/path/to/large
    python benchmarks/bench_kpis.py --runs 5        # median of 5 instead of 3

Every KPI runs through the engine (`opsfin.kpis.compute`) on DuckDB, split by site and month when its rows
carry `site`, by month at company level otherwise (dso, dio, dpo, ccc, inventory_turns, days_to_pay).

For `oee`, `dso` and `overtime_share` the same numbers are also computed with SQL written straight from
docs/kpis.md on the same DuckDB connection, the results are checked to agree
(relative difference ≤ 1e-9), and the engine/SQL ratio of the medians is printed. Target: ≤ 1.5.

Each timing is the median of N runs (default 3) after one untimed warm-up run, and includes fetching the
result into Python (the engine returns Polars, the SQL an Arrow table). In the comparison the engine and the
SQL are timed in turns, so that load from other processes slows both alike. Building the large company
(`opsfin demo --scale large`) takes several minutes and ~75M rows; it is cached in the folder."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import polars as pl

import opsfin
from opsfin.kpis import KPIS, compute

DEFAULT_DIR = Path(".bench/large")
TARGET = 1.5

# ------------------------------------------------------------------ hand-written SQL (from docs/kpis.md)
# oee = Σ(ideal_cycle_seconds·units_good) / Σ(planned_minutes·60); machine_readings → machine → work_center → site
OEE_SQL = """
SELECT date_trunc('month', r.hour_start)::DATE AS period_start, wc.site_id AS site,
       sum(m.ideal_cycle_seconds * r.units_good) AS numerator, sum(r.planned_minutes * 60) AS denominator
FROM machine_readings r
JOIN machines m ON m.machine_id = r.machine_id
JOIN work_centers wc ON wc.work_center_id = m.work_center_id
GROUP BY ALL
"""

# overtime_share = Σovertime_hours / Σ(regular_hours + overtime_hours); timesheets → employee → site
OVERTIME_SQL = """
SELECT date_trunc('month', t.work_date)::DATE AS period_start, e.site_id AS site,
       sum(t.overtime_hours) AS numerator, sum(t.regular_hours + t.overtime_hours) AS denominator
FROM timesheets t
JOIN employees e ON e.employee_id = t.employee_id
GROUP BY ALL
"""

# dso = avg_AR / revenue · d, avg_AR = (AR at the day before P + AR at P's last day) / 2, AR(t) = cumulative
# Σ amount of role 'ar' up to and including t; revenue = −Σ amount of role 'revenue' in P. Balances are read
# off a daily calendar of cumulative sums.
DSO_SQL = """
WITH daily AS (
    SELECT g.posting_date AS day,
           sum(CASE WHEN a.role = 'ar' THEN g.amount END) AS ar,
           sum(CASE WHEN a.role = 'revenue' THEN -g.amount END) AS revenue
    FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
    WHERE a.role IN ('ar', 'revenue')
    GROUP BY 1
), calendar AS (
    SELECT d::DATE AS day
    FROM (SELECT min(day) AS lo, max(day) AS hi FROM daily),
         range(date_trunc('month', lo), last_day(hi) + 1, INTERVAL 1 DAY) t(d)
), balances AS (
    SELECT c.day, coalesce(d.revenue, 0) AS revenue,
           sum(coalesce(d.ar, 0)) OVER (ORDER BY c.day ROWS UNBOUNDED PRECEDING) AS ar
    FROM calendar c LEFT JOIN daily d ON d.day = c.day
), months AS (
    SELECT date_trunc('month', day)::DATE AS period_start, count(*) AS d, sum(revenue) AS revenue,
           arg_max(ar, day) AS ar_end
    FROM balances GROUP BY 1
), edges AS (
    SELECT *, coalesce(lag(ar_end) OVER (ORDER BY period_start), 0) AS ar_start FROM months
)
SELECT period_start, ((ar_start + ar_end) / 2 * d)::DOUBLE AS numerator, revenue::DOUBLE AS denominator
FROM edges
"""

HAND_SQL = {
    "oee": (OEE_SQL, ["site"]),
    "dso": (DSO_SQL, []),
    "overtime_share": (OVERTIME_SQL, ["site"]),
}


# ------------------------------------------------------------------ helpers
def ensure_company(path: Path) -> Path:
    """Reuse a complete large demo (its truth/ is written last), or build one."""
    if (path / "truth" / "anomalies.json").exists() and (path / "warehouse.duckdb").exists():
        return path
    from opsfin.demo import generate

    print(f"building the large demo company in {path} (several minutes)…", flush=True)
    t0 = time.perf_counter()
    generate(path, scale="large", seed=42, overwrite=True)
    print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def timed(fn, runs: int) -> tuple[float, object]:
    result = fn()  # warm-up: the first run also reads the columns from disk
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), result


def interleaved(engine, sql, runs: int):
    """Engine and SQL timed in turns (after one warm-up each), so that a busy machine slows both alike."""
    frame, arrow = engine(), sql()
    e_secs, s_secs = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        frame = engine()
        e_secs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        arrow = sql()
        s_secs.append(time.perf_counter() - t0)
    return statistics.median(e_secs), statistics.median(s_secs), frame, arrow


def same_numbers(engine: pl.DataFrame, sql: pl.DataFrame, keys: list[str]) -> tuple[bool, str]:
    e = engine.select(
        *keys,
        pl.col("numerator").cast(pl.Float64),
        pl.col("denominator").cast(pl.Float64),
        pl.col("value").cast(pl.Float64),
    )
    s = sql.select(
        *keys,
        pl.col("numerator").cast(pl.Float64).alias("n_sql"),
        pl.col("denominator").cast(pl.Float64).alias("d_sql"),
    )
    if e.height != s.height:
        return False, f"{e.height} engine rows vs {s.height} SQL rows"
    j = e.join(s, on=keys, how="full", coalesce=True)
    if j.height != e.height:
        return False, "different row keys"

    def close(a, b):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)

    for r in j.iter_rows(named=True):
        want = r["n_sql"] / r["d_sql"] if r["d_sql"] else None
        if not (close(r["numerator"], r["n_sql"]) and close(r["denominator"], r["d_sql"]) and close(r["value"], want)):
            return False, f"differs at { ({k: r[k] for k in keys}) }: engine {r} "
    return True, f"{e.height} rows agree"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=os.environ.get("OPSFIN_BENCH_LARGE", str(DEFAULT_DIR)))
    ap.add_argument("--runs", type=int, default=3, help="timed runs per measurement (median)")
    ap.add_argument("--kpis", default="", help="only these KPIs (comma-separated)")
    args = ap.parse_args(argv)

    ws = opsfin.open(ensure_company(Path(args.path)))
    tables = ws.kpi_tables("duckdb")
    con = tables.backend.con  # the same DuckDB connection the engine uses
    counts = {
        t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("machine_readings", "timesheets", "gl_entries", "operations")
    }
    print(f"company {ws.path}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print(
        f"engine: opsfin.kpis.compute on DuckDB; median of {args.runs} runs after one warm-up\n",
        flush=True,
    )

    wanted = [k for k in KPIS if not args.kpis or k.id in args.kpis.split(",")]
    print(f"{'KPI':24s} {'split':14s} {'rows':>6s} {'engine s':>9s}")
    print("-" * 56)
    engine_seconds: dict[str, float] = {}
    total = 0.0
    for k in wanted:
        by = ["site"] if "site" in k.dims else []
        secs, frames = timed(lambda k=k, by=by: compute(tables, [k.id], "month", by), args.runs)
        frame = frames[0]  # type: ignore[index]
        engine_seconds[k.id] = secs
        total += secs
        print(
            f"{k.id:24s} {('site × month' if by else 'month'):14s} {frame.height:>6d} {secs:>9.3f}",
            flush=True,
        )
    print("-" * 56)
    print(f"{'all KPIs':24s} {'':14s} {'':>6s} {total:>9.3f}\n")

    print(f"{'KPI':16s} {'engine s':>9s} {'SQL s':>8s} {'ratio':>6s}  {'target ≤ 1.5':12s}  same numbers")
    print("-" * 78)
    worst = 0.0
    all_same = True
    for kpi, (sql, keys) in HAND_SQL.items():
        if kpi not in engine_seconds:
            continue
        engine_secs, sql_secs, frame, arrow = interleaved(
            lambda kpi=kpi, keys=keys: compute(tables, [kpi], "month", keys)[0],
            lambda sql=sql: con.sql(sql).to_arrow_table(),
            args.runs,
        )
        sql_frame: pl.DataFrame = pl.from_arrow(arrow)  # type: ignore[assignment]
        ok, note = same_numbers(frame, sql_frame, ["period_start", *keys])
        ratio = engine_secs / sql_secs
        worst, all_same = max(worst, ratio), all_same and ok
        print(
            f"{kpi:16s} {engine_secs:>9.3f} {sql_secs:>8.3f} {ratio:>6.2f}  "
            f"{'met' if ratio <= TARGET else 'MISSED':12s}  {'yes' if ok else 'NO'} ({note})",
            flush=True,
        )
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
