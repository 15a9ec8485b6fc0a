"""The forecasting engine: long-format series in (`unique_id, ds, y`), forecasts out
(`unique_id, ds, model, yhat, lo, hi`), on statsforecast. Pure: it reads no file and no warehouse;
the I/O layer (`runs/forecast.py`) reads series and stores versions. See docs/forecasting.md."""

from .config import FREQUENCIES, ForecastConfig
from .engine import FORECAST_COLUMNS, ForecastResult, forecast_series

__all__ = ["FORECAST_COLUMNS", "FREQUENCIES", "ForecastConfig", "ForecastResult", "forecast_series"]
