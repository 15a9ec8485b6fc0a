"""Experiment cases that kill mutants `make mutation` found alive in experiments/ (docs/testing.md, "Mutation
testing"): the pre-trend slope and its p-value, the report's JSON shape, the money of a sum KPI and of a KPI
with a scale. Tiny hand-made panels only, each expected figure worked out in the comments."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.experiments.analysis import analyze, choose_controls
from opsfin.experiments.config import parse_experiments
from opsfin.experiments.did import _p_value, estimate, pre_trend
from opsfin.kpis.definitions import KPI_BY_ID
from test_experiment_analysis import START, _rows


def _experiment(metric: str, **extra):
    entry = {"name": "e1", "unit": "work_center", "treated": ["WC1"], "start": "2024-07", "metrics": [metric]}
    return parse_experiments({"experiments": [{**entry, **extra}]}, catalog=KPI_BY_ID).experiments[0]


# ------------------------------------------------------------------------------------------ the pre-trend
def _drifting(treated: list[float], control: list[float], months: list[dt.date]) -> pl.DataFrame:
    rows = [("T", m, v, True) for m, v in zip(months, treated, strict=True)]
    rows += [("C", m, v, False) for m, v in zip(months, control, strict=True)]
    return pl.DataFrame(rows, schema=["unit", "period", "value", "treated"], orient="row")


def test_a_pre_trend_across_a_new_year_is_one_a_month_and_fails_exactly():
    """T rises by exactly 1 a month from November 2023 to February 2024 (10, 11, 12, 13), C stays at 5: the
    months since the first are 0, 1, 2, 3 across the year's end (12 months a year), so the slope is 1. The
    fit is exact (no residual): a zero error, and a non-zero slope over a zero error has p-value 0, a fail."""
    months = [dt.date(2023, 11, 1), dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    got = pre_trend(_drifting([10.0, 11.0, 12.0, 13.0], [5.0] * 4, months))
    assert got.slope == pytest.approx(1.0, abs=1e-9)
    assert got.p_value == 0.0 and got.failed and got.months == 4
    # parallel before the start: slope 0 over an error of 0 is no evidence either way, no p-value
    flat = pre_trend(_drifting([10.0, 9.0, 12.0, 11.0], [5.0, 4.0, 7.0, 6.0], months))
    assert flat.slope == 0.0 and flat.p_value is None and not flat.failed


def test_the_p_value_is_two_sided_against_the_t_table():
    """Published two-sided 5 % critical values of Student's t: 12.706 (1 degree of freedom), 2.228 (10)."""
    assert _p_value(12.706, 1.0, 1) == pytest.approx(0.05, abs=1e-4)
    assert _p_value(-2.228, 1.0, 10) == pytest.approx(0.05, abs=1e-4)
    assert _p_value(4.456, 2.0, 10) == pytest.approx(0.05, abs=1e-4)  # the ratio, not the coefficient
    assert _p_value(1.0, math.nan, 5) is None  # no error estimated
    assert _p_value(1.0, 0.5, 0) is None  # no degree of freedom left
    assert _p_value(0.5, 0.0, 4) == 0.0  # an exact non-zero slope
    assert _p_value(0.0, 0.0, 4) is None


def test_a_saturated_two_by_two_has_an_effect_and_no_interval():
    """One unit a group, one month each side: 4 values, 4 coefficients (effect, 2 units, 1 month): the effect
    (12 − 10) − (7 − 6) = 1 is exact but nothing is left to estimate an error; the JSON says null."""
    panel = pl.DataFrame(
        {
            "unit": ["T", "T", "C", "C"],
            "period": [dt.date(2024, 6, 1), START] * 2,
            "value": [10.0, 12.0, 6.0, 7.0],
            "treated": [True, True, False, False],
        }
    )
    got = estimate(panel, START).as_json()
    assert got["effect"] == pytest.approx(1.0, abs=1e-12)
    assert got["ci_low"] is None and got["ci_high"] is None and got["std_error"] is None
    assert got["level"] == 0.95
    assert got["pre_trend"] == {"slope": None, "p_value": None, "failed": False, "months": 1}
    assert (got["units"], got["observations"]) == (2, 4)


# --------------------------------------------------------------------------------------- the report's JSON
def test_given_controls_are_said_to_be_given_and_units_are_named():
    report = analyze(
        _experiment("energy_per_unit", control=["WC3"]),
        {"energy_per_unit": _rows(-0.5, {"WC1": 10.0, "WC3": 13.0})},
        KPI_BY_ID,
    )
    body = report.as_json()
    assert body["unit"] == "work_center" and body["control"] == ["WC3"]
    assert body["control_chosen_by"] == "given"
    assert body["metrics"][0]["metric"] == "energy_per_unit" and body["metrics"][0]["unit"] == "kWh/unit"


def test_the_money_of_a_ratio_kpi_names_each_factor():
    """−0.5 kWh a unit, 1,000 units a month over the last 12 months observed (12,000 a year): −6,000 kWh a
    year; at 0.2 a kWh −1,200.00."""
    exp = _experiment("energy_per_unit", control=["WC3"], money={"energy_per_unit": {"unit_value": 0.2}})
    rows = _rows(-0.5, {"WC1": 10.0, "WC3": 13.0})
    (metric,) = analyze(exp, {"energy_per_unit": rows}, KPI_BY_ID).metrics
    money = metric.money
    assert money["effect"] == pytest.approx(-0.5, abs=1e-9)
    assert money["effect_source"] == "difference-in-differences above"
    assert money["volume_per_year"] == pytest.approx(12000.0)
    assert money["volume_source"] == (
        "the KPI engine's energy_per_unit denominator of the treated units, last 12 month(s) observed, scaled to 12"
    )
    assert money["change_per_year"] == pytest.approx(-6000.0)
    assert money["change_per_year_is"] == "numerator a year"
    assert money["unit_value"] == "0.2" and money["unit_value_source"] == "model/experiments.yaml"
    assert money["amount"] == "-1200.00"


def test_the_money_of_a_sum_kpi_is_its_monthly_effect_times_twelve():
    """output_units is a sum: +50 units a month is +600 a year, no volume; at 2.00 a unit: 1,200.00."""
    exp = _experiment("output_units", control=["WC3"], money={"output_units": {"unit_value": 2}})
    rows = _rows(50.0, {"WC1": 1000.0, "WC3": 1300.0})
    (metric,) = analyze(exp, {"output_units": rows}, KPI_BY_ID).metrics
    assert metric.estimate.effect == pytest.approx(50.0, abs=1e-9)
    assert metric.money["volume_per_year"] is None
    assert metric.money["change_per_year"] == pytest.approx(600.0)
    assert metric.money["change_per_year_is"] == "output_units a month × 12"
    assert metric.money["amount"] == "1200.00"


def test_the_money_of_a_kpi_with_a_scale_divides_the_effect_by_it():
    """throughput_per_hour = 60 × units / minutes: +6 units an hour is +0.1 unit a minute of the
    denominator; 1,000 minutes a month is 12,000 a year, so +1,200 units a year; at 0.5: 600.00."""
    exp = _experiment("throughput_per_hour", control=["WC3"], money={"throughput_per_hour": {"unit_value": 0.5}})
    rows = _rows(6.0, {"WC1": 30.0, "WC3": 33.0})
    (metric,) = analyze(exp, {"throughput_per_hour": rows}, KPI_BY_ID).metrics
    assert metric.money["change_per_year"] == pytest.approx(1200.0)
    assert Decimal(metric.money["amount"]) == Decimal("600.00")


# --------------------------------------------------------------------------------------- matched controls
def _constant(levels: dict[str, float], months: list[dt.date]) -> pl.DataFrame:
    rows = [(u, m, v) for u, v in levels.items() for m in months]
    return pl.DataFrame(rows, schema=["unit", "period_start", "value"], orient="row")


BEFORE_AFTER = [dt.date(2024, 5, 1), dt.date(2024, 6, 1), START]


def test_each_metrics_gaps_are_divided_by_its_spread_before_they_add_up():
    """T is treated. Energy (before: T 0, X 0, Y 10, Z 10, two months each): 8 values, mean 5, each 5 away,
    sample variance 8 × 25 / 7 = 200/7. Scrap (T 0, X 1, Y 0, Z 0): mean 0.25, squares 2 × 0.5625 + 6 ×
    0.0625 = 1.5, variance 1.5/7. Scaled distances: X 0 + 1 / (1.5/7) = 4.67, Y 100 / (200/7) + 0 = 3.5,
    Z the same as Y: Y is the closest (ties by name before Z). Unscaled, X (1) would beat Y (100)."""
    exp = _experiment("energy_per_unit", match=1, treated=["T"], metrics=["energy_per_unit", "scrap_rate"])
    panels = {
        "energy_per_unit": _constant({"T": 0.0, "X": 0.0, "Y": 10.0, "Z": 10.0}, BEFORE_AFTER),
        "scrap_rate": _constant({"T": 0.0, "X": 1.0, "Y": 0.0, "Z": 0.0}, BEFORE_AFTER),
    }
    assert choose_controls(exp, panels) == ["Y"]
    three = _experiment("energy_per_unit", match=3, treated=["T"], metrics=["energy_per_unit", "scrap_rate"])
    assert choose_controls(three, panels) == ["Y", "Z", "X"]  # 3.5, 3.5 (by name), 4.67


def test_a_metric_equal_everywhere_before_the_start_adds_nothing():
    """Scrap is 0 for every unit before the start (variance 0): it is not divided by, and energy alone
    decides: X (0 away) before Y (10 away)."""
    exp = _experiment("energy_per_unit", match=1, treated=["T"], metrics=["energy_per_unit", "scrap_rate"])
    panels = {
        "energy_per_unit": _constant({"T": 0.0, "X": 0.0, "Y": 10.0}, BEFORE_AFTER),
        "scrap_rate": _constant({"T": 0.0, "X": 0.0, "Y": 0.0}, BEFORE_AFTER),
    }
    assert choose_controls(exp, panels) == ["X"]


def test_a_unit_counts_as_seen_before_only_before_the_start_and_after_from_the_start_month():
    """X has scrap only from the start month on (not before): never a control, though closest on energy.
    Y's values stop at the start month itself: that month is after the start, so Y can be chosen."""
    exp = _experiment("energy_per_unit", match=1, treated=["T"], metrics=["energy_per_unit", "scrap_rate"])
    energy = _constant({"T": 0.0, "X": 0.0, "Y": 1.0}, BEFORE_AFTER)
    scrap = pl.concat(
        [_constant({"T": 0.0, "Y": 0.0}, BEFORE_AFTER), _constant({"X": 0.0}, [START, dt.date(2024, 8, 1)])]
    )
    assert choose_controls(exp, {"energy_per_unit": energy, "scrap_rate": scrap}) == ["Y"]


def test_no_unit_with_months_before_the_start_is_a_clear_error():
    """Only T has values before the start (a single value: no variance at all): no control can be matched."""
    exp = _experiment("energy_per_unit", match=1, treated=["T"])
    rows = pl.concat([_constant({"T": 1.0}, [dt.date(2024, 6, 1), START]), _constant({"X": 1.0, "Y": 2.0}, [START])])
    with pytest.raises(UserError, match="only 0 untreated unit"):
        choose_controls(exp, {"energy_per_unit": rows})
