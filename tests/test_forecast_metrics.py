"""sMAPE (as the M3 competition defines it), MASE, coverage, WAPE and bias on numbers worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from opsfin.forecast.metrics import bias, coverage, mase, smape, wape


def _actuals() -> pd.DataFrame:
    # series a: y 100, 50 forecast 110, 50; series b: y 10 forecast 0
    return pd.DataFrame(
        {
            "unique_id": ["a", "a", "b"],
            "ds": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-01-01"]),
            "y": [100.0, 50.0, 10.0],
            "yhat": [110.0, 50.0, 0.0],
            "lo": [90.0, 55.0, -1.0],
            "hi": [120.0, 60.0, 10.0],
        }
    )


def test_smape_is_the_m3_definition_averaged_per_series():
    # a: (200·10/210 + 0)/2 = 4.76190; b: 200·10/10 = 200; mean over series (4.76190 + 200)/2
    assert smape(_actuals()) == pytest.approx((200 * 10 / 210 / 2 + 200) / 2)


def test_smape_of_a_perfect_forecast_is_zero():
    frame = _actuals().assign(yhat=lambda f: f["y"])
    assert smape(frame) == 0.0


def test_mase_scales_by_in_sample_seasonal_naive_error():
    history = pd.DataFrame(
        {
            "unique_id": ["a"] * 3 + ["b"] * 3,
            "ds": pd.to_datetime(["2019-10-01", "2019-11-01", "2019-12-01"] * 2),
            "y": [1.0, 3.0, 7.0, 2.0, 2.0, 4.0],
        }
    )
    # a: MAE (10 + 0)/2 = 5 over naive MAE (2 + 4)/2 = 3 → 5/3; b: MAE 10 over (0 + 2)/2 = 1 → 10
    assert mase(_actuals(), history, season=1) == pytest.approx((5 / 3 + 10) / 2)
    # with season 2 the naive errors are |7 − 1| = 6 and |4 − 2| = 2: (5/6 + 10/2)/2
    assert mase(_actuals(), history, season=2) == pytest.approx((5 / 6 + 5) / 2)


def test_coverage_counts_actuals_inside_the_interval_bounds_included():
    # 100 in 90..120 yes; 50 in 55..60 no; 10 in -1..10 yes (bound included)
    assert coverage(_actuals()) == pytest.approx(2 / 3)


def test_wape_and_bias():
    # |errors| 10 + 0 + 10 = 20 over Σ|y| 160; signed errors +10 + 0 − 10 = 0
    assert wape(_actuals()) == pytest.approx(100 * 20 / 160)
    assert bias(_actuals()) == pytest.approx(0.0)
    assert bias(_actuals().assign(yhat=[110.0, 60.0, 10.0])) == pytest.approx(100 * 20 / 160)
