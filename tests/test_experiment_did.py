"""Difference-in-differences on synthetic panels (docs/experiments.md "The estimate"): a planted effect is
recovered exactly without noise and lies inside the 95 % interval with noise; a placebo's interval holds
zero; a pre-trend is flagged; the textbook 2 × 2 case is worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.experiments.did import estimate

START = dt.date(2024, 7, 1)
MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)]


def _panel(effect: float, *, noise: float = 0.0, drift: float = 0.0, treated: int = 3, control: int = 6, seed=1):
    """Each unit has its own level, every month a common shock; treated units gain `effect` from START
    and drift by `drift` a month throughout."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 2, len(MONTHS))
    rows = []
    for u in range(treated + control):
        is_treated = u < treated
        level = 50 + 3 * u
        for i, month in enumerate(MONTHS):
            value = level + common[i] + rng.normal(0, noise) if noise else level + common[i]
            if is_treated:
                value += drift * i + (effect if month >= START else 0.0)
            rows.append((f"U{u:02d}", month, value, is_treated))
    return pl.DataFrame(rows, schema=["unit", "period", "value", "treated"], orient="row")


def test_the_textbook_two_by_two():
    """One treated, one control, one month each side: (12 − 10) − (7 − 6) = 1."""
    panel = pl.DataFrame(
        {
            "unit": ["T", "T", "C", "C"],
            "period": [dt.date(2024, 6, 1), START] * 2,
            "value": [10.0, 12.0, 6.0, 7.0],
            "treated": [True, True, False, False],
        }
    )
    got = estimate(panel, START)
    assert got.effect == pytest.approx(1.0, abs=1e-12)
    assert (got.treated.before, got.treated.after, got.control.before, got.control.after) == (10, 12, 6, 7)


def test_a_planted_effect_is_recovered_exactly_without_noise():
    got = estimate(_panel(-4.0), START)
    assert got.effect == pytest.approx(-4.0, abs=1e-9)
    assert got.low == pytest.approx(-4.0, abs=1e-9) and got.high == pytest.approx(-4.0, abs=1e-9)
    assert not got.pre_trend.failed
    assert got.units == 9 and got.observations == 9 * 12
    # the means: treated levels 50, 53, 56 (mean 53) plus the common shock; the difference of differences
    shift = (got.treated.after - got.treated.before) - (got.control.after - got.control.before)
    assert shift == pytest.approx(-4.0, abs=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_planted_effect_lies_inside_the_interval_with_noise(seed):
    got = estimate(_panel(-4.0, noise=1.0, seed=seed), START)
    assert got.low < -4.0 < got.high
    assert got.high < 0  # and the effect is told apart from zero
    assert got.std_error > 0


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_placebos_interval_contains_zero(seed):
    got = estimate(_panel(0.0, noise=1.0, seed=seed), START)
    assert got.low < 0 < got.high  # (the pre-trend check, a 5 % test, may fail on one panel in twenty)


def test_a_pre_trend_fails_the_check():
    got = estimate(_panel(0.0, noise=0.2, drift=1.0), START)
    assert got.pre_trend.failed
    assert got.pre_trend.p_value is not None and got.pre_trend.p_value < 0.05
    assert got.pre_trend.slope == pytest.approx(1.0, abs=0.2)
    assert got.pre_trend.months == 6


def test_a_group_without_months_after_the_start_is_a_user_error():
    panel = _panel(1.0).filter(pl.col("period") < START)
    with pytest.raises(UserError, match="no month after"):
        estimate(panel, START)


@pytest.mark.parametrize(
    ("treated", "control", "errors"),
    [(1, 4, "heteroskedasticity-robust"), (2, 4, "the larger of"), (5, 6, "cluster-robust by unit")],
)
def test_the_errors_follow_the_units_of_the_smaller_group(treated, control, errors):
    got = estimate(_panel(-4.0, noise=1.0, treated=treated, control=control, seed=21), START)
    assert got.errors.startswith(errors)
    assert got.low < -4.0 < got.high and got.std_error > 0
