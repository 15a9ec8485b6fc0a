"""Guardrails on forecasts (docs/alerts.md, "Forecast breaches"): `opsfin alerts --include-forecast`.

The pure check on a plan worked by hand, then the real thing on a copy of the tiny demo: a plan version built
for two months after its books, and a guardrail set just below a work centre's projected utilization."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import polars as pl
import pytest

from cli_support import run_in_process
from opsfin.alerts import parse_guardrails
from opsfin.alerts.forecast_breach import PlanVersion, check_forecast
from opsfin.kpis import KPI_BY_ID
from opsfin.planning.capacity import CAPACITY_SCHEMA

D = dt.date
MAY, JUN, JUL = D(2025, 5, 1), D(2025, 6, 1), D(2025, 7, 1)
MONEY = pl.Decimal(18, 2)


def plan() -> PlanVersion:
    capacity = pl.DataFrame(
        [
            (MAY, "WC1", 99.0, 100.0, 0.99, 0.0),  # not ahead of the reference month: never checked
            (JUN, "WC1", 90.0, 100.0, 0.9, 0.0),
            (JUL, "WC1", 96.0, 100.0, 0.96, 0.0),
            (JUN, "WC2", 80.0, 100.0, 0.8, 0.0),
            (JUL, "WC2", 120.0, 100.0, 1.2, 20.0),
        ],
        schema=CAPACITY_SCHEMA,
        orient="row",
    )
    balances = pl.DataFrame(
        [(JUN, "ar", Decimal(30000)), (JUN, "inventory", Decimal(10000))],
        schema={"period": pl.Date, "role": pl.Utf8, "amount": MONEY},
        orient="row",
    )
    pnl = pl.DataFrame(
        [
            (JUN, "W1", "revenue", Decimal(20000)),
            (JUN, "W1", "cogs", Decimal(5000)),
            (JUN, "P1", "variances", Decimal(1000)),
            (JUN, "W1", "gross_margin", Decimal(-100)),
            (JUN, "P1", "gross_margin", Decimal(50)),
        ],
        schema={"period": pl.Date, "site_id": pl.Utf8, "line": pl.Utf8, "amount": MONEY},
        orient="row",
    )
    return PlanVersion("fc-2025-05", capacity, balances, pnl, MAY)


SITES = {"WC1": "P1", "WC2": "P2"}


def alerts_for(yaml: str):
    return check_forecast(plan(), parse_guardrails(yaml, catalog=KPI_BY_ID), KPI_BY_ID, SITES)


def test_a_guardrail_just_below_a_projected_utilization_raises_a_forecast_breach():
    alerts = alerts_for("guardrails:\n  - {kpi: capacity_utilization, by: work_center, max: 0.95}\n")
    got = [(a.scope, a.period_start, a.value) for a in alerts]
    assert got == [
        ({"work_center": "WC1"}, JUL, pytest.approx(0.96)),
        ({"work_center": "WC2"}, JUL, pytest.approx(1.2)),
    ]
    record = alerts[0].to_dict()
    assert record["kind"] == "forecast_breach" and record["version"] == "fc-2025-05"
    assert record["months_ahead"] == 2 and record["bound"] == 0.95
    assert record["period_start"] == "2025-07-01" and record["period_end"] == "2025-07-31"
    assert "projected at 96.0%" in record["explanation"] and "2 months ahead" in record["explanation"]


def test_company_and_site_kpis_are_ratios_of_sums():
    yaml = """guardrails:
  - {kpi: capacity_utilization, max: 0.99}
  - {kpi: overtime_share, by: site, max: 0.1}
  - {kpi: dso, max: 40}
  - {kpi: dio, min: 15, max: 45}
  - {kpi: gross_margin, min: 0}
  - {kpi: maintenance_cost, max: 1}
"""
    got = {(a.kpi, tuple(a.scope.items()), a.period_start): a.value for a in alerts_for(yaml)}
    assert got == {
        ("capacity_utilization", (), JUL): pytest.approx(216 / 200),  # (96 + 120) / (100 + 100)
        ("overtime_share", (("site", "P2"),), JUL): pytest.approx(20 / 120),
        ("dso", (), JUN): pytest.approx(30000 * 30 / 20000),  # 45 days
        ("dio", (), JUN): pytest.approx(10000 * 30 / 6000),  # 50 days: inventory over cogs + variances
        ("gross_margin", (), JUN): pytest.approx(-50),
    }  # maintenance_cost is not projected without a maintenance driver


def test_maintenance_cost_is_the_sites_rate_per_hour_run_times_the_plan_hours():
    """P1 spent 3000 over 300 hours run in the 3-month window: 10 an hour, × WC1's plan hours (90 in June,
    96 in July) = 900, 960. P2 spent 900 but ran no hours: its monthly average, 300. P3 (no work centre in
    the plan) spent 600: 200 a month. Company: June 900 + 300 + 200 = 1400, July 1460."""
    from opsfin.alerts.forecast_maintenance import MaintenanceDriver

    driver = MaintenanceDriver({"P1": 3000.0, "P2": 900.0, "P3": 600.0}, {"P1": 300.0}, 3, D(2025, 3, 1), MAY)
    base = plan()
    with_driver = PlanVersion(base.name, base.capacity, base.balances, base.pnl, base.reference, driver)
    yaml = "guardrails:\n  - {kpi: maintenance_cost, by: site, max: 950}\n  - {kpi: maintenance_cost, max: 1400}\n"
    alerts = check_forecast(with_driver, parse_guardrails(yaml, catalog=KPI_BY_ID), KPI_BY_ID, SITES)
    got = {(tuple(a.scope.items()), a.period_start): a.value for a in alerts}
    assert got == {((("site", "P1"),), JUL): pytest.approx(960), ((), JUL): pytest.approx(1460)}


@pytest.fixture(scope="module")
def planned_ws(tiny_demo, tmp_path_factory):
    """A copy of the tiny demo (books to 2024-04) with plan version FC built for 2024-05 and 2024-06 from
    April's shipments, and no anomaly scans (the test is about forecasts)."""
    from opsfin.planning.volumes import Volumes, actual_volumes
    from opsfin.runs.planning import build_plan_version
    from opsfin.runs.tables import reading_tables

    path = tmp_path_factory.mktemp("forecast") / "ws"
    shutil.copytree(tiny_demo.path, path)
    import opsfin

    ws = opsfin.open(path)
    (ws.model_dir / "detection.yaml").write_text("scan: []\n")
    april = [D(2024, 4, 1)]
    with reading_tables(ws) as t:
        actual = actual_volumes(t, april, ws.settings.base_currency)

    def ahead(_t, months, _config):
        moved = [frame.with_columns(period=pl.lit(m)) for frame in (actual.shipments, actual.sales) for m in months]
        n = len(months)
        return Volumes("april", pl.concat(moved[:n]), pl.concat(moved[n:]))

    build_plan_version(ws, "FC", "april", kind="forecast", volumes=ahead, months=[D(2024, 5, 1), D(2024, 6, 1)])
    return ws


def test_forecast_breach_on_a_plan_version_through_the_cli(planned_ws):
    from opsfin.runs.tables import reading_tables

    with reading_tables(planned_ws) as t:
        cap = t("plan_capacity").filter(t("plan_capacity").version == "FC").to_polars()
    top = cap.sort("utilization", descending=True).row(0, named=True)
    assert 0 < top["utilization"] < 2
    bound = round(top["utilization"] - 0.001, 4)  # just below the most loaded work centre's projection
    (planned_ws.model_dir / "guardrails.yaml").write_text(
        f"guardrails:\n  - {{kpi: capacity_utilization, by: work_center, max: {bound}}}\n"
    )
    cmd = ["alerts", "--include-forecast", "--version", "FC", "--format", "json"]
    proc = run_in_process(*cmd, "-w", str(planned_ws.path))
    assert proc.returncode == 0, proc.stderr
    breaches = [a for a in json.loads(proc.stdout) if a["kind"] == "forecast_breach"]
    assert {(a["scope"]["work_center"], a["period_start"]) for a in breaches} == {
        (top["work_center_id"], top["period"].isoformat())
    }
    (a,) = breaches
    assert a["version"] == "FC" and a["months_ahead"] == (1 if top["period"].month == 5 else 2)
    assert a["value"] == pytest.approx(top["utilization"], rel=1e-6) and a["bound"] == bound
    refused = run_in_process(cmd[0], "--version", "FC", "-w", str(planned_ws.path))
    assert refused.returncode == 2 and "--include-forecast" in refused.stderr


def test_a_maintenance_guardrail_below_a_sites_projection_breaches(planned_ws):
    """On the tiny copy: each plant's maintenance cost per hour run over February–April 2024 (the GL's
    `maintenance` role by cost-centre site ÷ the operations' run + setup hours, by plain SQL) × the plan's
    required hours of its work centres; a bound just below the highest projection breaches exactly there."""
    import duckdb

    from opsfin.runs.alerts import forecast_alerts

    sql = """
    with cost as (
      select c.site_id, sum(g.amount) as cost from gl_entries g join accounts a using (account_id)
      join cost_centers c using (cost_center_id)
      where a.role = 'maintenance' and g.posting_date >= '2024-02-01' and g.posting_date < '2024-05-01'
      group by 1),
    ran as (
      select w.site_id, sum(o.run_minutes + o.setup_minutes) / 60 as hours from operations o
      join work_centers w using (work_center_id) where o.end_at >= '2024-02-01' and o.end_at < '2024-05-01'
      group by 1),
    planned as (
      select p.period, w.site_id, sum(p.required_hours) as required from plan_capacity p
      join work_centers w using (work_center_id) where p.version = 'FC' group by 1, 2)
    select planned.period, planned.site_id, cast(cost.cost as double) / ran.hours * planned.required
    from planned join cost using (site_id) join ran using (site_id) order by 3 desc
    """
    with duckdb.connect(str(planned_ws.path / "warehouse.duckdb"), read_only=True) as con:
        expected = {(site, period): value for period, site, value in con.sql(sql).fetchall()}
    assert len(expected) == 4  # P1 and P2, May and June
    bound = round(max(expected.values()) - 1, 2)
    yaml = f"guardrails:\n  - {{kpi: maintenance_cost, by: site, max: {bound}}}\n"
    alerts = forecast_alerts(planned_ws, "FC", guardrails=parse_guardrails(yaml, catalog=KPI_BY_ID))
    got = {(a.scope["site"], a.period_start): a.value for a in alerts if a.kind == "forecast_breach"}
    assert got == {key: pytest.approx(v, rel=1e-9) for key, v in expected.items() if v > bound}
    assert len(got) == 1
