"""The `opsfin kpi` / `opsfin bottlenecks` contract, run as real subprocesses on the tiny demo company.

The numbers are checked against the docs/kpis.md formulas recomputed here in plain
DuckDB SQL, written from the design page and not through the engine."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys

import duckdb
import pytest

from opsfin.kpis import KPIS

COLUMNS = ["period_start", "kpi", "value", "numerator", "denominator"]


def opsfin(ws, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "opsfin", *args, "-w", str(ws.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def num(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# ------------------------------------------------------------------ independent SQL from docs/kpis.md
SITE_MONTH_SQL = """
WITH readings AS (   -- machine_readings → machine → work_center → site
    SELECT date_trunc('month', r.hour_start)::DATE AS period_start, wc.site_id AS site,
           m.ideal_cycle_seconds * r.units_good AS ideal_good, m.ideal_cycle_seconds * r.units_total AS ideal_total,
           r.planned_minutes * 60 AS planned_seconds
    FROM machine_readings r JOIN machines m ON m.machine_id = r.machine_id
    JOIN work_centers wc ON wc.work_center_id = m.work_center_id
), hours AS (        -- timesheets → employee → site
    SELECT date_trunc('month', t.work_date)::DATE AS period_start, e.site_id AS site,
           t.overtime_hours, t.regular_hours + t.overtime_hours AS all_hours
    FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id
), shipped AS (      -- shipments → sales-order line → site
    SELECT date_trunc('month', sh.shipped_date)::DATE AS period_start, so.site_id AS site,
           CASE WHEN sh.shipped_date <= so.promised_date THEN sh.qty ELSE 0 END AS on_time, sh.qty
    FROM shipments sh JOIN sales_orders so ON so.so_id = sh.so_id AND so.line = sh.line
)
SELECT period_start, site, 'oee' AS kpi, sum(ideal_good) AS n, sum(planned_seconds) AS d FROM readings GROUP BY ALL
UNION ALL
SELECT period_start, site, 'capacity_utilization', sum(ideal_total), sum(planned_seconds) FROM readings GROUP BY ALL
UNION ALL
SELECT period_start, site, 'overtime_share', sum(overtime_hours), sum(all_hours) FROM hours GROUP BY ALL
UNION ALL
SELECT period_start, site, 'on_time_delivery', sum(on_time), sum(qty) FROM shipped GROUP BY ALL
"""

# Balance(role, t) = cumulative Σ amount up to and including t; avg_X = (X(P start − 1) + X(P end)) / 2;
# revenue = −Σ revenue; cogs = Σ cogs and variance_*; dso = avg_AR / revenue · d; dio = avg_inv / cogs · d
WORKING_CAPITAL_SQL = """
WITH gl AS (
    SELECT g.posting_date AS day, a.role, g.amount FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
), months AS (
    SELECT m::DATE AS p, last_day(m)::DATE AS e
    FROM (SELECT min(day) AS lo, max(day) AS hi FROM gl), range(date_trunc('month', lo), hi + 1, INTERVAL 1 MONTH) t(m)
), edges AS (
    SELECT p, e, datediff('day', p, e) + 1 AS d,
      (SELECT coalesce(sum(amount), 0) FROM gl WHERE role = 'ar' AND day <= p - 1) AS ar0,
      (SELECT coalesce(sum(amount), 0) FROM gl WHERE role = 'ar' AND day <= e) AS ar1,
      (SELECT coalesce(sum(amount), 0) FROM gl
        WHERE role IN ('inventory_raw', 'inventory_wip', 'inventory_fg') AND day <= p - 1) AS inv0,
      (SELECT coalesce(sum(amount), 0) FROM gl
        WHERE role IN ('inventory_raw', 'inventory_wip', 'inventory_fg') AND day <= e) AS inv1,
      (SELECT -coalesce(sum(amount), 0) FROM gl WHERE role = 'revenue' AND day BETWEEN p AND e) AS revenue,
      (SELECT coalesce(sum(amount), 0) FROM gl
        WHERE (role = 'cogs' OR role LIKE 'variance\\_%' ESCAPE '\\') AND day BETWEEN p AND e) AS cogs
    FROM months
)
SELECT p AS period_start, 'dso' AS kpi, (ar0 + ar1) / 2 * d AS n, revenue AS d FROM edges
UNION ALL
SELECT p, 'dio', (inv0 + inv1) / 2 * d, cogs FROM edges
"""

# the constraint: per site and month, the work centre with the highest capacity_utilization; beside it the
# mean wait_minutes of its operations (dated by end_at)
BOTTLENECK_SQL = """
WITH util AS (
    SELECT date_trunc('month', r.hour_start)::DATE AS period_start, wc.site_id AS site, wc.work_center_id,
           sum(m.ideal_cycle_seconds * r.units_total) / sum(r.planned_minutes * 60) AS utilization
    FROM machine_readings r JOIN machines m ON m.machine_id = r.machine_id
    JOIN work_centers wc ON wc.work_center_id = m.work_center_id
    GROUP BY ALL HAVING sum(r.planned_minutes) > 0
), busy AS (
    SELECT date_trunc('month', end_at)::DATE AS period_start, work_center_id,
           sum(setup_minutes + run_minutes) AS busy
    FROM operations GROUP BY ALL
), paid AS (
    SELECT date_trunc('month', ts.work_date)::DATE AS period_start, ts.work_center_id,
           sum(ts.regular_hours + ts.overtime_hours) * 60 AS paid
    FROM timesheets ts JOIN cost_centers cc USING (cost_center_id) WHERE cc.kind = 'production' GROUP BY ALL
), loaded AS (
    SELECT util.*, coalesce(busy.busy, 0) / nullif(paid.paid, 0) AS load
    FROM util LEFT JOIN busy USING (period_start, work_center_id) LEFT JOIN paid USING (period_start, work_center_id)
), top AS (
    SELECT * FROM loaded QUALIFY row_number() OVER (PARTITION BY period_start, site
                                                     ORDER BY load DESC NULLS LAST, utilization DESC, work_center_id) = 1
), waits AS (
    SELECT date_trunc('month', end_at)::DATE AS period_start, work_center_id, avg(wait_minutes) AS mean_wait
    FROM operations GROUP BY ALL
)
SELECT top.period_start, top.site, top.work_center_id, top.utilization, waits.mean_wait, top.load
FROM top LEFT JOIN waits USING (period_start, work_center_id)
"""


def sql_rows(ws, query: str) -> list[tuple]:
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        return con.sql(query).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------ the checks
def test_site_kpis_match_design_formulas(tiny_demo):
    proc = opsfin(
        tiny_demo,
        "kpi",
        "oee,capacity_utilization,overtime_share,on_time_delivery",
        "--grain",
        "month",
        "--by",
        "site",
        "--format",
        "csv",
    )
    header, rows = csv_rows(proc.stdout)
    assert header == ["period_start", "site", "kpi", "value", "numerator", "denominator"]
    got = {(r["period_start"], r["site"], r["kpi"]): r for r in rows}
    want = {
        (p.isoformat(), site, kpi): (float(n), float(d)) for p, site, kpi, n, d in sql_rows(tiny_demo, SITE_MONTH_SQL)
    }
    assert len(got) == len(rows) and set(got) == set(want)
    assert {k[2] for k in got} == {
        "oee",
        "capacity_utilization",
        "overtime_share",
        "on_time_delivery",
    }
    for key, (n, d) in want.items():
        r = got[key]
        assert same(num(r["numerator"]), n) and same(num(r["denominator"]), d), (key, r, n, d)
        assert same(num(r["value"]), n / d if d else None), (key, r)


def test_working_capital_matches_design_formulas(tiny_demo):
    proc = opsfin(tiny_demo, "kpi", "dso,dio", "--grain", "month", "--format", "csv")
    header, rows = csv_rows(proc.stdout)
    assert header == COLUMNS
    got = {(r["period_start"], r["kpi"]): r for r in rows}
    want = {(p.isoformat(), kpi): (float(n), float(d)) for p, kpi, n, d in sql_rows(tiny_demo, WORKING_CAPITAL_SQL)}
    assert len(got) == len(rows) and set(got) == set(want) and len(want) >= 8
    for key, (n, d) in want.items():
        r = got[key]
        assert same(num(r["numerator"]), n) and same(num(r["denominator"]), d), (key, r, n, d)
        assert same(num(r["value"]), n / d if d else None), (key, r)


def test_bottlenecks_match_independent_pick(tiny_demo):
    proc = opsfin(tiny_demo, "bottlenecks", "--format", "json")
    got = {(r["period_start"], r["site"]): r for r in json.loads(proc.stdout)}
    want = sql_rows(tiny_demo, BOTTLENECK_SQL)
    assert set(got) == {(p.isoformat(), site) for p, site, *_ in want} and len(want) >= 8
    for p, site, wc, util, wait, load in want:
        r = got[(p.isoformat(), site)]
        assert r["work_center"] == wc and same(r["capacity_utilization"], util), (r, wc, util)
        assert same(r["mean_wait_minutes"], wait) and same(r["machine_load"], load), (r, wait, load)
        # the constraint is the most loaded work centre (busy over paid minutes), not the most utilised
        assert r["runner_up_load"] is None or r["runner_up_load"] <= r["machine_load"]


# ------------------------------------------------------------------ output contract
def test_json_columns_in_order(tiny_demo):
    proc = opsfin(tiny_demo, "kpi", "availability,revenue", "--by", "site", "--format", "json")
    records = json.loads(proc.stdout)
    assert records and all(
        list(r) == ["period_start", "site", "kpi", "value", "numerator", "denominator"] for r in records
    )
    assert {r["kpi"] for r in records} == {"availability", "revenue"}
    # two dimensions keep the order asked for
    proc = opsfin(
        tiny_demo,
        "kpi",
        "oee",
        "--by",
        "work_center,site",
        "--grain",
        "quarter",
        "--format",
        "json",
    )
    records = json.loads(proc.stdout)
    assert records and list(records[0]) == [
        "period_start",
        "work_center",
        "site",
        "kpi",
        "value",
        "numerator",
        "denominator",
    ]
    assert {r["period_start"] for r in records} == {"2024-01-01", "2024-04-01"}


def test_money_prints_exactly(tiny_demo):
    proc = opsfin(tiny_demo, "kpi", "revenue", "--format", "csv")
    header, rows = csv_rows(proc.stdout)
    assert header == COLUMNS and rows
    want = dict(
        sql_rows(
            tiny_demo,
            """
        SELECT strftime(date_trunc('month', posting_date), '%Y-%m-%d'), (-sum(amount))::VARCHAR
        FROM gl_entries JOIN accounts USING (account_id) WHERE role = 'revenue' GROUP BY ALL""",
        )
    )
    assert {r["period_start"]: r["value"] for r in rows} == want  # decimal text, to the cent
    assert all(r["denominator"] == "" for r in rows)


def test_list_shows_every_kpi(tiny_demo):
    proc = opsfin(tiny_demo, "kpi", "--list", "--format", "json")
    listed = json.loads(proc.stdout)
    assert [k["id"] for k in listed] == [k.id for k in KPIS]
    assert all(k["formula"] and k["direction"] in ("higher_is_better", "lower_is_better") for k in listed)
    by_id = {k["id"]: k for k in listed}
    assert by_id["dso"]["dimensions"] == "(company)"
    assert "site" in by_id["oee"]["dimensions"]
    table = opsfin(tiny_demo, "kpi", "--list")
    assert "KPI catalog" in table.stdout


def test_where_filters(tiny_demo):
    _, all_sites = csv_rows(opsfin(tiny_demo, "kpi", "oee", "--by", "site", "--format", "csv").stdout)
    _, p1 = csv_rows(opsfin(tiny_demo, "kpi", "oee", "--by", "site", "--where", "site=P1", "--format", "csv").stdout)
    assert p1 and {r["site"] for r in p1} == {"P1"}
    assert p1 == [r for r in all_sites if r["site"] == "P1"]
    # without --by, the filtered company-level rows are the P1 rows
    _, company = csv_rows(opsfin(tiny_demo, "kpi", "oee", "--where", "site=P1", "--format", "csv").stdout)
    assert [(r["period_start"], r["value"]) for r in company] == [(r["period_start"], r["value"]) for r in p1]


def test_table_format(tiny_demo):
    proc = opsfin(tiny_demo, "kpi", "oee", "--grain", "year")
    (year,) = json.loads(opsfin(tiny_demo, "kpi", "oee", "--grain", "year", "--format", "json").stdout)
    rows = [line.split()[:3] for line in proc.stdout.splitlines() if line.startswith("2024-")]
    assert rows == [["2024-01-01", "oee", f"{year['value']:.1%}"]] and 0 < year["value"] < 1


# ------------------------------------------------------------------ user mistakes: exit 2, one line, no traceback
@pytest.mark.parametrize(
    "args, message",
    [
        (["kpi", "oee", "--by", "customer"], "cannot be split by customer"),
        (["kpi", "dso", "--by", "site"], "cannot be split by site"),
        (["kpi", "csat", "--where", "machine=M1"], "cannot be split by machine"),
        (["kpi", "no_such_kpi"], "unknown KPI 'no_such_kpi'"),
        (["kpi", "oee", "--grain", "fortnight"], "unknown grain 'fortnight'"),
        (["kpi", "oee", "--by", "planet"], "unknown dimension planet"),
        (["kpi", "oee", "--by", "work_center,work_center"], "by: work_center is named twice"),
        (["kpi", "oee", "--from", "2024-13-01"], "not a date"),
        (["kpi", "oee", "--where", "site"], "use DIM=VALUE"),
        (["bottlenecks", "--grain", "fortnight"], "unknown grain"),
    ],
)
def test_user_mistakes(tiny_demo, args, message):
    proc = opsfin(tiny_demo, *args, ok=False)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


# ------------------------------------------------------------------ docs/kpis.md lists the catalog
def catalog_rows() -> list[str]:
    """The catalog table of docs/kpis.md, as generated from the engine's definitions."""
    return [
        f"| `{k.id}` | {k.formula} | {k.unit} | {k.direction} | {', '.join(sorted(k.dims)) or 'company only'} |"
        for k in KPIS
    ]


def test_docs_list_every_kpi_and_source(tmp_path):
    from pathlib import Path

    import opsfin
    from opsfin.kpis.sources import SOURCES

    doc = (Path(__file__).resolve().parents[1] / "docs" / "kpis.md").read_text(encoding="utf-8")
    missing = [row for row in catalog_rows() if row not in doc]
    assert not missing, "docs/kpis.md: update the catalog table with these rows:\n" + "\n".join(catalog_rows())
    # the custom-KPI section lists each source with the columns an expression may use
    tables = opsfin.init(tmp_path / "empty").kpi_tables()
    lines = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    for name, source in SOURCES.items():
        assert name in lines, f"docs/kpis.md: source {name} is not documented"
        columns = [c for c in source.build(tables, source.dims).columns if not c.startswith("_")]
        undocumented = [c for c in columns if f"`{c}`" not in lines[name]]
        assert not undocumented, f"docs/kpis.md: source {name} lacks columns {undocumented}"
