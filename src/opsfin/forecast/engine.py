"""`forecast_series`: one call from a long frame of series to a long frame of forecasts.

Each series gets a plan (auto.plan_series), its members are fitted (auto.fit_members), and `auto`
combines them (auto.choose, auto.combine: the median of every smooth-series member; for intermittent
series, of the members validation keeps). The intervals of `auto` are then calibrated on the held-out
windows (calibration.py), over every series of the call. Series are fitted in worker processes when there
are enough of them to pay for starting the processes (`ForecastConfig.n_jobs`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import UserError
from .auto import SeriesFit, choose, combine, fit_members, plan_series
from .calibration import apply_scale, interval_scale
from .config import ForecastConfig
from .models import canonical_models

FORECAST_COLUMNS = ("unique_id", "ds", "model", "yhat", "lo", "hi")
CHOICE_COLUMNS = ("unique_id", "n_obs", "pattern", "model", "reason")
PARALLEL_MIN_SERIES = 100  # below this a process pool costs more than it saves


@dataclass
class ForecastResult:
    """`forecasts`: one row per series and step (and per model when several models are named), columns
    FORECAST_COLUMNS, the model recorded on every row. `choices`: one row per series, columns
    CHOICE_COLUMNS: how long it is, its demand pattern (smooth, erratic, intermittent, lumpy, ...), the
    model used and why."""

    forecasts: pd.DataFrame
    choices: pd.DataFrame
    problems: list[str] = field(default_factory=list)


# fits every history: (unique_id, y) pairs, the config, the model names -> one SeriesFit each, in order
Fitter = Callable[[list[tuple[str, np.ndarray]], ForecastConfig, tuple[str, ...]], list[SeriesFit]]


def forecast_series(series: pd.DataFrame, config: ForecastConfig, fitter: Fitter | None = None) -> ForecastResult:
    """Forecast every series of `series` (columns unique_id: str, ds: datetime64, y: float; one row per
    series and date, in any order, no gaps checked here) `config.horizon` steps ahead at `config.freq`.
    Same input, same output. `fitter` fits the series' models (`fit_histories`, here, by default; the I/O
    layer's Spark runner fits them as Spark tasks); what needs every series at once — the intervals'
    calibration — and the assembly happen here, so both give the same numbers."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    models = canonical_models(config.models)
    frame, problems = _clean(series)
    histories = [(str(uid), group["y"].to_numpy(dtype=float)) for uid, group in frame.groupby("unique_id", sort=True)]
    last_dates = frame.groupby("unique_id", sort=True)["ds"].max()
    fits = (fitter or fit_histories)(histories, config, models)
    scales = interval_scale(fits, config.level)
    rows: list[tuple[str, pd.DatetimeIndex, str, np.ndarray, np.ndarray, np.ndarray]] = []
    choices = []
    for (uid, y), fit in zip(histories, fits, strict=True):
        dates = future_dates(last_dates[uid], config.freq, config.horizon)
        for label, (mean, lo, hi) in _outputs(fit, scales):
            rows.append((uid, dates, label, mean, lo, hi))
        label = _outputs(fit, {})[0][0] if len(fit.final) == 1 or fit.plan.is_auto else "+".join(fit.final)
        choices.append((uid, int(y.size), fit.plan.pattern.pattern, label, _reason(fit)))
        if fit.failed:
            problems.append(f"{uid}: {', '.join(fit.failed)} failed on this series and was left out")
    forecasts = _forecast_frame(rows, config.horizon) if rows else _empty_forecasts()
    if config.nonnegative:
        forecasts[["yhat", "lo", "hi"]] = forecasts[["yhat", "lo", "hi"]].clip(lower=0)
    return ForecastResult(
        forecasts[list(FORECAST_COLUMNS)], pd.DataFrame(choices, columns=list(CHOICE_COLUMNS)), problems
    )


def _clean(series: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    missing = [name for name in ("unique_id", "ds", "y") if name not in series.columns]
    if missing:
        raise UserError(f"the series have no column {', '.join(missing)} (need unique_id, ds, y)")
    frame = series[["unique_id", "ds", "y"]].copy()
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce").astype(float)
    bad = ~np.isfinite(frame["y"].to_numpy())
    problems = [f"{int(bad.sum())} rows without a numeric y were left out"] if bad.any() else []
    return frame[~bad].sort_values(["unique_id", "ds"], kind="stable"), problems


def fit_histories(
    histories: list[tuple[str, np.ndarray]], config: ForecastConfig, models: tuple[str, ...]
) -> list[SeriesFit]:
    """Each history's plan and fitted members, in worker processes when there are many."""
    jobs = config.n_jobs if config.n_jobs is not None else (2 if len(histories) >= PARALLEL_MIN_SERIES else 1)
    jobs = max(1, min(jobs, os.cpu_count() or 1, len(histories) or 1))
    args = (config.horizon, config.level, config.season, models)
    if jobs == 1:
        return fit_chunk([y for _, y in histories], *args)
    # many small chunks, handed out in order, keep both workers busy when series differ in cost
    size = max(1, len(histories) // (jobs * 8))
    chunks = [[y for _, y in histories[start : start + size]] for start in range(0, len(histories), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = pool.map(fit_chunk, chunks, *[[arg] * len(chunks) for arg in args])
        return [fit for part in parts for fit in part]


def fit_chunk(ys: list[np.ndarray], horizon: int, level: int, season: int, models: tuple[str, ...]) -> list[SeriesFit]:
    """The fits of some series, one after the other (what one worker or one Spark task does)."""
    return [fit_members(y, horizon, level, plan_series(y, horizon, season, models)) for y in ys]


def _outputs(fit: SeriesFit, scales: dict) -> list[tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(model label, band) per output: one for auto, one per named model otherwise."""
    if not fit.plan.is_auto:
        return list(fit.final.items())
    kept, _why = choose(fit)
    band = combine({name: fit.final[name] for name in kept})
    label = kept[0] if len(kept) == 1 else f"auto({'+'.join(kept)})"
    return [(label, apply_scale(band, scales.get(fit.plan.members)))]


def _reason(fit: SeriesFit) -> str:
    parts = [fit.plan.reason] if fit.plan.reason else []
    if fit.plan.is_auto:
        parts.append(choose(fit)[1])
    if fit.failed:
        parts.append(f"failed: {', '.join(fit.failed)}")
    return "; ".join(part for part in parts if part)


def future_dates(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    """The `horizon` dates after `last`: months (MS), quarters (QS), weeks (W) or days (D) later,
    on the same day of the month or week as `last`."""
    steps = range(1, horizon + 1)
    if freq in ("MS", "QS"):
        months = 1 if freq == "MS" else 3
        if last.is_month_start:
            return pd.date_range(last, periods=horizon + 1, freq=f"{months}MS")[1:]
        return pd.DatetimeIndex([last + pd.DateOffset(months=months * step) for step in steps])
    days = 7 if freq == "W" else 1
    return pd.DatetimeIndex([last + pd.Timedelta(days=days * step) for step in steps])


def _forecast_frame(rows: list, horizon: int) -> pd.DataFrame:
    """One frame from (unique_id, dates, model, yhat, lo, hi) per series and model, built in one go."""
    return pd.DataFrame(
        {
            "unique_id": np.repeat([row[0] for row in rows], horizon),
            "ds": np.concatenate([row[1].to_numpy() for row in rows]),
            "model": np.repeat([row[2] for row in rows], horizon),
            "yhat": np.concatenate([row[3] for row in rows]).astype(float),
            "lo": np.concatenate([row[4] for row in rows]).astype(float),
            "hi": np.concatenate([row[5] for row in rows]).astype(float),
        }
    )


def _empty_forecasts() -> pd.DataFrame:
    return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"),
                         "model": pd.Series(dtype=str), "yhat": pd.Series(dtype=float),
                         "lo": pd.Series(dtype=float), "hi": pd.Series(dtype=float)})  # fmt: skip
