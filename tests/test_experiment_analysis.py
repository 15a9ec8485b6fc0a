"""An experiment analysed on synthetic KPI rows (docs/experiments.md): controls matched on the before
period, the money at the current volume worked by hand, and the file's mistakes as clear errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.experiments.analysis import analyze, choose_controls
from opsfin.experiments.config import parse_experiments
from opsfin.kpis.definitions import KPI_BY_ID

START = dt.date(2024, 7, 1)
MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)]
#: each unit's energy per unit before the start; WC1 is treated
LEVELS = {"WC1": 10.0, "WC2": 10.1, "WC3": 13.0, "WC4": 9.8, "WC5": 20.0}
UNITS_A_MONTH = 1000.0
EFFECT = -0.5


def _rows(
    effect: float = EFFECT, levels: dict[str, float] = LEVELS, denominator: float = UNITS_A_MONTH
) -> pl.DataFrame:
    """energy_per_unit rows as the KPI engine gives them (kWh over good units): each unit at its level plus a
    common seasonal swing; WC1 (treated) moves by `effect` from START. numerator = value × denominator."""
    rows = []
    for unit, level in levels.items():
        for i, month in enumerate(MONTHS):
            value = level + 0.3 * (i % 4) + (effect if unit == "WC1" and month >= START else 0.0)
            rows.append((unit, month, value, value * denominator, denominator))
    return pl.DataFrame(rows, schema=["unit", "period_start", "value", "numerator", "denominator"], orient="row")


def _experiment(**extra):
    entry = {
        "name": "smed",
        "unit": "work_center",
        "treated": ["WC1"],
        "start": "2024-07",
        "metrics": ["energy_per_unit"],
        **extra,
    }
    return parse_experiments({"experiments": [entry]}, catalog=KPI_BY_ID).experiments[0]


def test_matching_picks_the_closest_before_period_units():
    """WC2 (0.1 away) and WC4 (0.2 away) before WC3 (3) and WC5 (10)."""
    exp = _experiment(match=2)
    assert choose_controls(exp, {"energy_per_unit": _rows()}) == ["WC2", "WC4"]
    with pytest.raises(UserError, match="only 4 untreated"):
        choose_controls(_experiment(match=5), {"energy_per_unit": _rows()})


def test_a_unit_missing_a_metric_or_the_after_period_is_never_a_control():
    """WC2 has no scrap rate at all and WC4 none after the start: with both metrics, only WC3 and WC5 (each
    with both metrics before and after) can be chosen, though WC2 and WC4 are the closest on energy."""
    exp = _experiment(match=2, metrics=["energy_per_unit", "scrap_rate"])
    energy = _rows()
    scrap = energy.filter(pl.col("unit") != "WC2").filter((pl.col("unit") != "WC4") | (pl.col("period_start") < START))
    assert choose_controls(exp, {"energy_per_unit": energy, "scrap_rate": scrap}) == ["WC3", "WC5"]
    with pytest.raises(UserError, match="only 2 untreated unit.*every metric before and after"):
        choose_controls(
            _experiment(match=3, metrics=["energy_per_unit", "scrap_rate"]),
            {"energy_per_unit": energy, "scrap_rate": scrap},
        )


def test_the_effect_and_its_money_at_the_current_volume_by_hand():
    """−0.5 kWh a unit × 1,000 units a month × 12 = −6,000 kWh a year; at 0.20 a kWh: −1,200.00."""
    exp = _experiment(match=2, money={"energy_per_unit": {"unit_value": 0.2, "source": "energy contract 2024"}})
    report = analyze(exp, {"energy_per_unit": _rows()}, KPI_BY_ID)
    assert report.controls == ["WC2", "WC4"]
    (metric,) = report.metrics
    assert metric.estimate.effect == pytest.approx(EFFECT, abs=1e-9)
    assert metric.money["volume_per_year"] == pytest.approx(12000.0)
    assert metric.money["change_per_year"] == pytest.approx(-6000.0)
    assert Decimal(metric.money["amount"]) == Decimal("-1200.00")
    assert metric.money["unit_value_source"] == "energy contract 2024"
    body = report.as_json()
    assert body["control_chosen_by"] == "matching on the before period"
    assert body["metrics"][0]["ci_low"] == pytest.approx(EFFECT, abs=1e-9)


def test_money_without_a_unit_value_says_why_and_the_window_bounds_the_months():
    exp = _experiment(control=["WC3"], before_months=2, after_months=1)
    report = analyze(exp, {"energy_per_unit": _rows()}, KPI_BY_ID)
    (metric,) = report.metrics
    assert metric.money["amount"] is None and "unit_value" in metric.money["reason"]
    assert metric.estimate.observations == 2 * 3  # May, June, July for WC1 and WC3
    assert metric.estimate.effect == pytest.approx(EFFECT, abs=1e-9)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "either as `control"),
        ({"control": ["WC2"], "match": 1}, "either as `control"),
        ({"control": ["WC1"]}, "both treated and control"),
        ({"match": 1, "metrics": ["no_such_kpi"]}, "unknown KPI 'no_such_kpi'"),
        ({"match": 1, "money": {"scrap_rate": {"unit_value": 1}}}, "not one of the metrics"),
        ({"match": 1, "unit": "planet"}, "unit"),
    ],
)
def test_a_bad_entry_is_a_user_error_naming_the_experiment(extra, message):
    entry = {"name": "smed", "unit": "work_center", "treated": ["WC1"], "start": "2024-07"}
    entry["metrics"] = ["energy_per_unit"]
    entry.update(extra)
    with pytest.raises(UserError, match=message) as caught:
        parse_experiments({"experiments": [entry]}, "model/experiments.yaml", catalog=KPI_BY_ID)
    assert "smed" in str(caught.value) and "experiments.yaml" in str(caught.value)


def test_an_experiment_named_twice_is_a_user_error_naming_it():
    entry = {"name": "smed", "unit": "work_center", "treated": ["WC1"], "start": "2024-07", "match": 1}
    entry["metrics"] = ["energy_per_unit"]
    with pytest.raises(UserError, match=r"experiment 'smed' is named twice; names are unique"):
        parse_experiments({"experiments": [entry, {**entry, "treated": ["WC2"]}]}, catalog=KPI_BY_ID)
