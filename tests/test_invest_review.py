"""The post-investment review on synthetic KPI panels (docs/investments.md "Post-investment review"): the
realised effect is the difference-in-differences of the treated units against the controls from go-live
(recovered exactly without noise, inside its interval with noise), the savings so far worked by hand, the
realisation against the promise and the case re-estimated on it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from opsfin.invest.review import ReviewPlan, realisation, review_kpis, scaled_benefits, scaled_effects
from opsfin.kpis.definitions import KPI_BY_ID
from opsfin.scenarios.config import Shock

GO_LIVE = dt.date(2024, 5, 1)
MONTHS = [dt.date(2024, m, 1) for m in range(1, 11)]  # 4 months before go-live, 6 after
UNITS = {"M1": 4.0, "M2": 4.2, "M3": 3.9, "M4": 4.1, "M5": 6.0}  # kWh a unit before go-live
TREATED = ("M1", "M2")
GOOD_UNITS = 500.0


def _rows(effect: float, noise: float = 0.0, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for unit, level in UNITS.items():
        for i, month in enumerate(MONTHS):
            value = level + 0.1 * (i % 3) + (rng.normal(0, noise) if noise else 0.0)
            if unit in TREATED and month >= GO_LIVE:
                value += effect
            rows.append((unit, month, value, value * GOOD_UNITS, GOOD_UNITS))
    return pl.DataFrame(rows, schema=["unit", "period_start", "value", "numerator", "denominator"], orient="row")


def _plan(**extra) -> ReviewPlan:
    data = {
        "unit": "machine",
        "treated": list(TREATED),
        "control": ["M3", "M4"],
        "go_live": "2024-05",
        "kpis": [{"kpi": "energy_per_unit", "promised": -0.4, "unit_value": 0.2, "source": "tariff"}],
        **extra,
    }
    return ReviewPlan.model_validate(data, context={"catalog": KPI_BY_ID})


def test_the_realised_effect_savings_and_realisation_by_hand():
    """−0.3 kWh a unit realised against −0.4 promised: 75 %. Savings so far: 0.3 kWh × 500 units × 6
    months × 2 machines = 1,800 kWh at 0.20 = 360.00 saved (energy per unit: lower is better)."""
    controls, (got,) = review_kpis("press", _plan(), {"energy_per_unit": _rows(-0.3)}, KPI_BY_ID)
    assert controls == ["M3", "M4"]
    assert got.estimate.effect == pytest.approx(-0.3, abs=1e-9)
    assert got.realisation == pytest.approx(0.75, abs=1e-9)
    assert got.savings["months"] == 6
    assert got.savings["volume"] == pytest.approx(6000.0)
    assert got.savings["change"] == pytest.approx(-1800.0)
    assert Decimal(got.savings["amount"]) == Decimal("360.00")
    assert realisation([got]) == pytest.approx(0.75)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_noise_the_effect_is_inside_its_interval_and_matching_finds_the_near_units(seed):
    plan = _plan(control=[], match=2)
    controls, (got,) = review_kpis("press", plan, {"energy_per_unit": _rows(-0.3, 0.05, seed)}, KPI_BY_ID)
    assert set(controls) == {"M3", "M4"}  # M5 (6 kWh) is not comparable
    assert got.estimate.low < -0.3 < got.estimate.high


def test_without_a_unit_value_the_savings_say_why():
    plan = _plan(kpis=[{"kpi": "energy_per_unit", "promised": -0.4}])
    _, (got,) = review_kpis("press", plan, {"energy_per_unit": _rows(-0.3)}, KPI_BY_ID)
    assert got.savings["amount"] is None and "unit_value" in got.savings["reason"]


def test_the_case_is_re_estimated_on_the_realisation():
    shock = Shock(kind="energy_price", scope={"work_centers": ["P1-ASSY"]}, start="2024-05", size=-10)
    (scaled,) = scaled_effects([shock], 0.75)
    assert scaled.size == Decimal("-7.5") and scaled.scope == shock.scope and scaled.start == shock.start
    flows = [(dt.date(2024, 1, 1), Decimal(-1000)), (dt.date(2024, 6, 1), Decimal("400.10"))]
    assert scaled_benefits(flows, 0.5) == [
        (dt.date(2024, 1, 1), Decimal(-1000)),
        (dt.date(2024, 6, 1), Decimal("200.05")),
    ]
