"""Forecasting on Spark (docs/forecasting.md "On Spark"): the same engine, the series fitted as Spark tasks.

`forecast_on_spark(series, config)` is `forecast_series` with its fitting step run by Spark: the histories
go to the process's local SparkSession (`runs/spark.py`), partitioned by series, and each task fits its
series with the engine's own `fit_chunk` through fugue's `transform` (statsforecast's distributed backend
is fugue too). The fits come back to the driver, which does what needs every series at once — the
calibration of the intervals — and assembles the rows exactly as the local run does. So a forecast made on
Spark is the same numbers as one made on one machine; only where the fitting runs changes."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from ..errors import UserError
from ..forecast import ForecastConfig, ForecastResult, forecast_series
from ..forecast.auto import SeriesFit
from ..forecast.engine import fit_chunk
from .spark import INSTALL_HINT, require_spark, spark_session

# one row per series: its position in the driver's list, and its fit (pickled) — fugue's schema expression
FIT_SCHEMA = "position:long,fit:binary"


def _require_fugue() -> None:
    try:
        import fugue  # noqa: F401
        import fugue_spark  # noqa: F401
    except ImportError as exc:
        raise UserError(f"forecasting on Spark needs fugue ({exc.name} is missing); {INSTALL_HINT}") from exc


def fit_on_spark(
    histories: list[tuple[str, np.ndarray]], config: ForecastConfig, models: tuple[str, ...]
) -> list[SeriesFit]:
    """The engine's fits of every history, made by Spark tasks, in the order of `histories`."""
    require_spark()
    _require_fugue()
    from fugue import transform

    session = spark_session()
    frame = pd.DataFrame({"position": range(len(histories)), "y": [y.tolist() for _, y in histories]})
    spark_frame = session.createDataFrame(frame, "position long, y array<double>")
    args = (config.horizon, config.level, config.season, models)

    def fit_part(part: pd.DataFrame) -> pd.DataFrame:
        ys = [np.asarray(y, dtype=float) for y in part["y"]]
        fits = fit_chunk(ys, *args)
        return pd.DataFrame({"position": part["position"].to_numpy(), "fit": [pickle.dumps(f) for f in fits]})

    rows = transform(
        spark_frame, fit_part, schema=FIT_SCHEMA, partition={"by": ["position"]}, engine=session, as_local=True
    )
    rows = pd.DataFrame(rows).sort_values("position")
    if len(rows) != len(histories):
        raise RuntimeError(f"Spark returned {len(rows)} fits for {len(histories)} series")
    return [pickle.loads(blob) for blob in rows["fit"]]  # noqa: S301 - our own tasks' output, this run


def forecast_on_spark(series: pd.DataFrame, config: ForecastConfig) -> ForecastResult:
    """`forecast_series(series, config)`, with the series fitted by Spark tasks."""
    return forecast_series(series, config, fitter=fit_on_spark)
