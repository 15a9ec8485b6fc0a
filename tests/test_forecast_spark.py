"""Forecasting on Spark (runs/forecast_spark.py) gives the same forecasts as the local run.

Needs the `spark` extra (pyspark, fugue) and Java 17; without them it skips, except under
OPSFIN_REQUIRE_ALL=1 (CI), where it fails."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest

from opsfin.errors import UserError
from opsfin.forecast import ForecastConfig, forecast_series
from services import missing


def tiny_series() -> pd.DataFrame:
    """Ten seasonal monthly series of 36 months, one flat, and one of 8 months (too short for a season).
    Ten validated series × 4 held-out months are enough (≥ 30) for the intervals' pooled calibration, the
    one step that needs every series at once."""
    ds = pd.date_range("2021-01-01", periods=36, freq="MS")
    rng = np.random.default_rng(3)
    season = np.sin(np.arange(36) * 2 * np.pi / 12)
    frames = [
        pd.DataFrame({"unique_id": f"seasonal-{i}", "ds": ds, "y": 100 + 15 * season + rng.normal(0, 2, 36)})
        for i in range(10)
    ]
    frames.append(pd.DataFrame({"unique_id": "flat", "ds": ds, "y": np.full(36, 40.0)}))
    frames.append(pd.DataFrame({"unique_id": "short", "ds": ds[:8], "y": np.arange(1.0, 9.0)}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def spark_forecast():
    from opsfin.runs.spark import require_spark

    try:
        require_spark()
        import fugue_spark  # noqa: F401
    except (UserError, ImportError) as exc:
        missing(f"forecasting on Spark needs pyspark, fugue and Java: {exc}")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from opsfin.runs.forecast_spark import forecast_on_spark

    return forecast_on_spark


def test_spark_forecasts_equal_the_local_run(spark_forecast):
    series = tiny_series()
    config = ForecastConfig(horizon=4, freq="MS", level=80)
    local = forecast_series(series, config)
    spark = spark_forecast(series, config)
    assert len(spark.forecasts) == 12 * 4
    pd.testing.assert_frame_equal(
        local.forecasts.sort_values(["unique_id", "ds"], ignore_index=True),
        spark.forecasts,
        check_dtype=False,
        rtol=1e-9,
    )
    pd.testing.assert_frame_equal(local.choices, spark.choices, check_dtype=False)
    chosen = spark.choices.set_index("unique_id")
    assert chosen.loc["short", "reason"], "the short series states why it got a simpler model"
    # the flat series is forecast flat at its level, on Spark as on one machine
    flat = spark.forecasts[spark.forecasts["unique_id"] == "flat"]
    assert np.allclose(flat["yhat"], 40.0)


def test_forecast_series_engine_spark_writes_the_local_csv(spark_forecast, tmp_path, capsys):
    from cli_support import run_cli

    path = tmp_path / "series.csv"
    tiny_series().assign(ds=lambda f: f["ds"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    code, local, err = run_cli(capsys, "forecast", "series", str(path), "--horizon", "3", "--format", "csv")
    assert code == 0, err
    code, spark, err = run_cli(
        capsys, "forecast", "series", str(path), "--horizon", "3", "--format", "csv", "--engine", "spark"
    )
    assert code == 0, err
    assert spark.splitlines()[0] == "unique_id,ds,model,yhat,lo,hi"
    assert len(spark.splitlines()) == 1 + 12 * 3
    local_rows = pd.read_csv(io.StringIO(local))
    spark_rows = pd.read_csv(io.StringIO(spark))
    pd.testing.assert_frame_equal(local_rows, spark_rows, rtol=1e-9)


def test_an_unknown_engine_is_a_clear_error(tmp_path, capsys):
    from cli_support import run_cli

    path = tmp_path / "series.csv"
    tiny_series().to_csv(path, index=False)
    code, out, err = run_cli(capsys, "forecast", "series", str(path), "--horizon", "3", "--engine", "dask")
    assert code == 2
    assert "--engine 'dask'" in err + out and "spark" in err + out
