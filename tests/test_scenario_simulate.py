"""The Monte Carlo engine (opsfin.scenarios.simulate) on a hand-made one-product plan, every number worked by
hand: the linearised run, the draws' percentiles and the breach probabilities (docs/scenarios.md "Monte
Carlo simulation")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from opsfin.errors import UserError
from opsfin.model_schema import validate
from opsfin.scenarios.distributions import Distributions
from opsfin.scenarios.linearise import LinearPlan
from opsfin.scenarios.simulate import Band, simulate

JAN = dt.date(2025, 1, 1)  # 31 days
Z90 = 1.2815515655446004  # the standard normal's 90th percentile


def one_product(**over) -> LinearPlan:
    """January: 100 units sold for 1000, COGS 600, opex 100; 15.5 of its 31 days still open at month end
    (AR = half the revenue); 2.0 of bought material RM-1 in a unit; 0.8 machine hours a unit at WC-1 (80 h
    required of 100 available); cash 5000 at month end."""
    values = dict(
        months=[JAN],
        products=["FG-1"],
        families=["Pumps"],
        work_centers=["WC-1"],
        items=["RM-1"],
        item_families=["Metals"],
        qty=np.array([[100.0]]),
        revenue=np.array([[1000.0]]),
        cogs=np.array([[600.0]]),
        material=np.array([[2.0]]),
        demand_sd=np.array([[0.10]]),
        unit_hours=np.array([[0.8]]),
        required_hours=np.array([[80.0]]),
        available_hours=np.array([[100.0]]),
        variance_share=np.array([0.0]),
        ar_count_back=np.array([[0.5]]),
        delay_month=np.array([0]),
        delay_revenue=np.array([1000.0]),
        delay_days=np.array([31.0]),
        totals={
            "revenue": [Decimal("1000.00")],
            "gross_margin": [Decimal("400.00")],
            "operating_income": [Decimal("300.00")],
            "cash": [Decimal("5000.00")],
        },
    )
    values.update(over)
    return LinearPlan(**values)


def dists(**data) -> Distributions:
    return validate(Distributions, data, "scenarios.yaml")


def row(sim, measure: str) -> dict:
    return sim.months.filter(sim.months["measure"] == measure).row(0, named=True)


def fixed(value: float) -> dict:
    return {"dist": "uniform", "low": value, "high": value}


def test_no_spread_is_the_run_to_the_cent():
    sim = simulate(one_product(), dists(demand={"sd_pct": 0}), [], 500, 3)
    expected = {"revenue": "1000.00", "gross_margin": "400.00", "operating_income": "300.00", "cash": "5000.00"}
    expected["cash_low"] = "5000.00"
    for measure, amount in expected.items():
        r = row(sim, measure)
        assert (r["p10"], r["p50"], r["p90"]) == (Decimal(amount),) * 3, measure


def test_demand_spread_percentiles_and_cash_breach():
    # demand × (1 + 0.1 z): revenue 1000 + 100 z, gross margin 400 + 40 z, AR + 50 z, so cash 5000 − 10 z
    sim = simulate(one_product(), None, [Band("cash >= 4987.18", "cash", min=5000 - 10 * Z90)], 20_000, 11)
    revenue, margin, cash = row(sim, "revenue"), row(sim, "gross_margin"), row(sim, "cash")
    assert float(revenue["p90"]) == pytest.approx(1000 + 100 * Z90, abs=3)
    assert float(revenue["p10"]) == pytest.approx(1000 - 100 * Z90, abs=3)
    assert float(margin["p10"]) == pytest.approx(400 - 40 * Z90, abs=1.2)
    assert float(revenue["p50"]) == pytest.approx(1000, abs=3)
    assert float(cash["p10"]) == pytest.approx(5000 - 10 * Z90, abs=0.3)  # cash falls when demand rises
    # cash < 5000 − 10 × z90 ⇔ z > z90: one draw in ten
    assert sim.breaches.row(0) == ("cash >= 4987.18", pytest.approx(0.10, abs=0.008))


def test_percentiles_are_ordered():
    spread = {"dist": "triangular", "low": -5, "mode": 0, "high": 20}
    sim = simulate(one_product(), dists(price={"sd": 4}, material_price=spread), [], 2000, 5)
    assert (sim.months["p10"] <= sim.months["p50"]).all()
    assert (sim.months["p50"] <= sim.months["p90"]).all()


def test_same_seed_same_result_other_seed_other_result():
    d = dists(price={"sd": 3}, payment_delay={"dist": "uniform", "low": 0, "high": 10})
    a, b = simulate(one_product(), d, [], 3000, 42), simulate(one_product(), d, [], 3000, 42)
    assert a.months.equals(b.months) and a.breaches.equals(b.breaches)
    assert not simulate(one_product(), d, [], 3000, 43).months.equals(a.months)


def test_price_up_five_percent():
    # revenue +50 and gross margin +50; AR + 25, so cash + 25
    sim = simulate(one_product(), dists(demand={"sd_pct": 0}, price={"mean": 5}), [], 100, 1)
    assert row(sim, "revenue")["p50"] == Decimal("1050.00")
    assert row(sim, "operating_income")["p50"] == Decimal("350.00")
    assert row(sim, "cash")["p10"] == Decimal("5025.00")


def test_price_outside_its_scope_changes_nothing():
    d = dists(demand={"sd_pct": 0}, price={"mean": 5, "scope": {"families": ["Valves"]}})
    assert row(simulate(one_product(), d, [], 100, 1), "revenue")["p90"] == Decimal("1000.00")


def test_material_price_ten_percent_of_the_material_in_the_volume():
    # 100 units × 2.0 of RM-1 = 200 of material: +10 % costs 20
    d = dists(demand={"sd_pct": 0}, material_price={"mean": 10, "scope": {"products": ["RM-1"]}})
    sim = simulate(one_product(), d, [], 100, 1)
    assert row(sim, "gross_margin")["p50"] == Decimal("380.00")
    assert row(sim, "cash")["p50"] == Decimal("4980.00")


def test_payment_delay_holds_the_revenue_of_the_days_added():
    # 10 more days of January's 1000 ÷ 31 a day still open: cash − 322.58
    sim = simulate(one_product(), dists(demand={"sd_pct": 0}, payment_delay=fixed(10)), [], 100, 1)
    assert row(sim, "cash")["p50"] == Decimal("4677.42")
    assert row(sim, "operating_income")["p50"] == Decimal("300.00")


def test_outage_beyond_the_spare_hours_loses_volume():
    # 40 h lost of 100 available: 60 h for the 80 h needed, a quarter of the volume is lost
    outage = {"work_centers": ["WC-1"], "probability": 1.0, "hours": fixed(40)}
    sim = simulate(one_product(), dists(demand={"sd_pct": 0}, outages=[outage]), [], 100, 1)
    assert row(sim, "revenue")["p50"] == Decimal("750.00")
    assert row(sim, "gross_margin")["p50"] == Decimal("300.00")
    # within the 20 spare hours nothing is lost
    small = {**outage, "hours": fixed(20)}
    assert row(simulate(one_product(), dists(demand={"sd_pct": 0}, outages=[small]), [], 100, 1), "revenue")[
        "p50"
    ] == Decimal("1000.00")


def test_outage_probability_is_the_share_of_draws_hit():
    outage = {"work_centers": ["WC-1"], "probability": 0.3, "hours": fixed(40)}
    band = Band("revenue >= 900", "revenue", min=900.0)
    sim = simulate(one_product(), dists(demand={"sd_pct": 0}, outages=[outage]), [band], 10_000, 2)
    assert sim.breaches["probability"][0] == pytest.approx(0.3, abs=0.015)


def test_cash_low_is_the_lowest_month_end_so_far():
    # two months, the second with an outage losing all volume: cash 5000 then 5000 − 300 (margin 400 − 100 AR)
    feb = dt.date(2025, 2, 1)
    plan = one_product(
        months=[JAN, feb],
        qty=np.array([[100.0], [100.0]]),
        revenue=np.array([[1000.0], [1000.0]]),
        cogs=np.array([[600.0], [600.0]]),
        demand_sd=np.array([[0.0], [0.0]]),
        required_hours=np.array([[80.0], [80.0]]),
        available_hours=np.array([[100.0], [0.0]]),
        variance_share=np.array([0.0, 0.0]),
        ar_count_back=np.array([[0.5, 0.0], [0.0, 0.5]]),
        delay_month=np.array([0, 1]),
        delay_revenue=np.array([1000.0, 1000.0]),
        delay_days=np.array([31.0, 28.0]),
        totals={
            "revenue": [Decimal(1000), Decimal(1000)],
            "gross_margin": [Decimal(400), Decimal(400)],
            "operating_income": [Decimal(300), Decimal(300)],
            "cash": [Decimal(5000), Decimal(5200)],
        },
    )
    # no outage: cash 5000 then 5200, the low point stays January's 5000
    sim = simulate(plan, dists(demand={"sd_pct": 0}), [], 10, 1)
    assert sim.months.filter(sim.months["measure"] == "cash")["p50"].to_list() == [Decimal(5000), Decimal(5200)]
    assert sim.months.filter(sim.months["measure"] == "cash_low")["p50"].to_list() == [Decimal(5000)] * 2
    outage = {"work_centers": ["WC-1"], "probability": 1.0, "hours": fixed(80)}
    bands = [Band("revenue >= 100", "revenue", min=100.0), Band("cash <= 5050", "cash", max=5050.0)]
    sim = simulate(plan, dists(demand={"sd_pct": 0}, outages=[outage]), bands, 10, 1)
    # January: 100 − 80 = 20 h for the 80 h needed, 3/4 of the volume lost: revenue −750, margin −300,
    # AR −375, so cash 5000 − 300 + 375 = 5075.
    # February: the run already needs 80 h where none are available (its own overload stays), the outage
    # takes the rest: all volume lost, margin −400, AR −500 (−125 more than January): 5200 + 75 − 400 + 125
    lows = sim.months.filter(sim.months["measure"] == "cash_low")["p50"].to_list()
    cash = sim.months.filter(sim.months["measure"] == "cash")["p50"].to_list()
    assert cash == [Decimal("5075.00"), Decimal("5000.00")]
    assert lows == [Decimal("5075.00"), Decimal("5000.00")]
    assert sim.months.filter(sim.months["measure"] == "revenue")["p90"].to_list() == [Decimal(250), Decimal(0)]
    # a band is breached when any month leaves it: February's revenue (0) and January's cash (5075)
    assert sim.breaches["probability"].to_list() == [1.0, 1.0]


def test_bad_distributions_name_the_field():
    with pytest.raises(UserError, match=r"field 'price': .*needs `mode`"):
        dists(price={"dist": "triangular", "low": 0, "high": 5})
    with pytest.raises(UserError, match=r"unknown key 'spread'"):
        dists(demand={"spread": 3})
    with pytest.raises(UserError, match=r"outages\[1\]: field 'probability': expected a number ≤ 1"):
        dists(outages=[{"work_centers": ["WC-1"], "probability": 1.5, "hours": {"mean": 3}}])


def test_unknown_work_centre_and_no_draws_are_user_errors():
    outage = {"work_centers": ["WC-9"], "hours": fixed(4)}
    with pytest.raises(UserError, match="unknown work centre WC-9"):
        simulate(one_product(), dists(outages=[outage]), [], 10, 1)
    with pytest.raises(UserError, match="--draws"):
        simulate(one_product(), None, [], 0, 1)
    with pytest.raises(UserError, match="--seed"):
        simulate(one_product(), None, [], 10, -1)
