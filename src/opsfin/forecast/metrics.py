"""Accuracy of forecasts against actuals, on utilsforecast's losses where it has them.

`smape` is the M3 competition's: the mean of 200·|y − ŷ| / (|y| + |ŷ|), in percent (utilsforecast's
`smape` is the same mean without the factor 200). `mase` scales the mean absolute error by the
in-sample mean absolute error of the seasonal naive forecast (Hyndman & Koehler 2006). Both are
averaged per series, then over series. `coverage` is the share of actuals inside lo..hi."""

from __future__ import annotations

import os

import pandas as pd

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")


def smape(actuals: pd.DataFrame, forecast_column: str = "yhat") -> float:
    """Mean over series of the series' sMAPE, in percent (0..200); `actuals` has unique_id, y and the
    forecast column."""
    from utilsforecast.losses import smape as utils_smape

    per_series = utils_smape(actuals, models=[forecast_column])
    return float(200 * per_series[forecast_column].mean())


def mase(actuals: pd.DataFrame, history: pd.DataFrame, season: int, forecast_column: str = "yhat") -> float:
    """Mean over series of the MAE of the forecast over the in-sample MAE of the seasonal naive
    forecast (`history`: unique_id, ds, y, sorted by date)."""
    from utilsforecast.losses import mase as utils_mase

    per_series = utils_mase(actuals, models=[forecast_column], seasonality=season, train_df=history)
    return float(per_series[forecast_column].mean())


def coverage(actuals: pd.DataFrame, lo: str = "lo", hi: str = "hi") -> float:
    """The share (0..1) of actuals y with lo <= y <= hi."""
    inside = (actuals["y"] >= actuals[lo]) & (actuals["y"] <= actuals[hi])
    return float(inside.mean())


def wape(actuals: pd.DataFrame, forecast_column: str = "yhat") -> float:
    """Σ|y − ŷ| / Σ|y| over all rows, in percent."""
    return float(100 * (actuals["y"] - actuals[forecast_column]).abs().sum() / actuals["y"].abs().sum())


def bias(actuals: pd.DataFrame, forecast_column: str = "yhat") -> float:
    """Σ(ŷ − y) / Σ|y| over all rows, in percent: positive when the forecast is too high."""
    return float(100 * (actuals[forecast_column] - actuals["y"]).sum() / actuals["y"].abs().sum())
