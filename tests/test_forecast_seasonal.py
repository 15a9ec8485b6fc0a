"""The season of auto's theta members (forecast/seasonal.py): the test on the detrended series, the
shrunk indices and the adjusted model, on series whose answers are worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from opsfin.forecast.auto import _member_model, plan_series
from opsfin.forecast.models import build_model
from opsfin.forecast.seasonal import SeasonallyAdjusted, seasonal_indices, shrunk_indices

QUARTERS = np.array([0.8, 1.2, 0.9, 1.1])  # mean 1


def test_a_pure_season_of_ten_years_gives_its_own_indices():
    # level 100: every 2×4 moving average is 100·(0.5·Sₚ + S₀..S₃ without p + 0.5·Sₚ)/4 = 100, so the ratios to
    # the trend are the indices themselves, the same every year: no variance, nothing shrunk. On the 36
    # ratios the autocorrelations at lags 1..4 are −0.878, 0.756, −0.822, 0.889; the bound
    # √((1 + 2·(0.771 + 0.571 + 0.676)) / 36) = 0.374, and 0.889 / 0.374 = 2.38 > 1.645: a season
    y = 100 * np.resize(QUARTERS, 40)
    assert seasonal_indices(y, 4) == pytest.approx(QUARTERS)


def test_four_years_are_too_few_for_either_test_to_see_a_season():
    # on the 12 ratios: autocorrelations −0.833, 0.667, −0.667, 0.667; bound
    # √((1 + 2·(0.694 + 0.444 + 0.444)) / 12) = 0.589, and 0.667 / 0.589 = 1.13 < 1.645; on the 16 values
    # themselves: −0.85, 0.70, −0.725, 0.75; bound √((1 + 2·(0.7225 + 0.49 + 0.5256)) / 16) = 0.529, and
    # 0.75 / 0.529 = 1.42 < 1.645
    assert seasonal_indices(100 * np.resize(QUARTERS, 16), 4) is None


def test_noisy_indices_are_shrunk_towards_one():
    # means 0.8, 1.2, 0.9, 1.1 (average 1); estimate variances 0.02/2, 0.02/2, 0, 0 → pooled 0.005;
    # spread 0.04 + 0.04 + 0.01 + 0.01 = 0.10; keep 1 − (4 − 3)·0.005 / 0.10 = 0.95
    by_position = [np.array([0.7, 0.9]), np.array([1.1, 1.3]), np.array([0.9, 0.9]), np.array([1.1, 1.1])]
    assert shrunk_indices(by_position) == pytest.approx([0.81, 1.19, 0.905, 1.095])
    # the same means, estimate variances 0.72/2, 0.72/2, 0, 0 → pooled 0.18 > spread 0.10: keep max(0, −0.8) = 0
    wide = [np.array([0.2, 1.4]), np.array([0.6, 1.8]), np.array([0.9, 0.9]), np.array([1.1, 1.1])]
    assert shrunk_indices(wide) == pytest.approx([1.0, 1.0, 1.0, 1.0])


def test_the_model_forecasts_the_adjusted_series_and_multiplies_the_season_back():
    # divided by its indices the series is 100 throughout; the last value, 100, times the indices of
    # quarters 41..44 (positions 0..3)
    model = SeasonallyAdjusted(lambda season: build_model("Naive", season), 4).fit(100 * np.resize(QUARTERS, 40))
    assert model.predict(4)["mean"] == pytest.approx([80.0, 120.0, 90.0, 110.0])


class _Band:
    """A stand-in model: forecast 10 within 9..11 at every step, whatever it was fitted on."""

    def fit(self, y):
        return self

    def predict(self, h, level=None):
        return {"mean": np.full(h, 10.0), "lo-80": np.full(h, 9.0), "hi-80": np.full(h, 11.0)}


def test_the_interval_is_multiplied_back_too():
    model = SeasonallyAdjusted(lambda season: _Band(), 4).fit(100 * np.resize(QUARTERS, 42))
    out = model.predict(2, level=[80])
    # quarters 43 and 44 are positions 2 and 3: indices 0.9 and 1.1
    assert out["mean"] == pytest.approx([9.0, 11.0])
    assert out["lo-80"] == pytest.approx([8.1, 9.9])
    assert out["hi-80"] == pytest.approx([9.9, 12.1])


def test_a_series_with_a_zero_keeps_the_models_own_season():
    # no multiplicative index for a zero: SeasonalNaive keeps its season of 4 and repeats the last year
    y = np.array([0.0, 5.0, 10.0, 5.0] * 3)
    assert seasonal_indices(y, 4) is None
    model = SeasonallyAdjusted(lambda season: build_model("SeasonalNaive", season), 4).fit(y)
    assert model.predict(4)["mean"].tolist() == [0.0, 5.0, 10.0, 5.0]


def test_only_autos_theta_members_are_adjusted():
    y = 100 * np.resize(QUARTERS, 40)
    auto = plan_series(y, 8, 4, ("auto",))
    assert isinstance(_member_model("DynamicTheta", auto), SeasonallyAdjusted)
    assert isinstance(_member_model("DynamicOptimizedTheta", auto), SeasonallyAdjusted)
    assert not isinstance(_member_model("AutoETS", auto), SeasonallyAdjusted)
    named = plan_series(y, 8, 4, ("DynamicTheta",))
    assert not isinstance(_member_model("DynamicTheta", named), SeasonallyAdjusted)


def test_the_season_under_a_steep_trend_is_found_on_the_detrended_series():
    # (1 + 10t)·Sₜ over six years: the trend makes every autocorrelation of the values high, so their own
    # test sees no season; divided by the moving average the values are close to the indices again
    t = np.arange(24)
    y = (1 + 10 * t) * np.resize(QUARTERS, 24)
    assert seasonal_indices(y, 4) == pytest.approx(QUARTERS, abs=0.01)
