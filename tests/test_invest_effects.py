"""An investment's driver changes through the scenario engine (docs/investments.md "Effects through the
scenario engine"), on the tiny company's budget B2024 (Jan..Apr 2024): a price rise's flows are the
revenue change worked by hand from the plan's own volume_plan (qty × unit price, read with SQL), extended
flat beyond the plan; the extension rule and the errors on their own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opsfin.core.money import to_decimal
from opsfin.errors import UserError
from opsfin.invest.effects import effect_flows, extend
from opsfin.planning.config import PlanningConfig
from opsfin.planning.inputs import PlanInputs
from opsfin.planning.operations_config import OperationsConfig
from opsfin.planning.volumes import volumes_for
from opsfin.runs.planning import plan_months
from opsfin.runs.tables import reading_tables
from opsfin.scenarios.config import Shock
from opsfin.scenarios.engine import prepare_base

BASE = "B2024"
SIMPLE = PlanningConfig(operations=OperationsConfig(days_of_cover=0.0, setup_per_order=False))
JAN, FEB, MAR, APR = (dt.date(2024, m, 1) for m in (1, 2, 3, 4))


@pytest.fixture(scope="module")
def base(tiny_demo):
    with reading_tables(tiny_demo) as t:
        months = plan_months(t, BASE, None, None)
        volumes = volumes_for(t, BASE, months, tiny_demo.settings.base_currency, SIMPLE.site_mix_months)
        yield prepare_base(PlanInputs(t, volumes, months, SIMPLE, (BASE,)), name=BASE)


def _planned_revenue(ws, product: str) -> dict[dt.date, Decimal]:
    rows = ws.sql(
        f"SELECT period, qty, unit_price FROM volume_plan WHERE version = '{BASE}' AND product_id = '{product}'"
    ).to_dicts()
    return {r["period"]: to_decimal(r["qty"]) * to_decimal(r["unit_price"]) for r in rows}


def test_a_price_rise_flows_are_the_revenue_change_by_hand_extended_flat(base, tiny_demo):
    """FG-004's price +5 % from March, a life of 7 months from February: February 0; March and April 5 %
    of the planned revenue (to a cent per selling site); May..August April's change (the plan ends in
    April)."""
    assert list(base.months) == [JAN, FEB, MAR, APR]
    shock = Shock(kind="price", scope={"products": ["FG-004"]}, start="2024-03", size=5)
    planned = _planned_revenue(tiny_demo, "FG-004")
    flows = effect_flows(base, [shock], FEB, 7)
    assert [d for d, _ in flows] == [FEB, MAR, APR] + [dt.date(2024, m, 1) for m in (5, 6, 7, 8)]
    assert flows[0][1] == 0
    for (month, amount), want in zip(flows[1:3], (planned[MAR], planned[APR]), strict=True):
        assert want > Decimal(100)
        assert abs(amount - want * Decimal("0.05")) <= Decimal("0.02"), month  # a cent per selling site
    assert all(amount == flows[2][1] for _, amount in flows[3:])
    assert all(isinstance(a, Decimal) for _, a in flows)


def test_a_fixed_cost_saving_is_its_size_each_month_and_the_cash_follows(base):
    """Two fewer operators modelled as a fixed cost of −3,000 a month at P2 from February: operating
    income +3,000 in each month of the shock, and the cash basis the same (a fixed cost is paid in its
    month)."""
    shock = Shock(kind="fixed_cost", scope={"sites": ["P2"]}, start="2024-02", size=-3000)
    flows = effect_flows(base, [shock], JAN, 4)
    assert flows == [(JAN, Decimal(0)), (FEB, Decimal(3000)), (MAR, Decimal(3000)), (APR, Decimal(3000))]
    cash = effect_flows(base, [shock], JAN, 4, basis="cash")
    assert sum((a for _, a in cash), Decimal(0)) == Decimal(9000)


def test_extend_fills_before_and_after_the_plan_with_the_nearest_month():
    deltas = {FEB: Decimal(1), MAR: Decimal(2)}
    got = extend(deltas, JAN, 4)
    assert got == [(JAN, Decimal(1)), (FEB, Decimal(1)), (MAR, Decimal(2)), (APR, Decimal(2))]
    assert extend({}, JAN, 3) == []


def test_no_effects_no_flows_and_a_bad_life_is_a_user_error(base):
    assert effect_flows(base, [], JAN, 12) == []
    with pytest.raises(UserError, match="at least one month"):
        effect_flows(base, [], JAN, 0)
