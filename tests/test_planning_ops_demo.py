"""The operations and balances of the plan engine on the tiny demo company (seed 7), over its past months
February–April 2024: they run, give sane ranges, and the capacity they plan is close to the hours the
work centres actually ran (docs/planning.md, "Operations and balances").

Measured (tiny, seed 7): required hours of the actual production ÷ actual run + setup hours 0.87–1.00 per
work centre and month (scrap is processed but not produced); of the production planned from the actual
shipments 0.87–0.99."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from opsfin.planning.balances import plan_balances
from opsfin.planning.capacity import plan_capacity
from opsfin.planning.operations import plan_operations
from opsfin.planning.operations_config import BalancesConfig, OperationsConfig
from opsfin.planning.volumes import actual_volumes
from opsfin.runs.tables import reading_tables

MONTHS = [dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 4, 1)]


@pytest.fixture(scope="module")
def planned(tiny_demo):
    config = OperationsConfig()
    with reading_tables(tiny_demo) as t:
        volumes = actual_volumes(t, MONTHS, tiny_demo.settings.base_currency)
        plan = plan_operations(t, volumes.shipments, MONTHS, config)
        mv = t("inventory_movements")
        mv = mv.filter((mv.kind == "production") & (mv.moved_at >= MONTHS[0]))
        month = mv.moved_at.truncate("M").cast("date")
        made = mv.group_by(period=month, site_id=mv.site_id, product_id=mv.product_id).aggregate(qty=mv.qty.sum())
        made = made.to_polars().filter(pl.col("period").is_in(MONTHS))
        from_actual, _, _ = plan_capacity(t, made, MONTHS, config)
        op = t("operations")
        hours = ((op.run_minutes + op.setup_minutes).sum() / 60).name("actual")
        ran = op.group_by(period=op.end_at.truncate("M").cast("date"), work_center_id=op.work_center_id).aggregate(
            hours
        )
        ran = ran.to_polars()
        pnl = pl.DataFrame(
            [
                (m, "W1", line, Decimal(a))
                for m in MONTHS
                for line, a in (("revenue", "5000000"), ("operating_income", "500000"))
            ],
            schema={"period": pl.Date, "site_id": pl.Utf8, "line": pl.Utf8, "amount": pl.Decimal(18, 2)},
            orient="row",
        )
        balances = plan_balances(t, pnl, plan, MONTHS, BalancesConfig())
    return plan, from_actual, ran, balances


@pytest.fixture(scope="module")
def work_centres(tiny_demo) -> int:
    return tiny_demo.sql("SELECT count(*) AS n FROM work_centers")["n"][0]


def test_the_plan_runs_with_sane_ranges(planned, work_centres):
    plan, _, _, balances = planned
    assert work_centres == 12  # two plants × six stages (docs/demo-company.md)
    assert plan.capacity.height == 3 * work_centres  # every month × every work centre
    utilization = plan.capacity["utilization"]
    assert utilization.min() > 0 and utilization.max() < 2
    assert plan.production["qty"].sum() > 0 and plan.purchases["amount"].sum() > 0
    per_month = plan.inventory.group_by("period").agg(pl.col("amount").sum())
    assert per_month.height == 3 and all(a > 0 for a in per_month["amount"])
    roles = {r["role"]: r["amount"] for r in balances.iter_rows(named=True) if r["period"] == MONTHS[-1]}
    assert roles["ar"] > 0 and roles["ap"] > 0 and roles["inventory"] > 0
    assert roles["cash_in"] - roles["cash_out"] == roles["net_cash_flow"]


def test_required_hours_are_close_to_the_hours_actually_run(planned, work_centres):
    plan, from_actual, ran, _ = planned
    measured = []
    for capacity, tolerance in ((from_actual, 0.15), (plan.capacity, 0.25)):
        joined = capacity.join(ran, on=["period", "work_center_id"])
        assert joined.height == 3 * work_centres
        ratio = joined["required_hours"] / joined["actual"]
        measured.append((ratio.min(), ratio.max()))
        assert ratio.min() > 1 - tolerance and ratio.max() < 1 + tolerance, measured
