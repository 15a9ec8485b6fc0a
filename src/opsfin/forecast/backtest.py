"""Rolling-origin backtests of the demand forecast on the warehouse's own history, stored nowhere
(docs/forecasting.md "Accuracy and backtests").

For each origin (an as-of month that leaves `horizon` months of actuals after it) the history up to the
origin is forecast exactly as `opsfin forecast demand` does (every level, reconciled), and measured
against the months that followed with `accuracy.py`; the measures are then averaged over the origins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from .accuracy import MEASURES, forecast_points, naive_for_versions, summarize
from .config import ForecastConfig
from .demand import MIN_HISTORY_MONTHS, reconciled_forecast

BACKTEST_COLUMNS = ("level", "months_ahead", "origins", "points", *MEASURES)

# (bottom history, families) -> forecasts at every level: level, key, ds, p10, p50, p90
LevelForecaster = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]


@dataclass
class BacktestResult:
    """`summary`: BACKTEST_COLUMNS, the measures per level and months ahead averaged over the origins
    (months_ahead missing: every month ahead). `by_origin`: the accuracy rows of each origin (the origin's
    month as version and as_of). `origins`: the as-of months used. `notes`: what the reader should know."""

    summary: pd.DataFrame
    by_origin: pd.DataFrame
    origins: list[dt.date]
    notes: list[str] = field(default_factory=list)
    forecasts: pd.DataFrame | None = None  # every origin's forecasts: version, as_of, level, key, ds, p10, p50, p90
    points: pd.DataFrame | None = None  # accuracy.POINT_COLUMNS, the points measured


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def backtest_origins(first: dt.date, last: dt.date, origins: int, horizon: int) -> tuple[list[dt.date], list[str]]:
    """The last `origins` as-of months, oldest first, that leave `horizon` months of actuals up to `last`
    and have MIN_HISTORY_MONTHS months of history from `first` (both months' first days); fewer when the
    history is short, with a note saying so."""
    latest = _add_months(last, -horizon)
    earliest = _add_months(first, MIN_HISTORY_MONTHS - 1)
    chosen: list[dt.date] = []
    month = latest
    while len(chosen) < origins and month >= earliest:
        chosen.append(month)
        month = _add_months(month, -1)
    chosen.reverse()
    notes = []
    if len(chosen) < origins:
        months = f"{horizon} month{'s' if horizon != 1 else ''}"
        notes.append(
            f"{len(chosen)} origin{'s' if len(chosen) != 1 else ''} instead of {origins}: with shipments from "
            f"{first:%Y-%m} to {last:%Y-%m}, only {len(chosen)} as-of month{'s' if len(chosen) != 1 else ''} "
            f"{'have' if len(chosen) != 1 else 'has'} {MIN_HISTORY_MONTHS} months of history up to it and {months} "
            "of actuals after"
        )
    return chosen, notes


def demand_forecaster(horizon: int, models: tuple[str, ...] = ("auto",), level: int = 80) -> LevelForecaster:
    """The forecast `opsfin forecast demand` makes from a history: every member's own series forecast,
    then reconciled over the hierarchy (demand.py, hierarchy.py)."""
    config = ForecastConfig(horizon=horizon, freq="MS", level=level, models=models)

    def forecast_levels(history: pd.DataFrame, families: pd.DataFrame) -> pd.DataFrame:
        return reconciled_forecast(history, families, config)[0].values

    return forecast_levels


def backtest(
    bottom: pd.DataFrame,
    families: pd.DataFrame,
    actuals: pd.DataFrame,
    origins: list[dt.date],
    forecast_levels: LevelForecaster,
    season: int = 12,
) -> BacktestResult:
    """Measure `forecast_levels` from each origin. `bottom`: product_id, site_id, ds, y (every arrived month);
    `families`: product_id, family; `actuals`: level, key, ds, y (the same history at every level)."""
    ds = pd.to_datetime(bottom["ds"])
    parts = []
    for origin in origins:
        history = bottom[ds <= pd.Timestamp(origin)]
        made = forecast_levels(history, families)
        parts.append(made.assign(version=f"{origin:%Y-%m}", as_of=pd.Timestamp(origin)))
    if not parts:
        empty = pd.DataFrame(columns=list(BACKTEST_COLUMNS))
        return BacktestResult(empty, empty, [], ["no origin: the history is too short for this horizon"])
    forecasts = pd.concat(parts, ignore_index=True)
    points = forecast_points(forecasts, actuals, naive_for_versions(forecasts, actuals, season), season)
    by_origin = summarize(points)
    return BacktestResult(average_over_origins(by_origin), by_origin, list(origins), [], forecasts, points)


def average_over_origins(by_origin: pd.DataFrame) -> pd.DataFrame:
    """BACKTEST_COLUMNS: each measure's plain mean over the origins (NaN ones left out), per level and months
    ahead; `origins` counts the origins measured, `points` adds their points."""
    rows = []
    keys = by_origin.assign(_ahead=by_origin["months_ahead"].fillna(-1))
    for (level, ahead), group in keys.groupby(["level", "_ahead"], sort=False):
        means = {m: float(group[m].astype(float).mean()) for m in MEASURES}
        rows.append(
            {
                "level": level,
                "months_ahead": None if ahead == -1 else int(ahead),
                "origins": int(group["version"].nunique()),
                "points": int(group["points"].sum()),
            }
            | means
        )
    out = pd.DataFrame(rows, columns=list(BACKTEST_COLUMNS))
    out["months_ahead"] = out["months_ahead"].astype("Int64")
    return out
