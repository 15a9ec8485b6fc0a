"""The forecasting engine on series whose forecasts are known by hand: a constant, a pure season,
intermittent demand, series too short for their season; the API's errors, intervals and shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opsfin.errors import UserError
from opsfin.forecast import FORECAST_COLUMNS, ForecastConfig, forecast_series
from opsfin.forecast.engine import future_dates
from opsfin.forecast.patterns import demand_pattern

SEASON = [10.0, 12.0, 15.0, 20.0, 26.0, 30.0, 31.0, 28.0, 22.0, 17.0, 13.0, 11.0]


def _frame(**series: list[float]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2020-01-01", periods=len(y), freq="MS"), "y": y})
            for uid, y in series.items()
        ],
        ignore_index=True,
    )


def test_a_constant_series_forecasts_the_constant():
    result = forecast_series(_frame(flat=[7.0] * 30), ForecastConfig(horizon=4))
    assert result.forecasts["yhat"].tolist() == [7.0] * 4
    assert result.choices.loc[0, "reason"].startswith("constant series")


def test_a_pure_season_repeats_with_seasonal_naive():
    result = forecast_series(_frame(s=SEASON * 3), ForecastConfig(horizon=14, models=("SeasonalNaive",)))
    assert result.forecasts["yhat"].tolist() == SEASON + SEASON[:2]
    assert set(result.forecasts["model"]) == {"SeasonalNaive"}


def test_auto_follows_a_pure_season_closely():
    noise = np.random.default_rng(3).normal(0, 0.2, 48)
    result = forecast_series(_frame(s=list(np.array(SEASON * 4) + noise)), ForecastConfig(horizon=12))
    assert np.abs(result.forecasts["yhat"].to_numpy() - SEASON).max() < 1.5
    assert result.forecasts["model"].iloc[0].startswith("auto(") or result.forecasts["model"].iloc[0] in (
        "AutoETS",
        "DynamicOptimizedTheta",
        "AutoCES",
    )


def test_demand_patterns_by_adi_and_cv2():
    # one demand of 5 every 3 periods: ADI 12/4 = 3, sizes all 5 → CV² 0 → intermittent
    pattern = demand_pattern(np.array([0, 0, 5] * 4, dtype=float))
    assert (pattern.pattern, pattern.adi, pattern.cv2) == ("intermittent", 3.0, 0.0)
    # sizes 1 and 9 every other period: ADI 2, mean 5, variance 16 → CV² 0.64 → lumpy
    lumpy = demand_pattern(np.array([0, 1, 0, 9] * 3, dtype=float))
    assert (lumpy.pattern, lumpy.adi, lumpy.cv2) == ("lumpy", 2.0, pytest.approx(0.64))
    # demand every period, sizes 4 and 6: ADI 1, CV² 1/25 → smooth; sizes 1 and 9: CV² 0.64 → erratic
    assert demand_pattern(np.array([4, 6] * 6, dtype=float)).pattern == "smooth"
    assert demand_pattern(np.array([1, 9] * 6, dtype=float)).pattern == "erratic"
    # ADI 1.32 is the cut-off: 33 periods with 25 demands → ADI 1.32 → intermittent
    edge = np.array([0] * 8 + [5] * 25, dtype=float)
    assert demand_pattern(edge).adi == pytest.approx(1.32)
    assert demand_pattern(edge).pattern == "intermittent"


def test_intermittent_series_get_intermittent_models():
    result = forecast_series(_frame(parts=[0.0, 0.0, 5.0] * 10), ForecastConfig(horizon=3))
    choice = result.choices.iloc[0]
    assert choice["pattern"] == "intermittent"
    assert "CrostonOptimized" in choice["model"]
    # every member forecasts a demand rate near 5 every third period: 5/3
    assert result.forecasts["yhat"].to_numpy() == pytest.approx([5 / 3] * 3, abs=0.4)


def test_a_series_too_short_for_its_season_falls_back_with_a_reason():
    result = forecast_series(_frame(short=[3.0, 4.0, 5.0, 4.0, 6.0]), ForecastConfig(horizon=3, season_length=12))
    assert result.choices.loc[0, "model"] == "Naive"
    assert "fewer than 8 observations" in result.choices.loc[0, "reason"]
    assert result.forecasts["yhat"].tolist() == [6.0] * 3


def test_a_series_shorter_than_two_seasons_uses_models_without_a_season():
    y = [float(v) for v in range(10, 28)]  # 18 months: a season of 12 needs 24
    result = forecast_series(_frame(mid=y), ForecastConfig(horizon=2))
    assert "models without a season" in result.choices.loc[0, "reason"]
    # a straight line: the non-seasonal models continue it upward from 27
    assert (result.forecasts["yhat"] > 26.0).all()


def test_an_unknown_model_is_a_user_error_naming_it():
    with pytest.raises(UserError) as caught:
        ForecastConfig(horizon=3, models=("AutoETS", "Prophet"))
    assert caught.value.param == "models"
    assert "'Prophet'" in str(caught.value)
    assert "AutoETS" in str(caught.value)


def test_model_names_are_case_insensitive():
    result = forecast_series(_frame(s=SEASON * 3), ForecastConfig(horizon=2, models=("seasonalnaive",)))
    assert result.forecasts["model"].tolist() == ["SeasonalNaive"] * 2


def test_wider_level_wider_interval():
    y = list(np.array(SEASON * 3) + np.random.default_rng(5).normal(0, 2, 36))
    narrow = forecast_series(_frame(s=y), ForecastConfig(horizon=6, level=50, models=("AutoETS",))).forecasts
    wide = forecast_series(_frame(s=y), ForecastConfig(horizon=6, level=95, models=("AutoETS",))).forecasts
    assert ((wide["hi"] - wide["lo"]) > (narrow["hi"] - narrow["lo"])).all()
    assert ((narrow["lo"] <= narrow["yhat"]) & (narrow["yhat"] <= narrow["hi"])).all()


def test_columns_rows_dates_and_determinism():
    rng = np.random.default_rng(11)
    frame = _frame(a=list(rng.normal(50, 5, 30)), b=list(rng.normal(20, 2, 40)), c=[1.0, 2.0, 3.0])
    config = ForecastConfig(horizon=5)
    first = forecast_series(frame, config)
    assert tuple(first.forecasts.columns) == FORECAST_COLUMNS
    assert len(first.forecasts) == 3 * 5
    assert first.choices["n_obs"].tolist() == [30, 40, 3]
    # a's 30 months start 2020-01: the forecast starts 2022-07
    a_dates = first.forecasts.loc[first.forecasts["unique_id"] == "a", "ds"]
    assert a_dates.iloc[0] == pd.Timestamp("2022-07-01")
    pd.testing.assert_frame_equal(first.forecasts, forecast_series(frame.iloc[::-1], config).forecasts)


def test_nonnegative_clips_at_zero():
    falling = [float(v) for v in range(40, 4, -3)]  # 12 points falling 3 a month to 7
    plain = forecast_series(_frame(f=falling), ForecastConfig(horizon=6, models=("RandomWalkWithDrift",)))
    clipped = forecast_series(
        _frame(f=falling), ForecastConfig(horizon=6, models=("RandomWalkWithDrift",), nonnegative=True)
    )
    # drift −3 a month from 7: 4, 1, −2, −5, −8, −11
    assert plain.forecasts["yhat"].tolist() == pytest.approx([4, 1, -2, -5, -8, -11])
    assert clipped.forecasts["yhat"].tolist() == pytest.approx([4, 1, 0, 0, 0, 0])
    assert (clipped.forecasts["lo"] >= 0).all()


def test_future_dates_by_frequency():
    assert list(future_dates(pd.Timestamp("2024-11-01"), "MS", 3)) == list(
        pd.to_datetime(["2024-12-01", "2025-01-01", "2025-02-01"])
    )
    assert list(future_dates(pd.Timestamp("2024-10-01"), "QS", 2)) == list(pd.to_datetime(["2025-01-01", "2025-04-01"]))
    assert list(future_dates(pd.Timestamp("2024-01-01"), "W", 2)) == list(pd.to_datetime(["2024-01-08", "2024-01-15"]))


def test_missing_column_is_a_user_error():
    with pytest.raises(UserError, match="no column y"):
        forecast_series(pd.DataFrame({"unique_id": ["a"], "ds": ["2020-01-01"]}), ForecastConfig(horizon=2))


def test_worker_processes_give_the_same_forecasts():
    rng = np.random.default_rng(2)
    frame = _frame(**{f"s{i}": list(np.array(SEASON * 2) + rng.normal(0, 1, 24)) for i in range(4)})
    one = forecast_series(frame, ForecastConfig(horizon=3, models=("Theta",), n_jobs=1))
    two = forecast_series(frame, ForecastConfig(horizon=3, models=("Theta",), n_jobs=2))
    pd.testing.assert_frame_equal(one.forecasts, two.forecasts)
    assert len(one.forecasts) == 4 * 3


def _fit_with_holdout(members: tuple[str, ...], held_means: list[float]):
    """A validated fit whose members forecast the constants `held_means` on a held-out window of 10s."""
    from opsfin.forecast.auto import SeriesFit, SeriesPlan

    flat = {
        name: (np.full(2, mean), np.full(2, mean - 1), np.full(2, mean + 1))
        for name, mean in zip(members, held_means, strict=True)
    }
    plan = SeriesPlan(members, 1, demand_pattern(np.ones(10)), "", True, True)
    return SeriesFit(plan, final=dict(flat), validation=dict(flat), holdout=np.full(2, 10.0))


def test_smooth_members_are_all_kept_and_intermittent_members_are_left_out_on_validation():
    from opsfin.forecast.auto import choose
    from opsfin.forecast.models import AUTO_INTERMITTENT_MEMBERS, AUTO_MEMBERS

    # held-out errors 1, 1, 1, 5 against actuals of 10: 5 > 2 × 1
    smooth = _fit_with_holdout(AUTO_MEMBERS, [11.0, 9.0, 11.0, 15.0])
    assert choose(smooth) == (AUTO_MEMBERS, "")
    intermittent = _fit_with_holdout(AUTO_INTERMITTENT_MEMBERS, [11.0, 9.0, 11.0, 15.0])
    assert choose(intermittent) == (AUTO_INTERMITTENT_MEMBERS[:3], "left out on validation: TSB")


def test_the_median_of_four_members_is_the_mean_of_the_middle_two():
    from opsfin.forecast.auto import combine

    bands = {name: (np.array([mean]), np.array([mean - gap]), np.array([mean + gap]))
             for name, mean, gap in (("a", 1.0, 1.0), ("b", 4.0, 2.0), ("c", 6.0, 4.0), ("d", 100.0, 8.0))}  # fmt: skip
    mean, lo, hi = combine(bands)
    # means 1, 4, 6, 100 → (4 + 6) / 2 = 5; distances 1, 2, 4, 8 → (2 + 4) / 2 = 3
    assert (mean[0], lo[0], hi[0]) == (5.0, 2.0, 8.0)


def test_autoces_is_a_member_fitted_on_the_full_history_only():
    from opsfin.forecast.auto import fit_members, plan_series

    y = np.array(SEASON * 4) + np.random.default_rng(5).normal(0, 0.2, 48)
    fit = fit_members(y, 6, 80, plan_series(y, 6, 12, ("auto",)))
    assert set(fit.final) == {"AutoETS", "DynamicOptimizedTheta", "DynamicTheta", "AutoCES"}
    assert set(fit.validation) == {"AutoETS", "DynamicOptimizedTheta", "DynamicTheta"}
    assert fit.holdout.tolist() == y[-6:].tolist()  # validated all the same: the intervals are calibrated on it


def test_the_interval_is_the_median_distance_of_the_members_that_have_one():
    from opsfin.forecast.auto import combine

    nan = np.array([np.nan])
    bands = {name: (np.array([mean]), np.array([mean - gap]), np.array([mean + gap]))
             for name, mean, gap in (("a", 1.0, 1.0), ("b", 4.0, 2.0), ("c", 6.0, 4.0))}  # fmt: skip
    bands["d"] = (np.array([100.0]), nan, nan)
    mean, lo, hi = combine(bands)
    # means 1, 4, 6, 100 → (4 + 6) / 2 = 5; distances of a, b, c only: 1, 2, 4 → 2
    assert (mean[0], lo[0], hi[0]) == (5.0, 3.0, 7.0)
    alone_mean, alone_lo, alone_hi = combine({"d": bands["d"]})
    assert alone_mean[0] == 100.0 and np.isnan(alone_lo[0]) and np.isnan(alone_hi[0])


def test_autoces_gives_auto_its_forecast_but_no_interval():
    from opsfin.forecast.auto import fit_members, plan_series

    y = np.array(SEASON * 4) + np.random.default_rng(5).normal(0, 0.2, 48)
    fit = fit_members(y, 6, 80, plan_series(y, 6, 12, ("auto",)))
    mean, lo, hi = fit.final["AutoCES"]
    assert np.isfinite(mean).all() and np.isnan(lo).all() and np.isnan(hi).all()
    assert all(np.isfinite(fit.final[name][1]).all() for name in ("AutoETS", "DynamicTheta"))
    named = fit_members(y, 6, 80, plan_series(y, 6, 12, ("AutoCES",)))
    assert np.isfinite(named.final["AutoCES"][1]).all()  # named on its own, it keeps its interval
