"""How accurate stored forecasts were, once the actuals arrived (docs/forecasting.md "Accuracy and backtests").

Pure: frames in, frames out. The I/O layer (`runs/forecast_accuracy.py`) reads the stored versions and the
actuals; the backtest (`backtest.py`) makes its own forecasts and measures them here the same way.

Inputs, all long frames with `ds` the first day of a month:
- `forecasts`: version, as_of (the last month of history the forecast saw), level, key, ds, p10, p50, p90;
- `actuals`: level, key, ds, y — every month that has arrived, before and after each as_of;
- `naive`: version, level, key, ds, naive — the seasonal-naive forecast made from the same history
  (`seasonal_naive`), the baseline of the forecast value added.

The measures of a group of points (one version, level and months ahead; or all months ahead):
- WAPE = Σ|y − p50| / Σ|y|;  bias = Σ(p50 − y) / Σ|y| (above 0: the forecast was too high);
- MASE = mean of |y − p50| / scale, scale = the in-sample mean absolute error of the seasonal naive
  forecast on the series' history up to as_of (Hyndman & Koehler 2006); points whose series has no scale
  (shorter than a season plus one month, or constant) are left out of MASE only;
- coverage = the share of actuals with p10 ≤ y ≤ p90;
- FVA = WAPE(naive) − WAPE(forecast): above 0, the forecast beat seasonal naive by that many points.
WAPE, bias, coverage and FVA are fractions (0.05 = 5 %, or 5 points for FVA)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

POINT_COLUMNS = (
    "version",
    "as_of",
    "level",
    "key",
    "ds",
    "months_ahead",
    "y",
    "p10",
    "p50",
    "p90",
    "naive",
    "scale",
)
ACCURACY_COLUMNS = (
    "version",
    "as_of",
    "level",
    "months_ahead",
    "points",
    "actual",
    "wape",
    "mase",
    "bias",
    "coverage",
    "wape_naive",
    "fva",
)
MEASURES = ("wape", "mase", "bias", "coverage", "wape_naive", "fva")


def months_ahead(as_of: dt.date, ds: dt.date) -> int:
    """How many months `ds` lies after `as_of` (1 = the month after)."""
    return (ds.year - as_of.year) * 12 + ds.month - as_of.month


def _month(value) -> dt.date:
    return pd.Timestamp(value).date().replace(day=1)


def _history(actuals: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    months = pd.to_datetime(actuals["ds"])
    return actuals[months <= pd.Timestamp(as_of)]


def seasonal_naive(
    actuals: pd.DataFrame, as_of: dt.date, horizon: int, season: int = 12, version: str = ""
) -> pd.DataFrame:
    """The seasonal-naive forecast of every series of `actuals` (level, key, ds, y) from its history up to
    `as_of`, `horizon` months ahead: ŷ(as_of + h) = y(as_of + h − season·⌈h/season⌉); a series with less
    than that much history repeats its last value (naive). Columns version, level, key, ds, naive."""
    history = _history(actuals, as_of)
    rows = []
    for (level, key), part in history.groupby(["level", "key"], sort=True):
        values = {_month(d): float(y) for d, y in zip(part["ds"], part["y"], strict=True)}
        last = values[max(values)]
        for h in range(1, horizon + 1):
            target = _add_months(as_of, h)
            source = _add_months(as_of, h - season * -(-h // season))
            rows.append((version, level, key, pd.Timestamp(target), values.get(source, last)))
    return pd.DataFrame(rows, columns=["version", "level", "key", "ds", "naive"])


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def naive_scale(actuals: pd.DataFrame, as_of: dt.date, season: int = 12) -> pd.DataFrame:
    """The MASE scale of every series: the mean |y(t) − y(t − season)| over its months up to `as_of`
    (NaN when it has no such pair or they are all equal). Columns level, key, scale."""
    history = _history(actuals, as_of)
    rows = []
    for (level, key), part in history.groupby(["level", "key"], sort=True):
        values = {_month(d): float(y) for d, y in zip(part["ds"], part["y"], strict=True)}
        diffs = [
            abs(y - values[_add_months(m, -season)]) for m, y in values.items() if _add_months(m, -season) in values
        ]
        scale = float(np.mean(diffs)) if diffs else float("nan")
        rows.append((level, key, scale if scale > 0 else float("nan")))
    return pd.DataFrame(rows, columns=["level", "key", "scale"])


def forecast_points(
    forecasts: pd.DataFrame, actuals: pd.DataFrame, naive: pd.DataFrame, season: int = 12
) -> pd.DataFrame:
    """One row per forecast point whose actual has arrived (ds after the version's as_of): POINT_COLUMNS."""
    fc = forecasts.assign(ds=pd.to_datetime(forecasts["ds"]), as_of=pd.to_datetime(forecasts["as_of"]))
    fc = fc[fc["ds"] > fc["as_of"]]
    act = actuals[["level", "key", "ds", "y"]].assign(ds=pd.to_datetime(actuals["ds"]))
    points = fc.merge(act, on=["level", "key", "ds"], how="inner")
    nv = naive[["version", "level", "key", "ds", "naive"]].assign(ds=pd.to_datetime(naive["ds"]))
    points = points.merge(nv, on=["version", "level", "key", "ds"], how="left")
    scales = []
    for (version, as_of), _ in points.groupby(["version", "as_of"], sort=True):
        scales.append(naive_scale(actuals, _month(as_of), season).assign(version=version))
    scale = pd.concat(scales) if scales else pd.DataFrame(columns=["level", "key", "scale", "version"])
    points = points.merge(scale, on=["version", "level", "key"], how="left")
    points["months_ahead"] = [
        months_ahead(_month(a), _month(d)) for a, d in zip(points["as_of"], points["ds"], strict=True)
    ]
    for column in ("y", "p10", "p50", "p90", "naive", "scale"):
        points[column] = points[column].astype(float)
    return points[list(POINT_COLUMNS)].sort_values(["version", "level", "key", "ds"], ignore_index=True)


def measure(points: pd.DataFrame) -> dict[str, float]:
    """The measures of one group of points (see the module's docstring); NaN where undefined."""
    y, p50 = points["y"], points["p50"]
    volume = float(y.abs().sum())
    error = (y - p50).abs()
    scaled = (error / points["scale"]).replace([np.inf, -np.inf], np.nan).dropna()
    wape = float(error.sum()) / volume if volume else float("nan")
    wape_naive = float((y - points["naive"]).abs().sum()) / volume if volume else float("nan")
    inside = (points["p10"] <= y) & (y <= points["p90"])
    return {
        "points": len(points),
        "actual": float(y.sum()),
        "wape": wape,
        "mase": float(scaled.mean()) if len(scaled) else float("nan"),
        "bias": float((p50 - y).sum()) / volume if volume else float("nan"),
        "coverage": float(inside.mean()) if len(points) else float("nan"),
        "wape_naive": wape_naive,
        "fva": wape_naive - wape,
    }


def summarize(points: pd.DataFrame) -> pd.DataFrame:
    """ACCURACY_COLUMNS per version, level and months ahead, then per version and level over every month
    ahead (months_ahead missing: all of them)."""
    rows = []
    for (version, as_of, level), group in points.groupby(["version", "as_of", "level"], sort=False):
        for ahead, part in group.groupby("months_ahead", sort=True):
            rows.append({"version": version, "as_of": as_of, "level": level, "months_ahead": ahead} | measure(part))
        rows.append({"version": version, "as_of": as_of, "level": level, "months_ahead": None} | measure(group))
    out = pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))
    out["months_ahead"] = out["months_ahead"].astype("Int64")
    out["as_of"] = [_month(a) for a in out["as_of"]]
    out["points"] = out["points"].astype(int)
    return _in_level_order(out)


LEVEL_ORDER = ("total", "family", "site", "product", "product_site")


def _in_level_order(frame: pd.DataFrame) -> pd.DataFrame:
    rank = {level: i for i, level in enumerate(LEVEL_ORDER)}
    order = frame.assign(
        _level=frame["level"].map(lambda v: rank.get(v, len(rank))),
        _ahead=frame["months_ahead"].fillna(10**6),
    )
    order = order.sort_values(["as_of", "version", "_level", "_ahead"], kind="stable")
    return order.drop(columns=["_level", "_ahead"]).reset_index(drop=True)


def accuracy(forecasts: pd.DataFrame, actuals: pd.DataFrame, naive: pd.DataFrame, season: int = 12) -> pd.DataFrame:
    """ACCURACY_COLUMNS for every version of `forecasts` that has actuals (see the module's docstring).
    A version whose months have not arrived yet has no rows (`versions_without_actuals` names them)."""
    return summarize(forecast_points(forecasts, actuals, naive, season))


def versions_without_actuals(forecasts: pd.DataFrame, result: pd.DataFrame) -> list[str]:
    """The versions of `forecasts` that `accuracy` could not measure yet, in order."""
    measured = set(result["version"])
    return [v for v in dict.fromkeys(forecasts["version"]) if v not in measured]


def naive_for_versions(forecasts: pd.DataFrame, actuals: pd.DataFrame, season: int = 12) -> pd.DataFrame:
    """The seasonal-naive baseline of each version: from the actuals up to its as_of, as far ahead as it goes."""
    parts = []
    for (version, as_of), part in forecasts.groupby(["version", "as_of"], sort=True):
        first = _month(as_of)
        horizon = max(months_ahead(first, _month(d)) for d in part["ds"])
        if horizon >= 1:
            parts.append(seasonal_naive(actuals, first, horizon, season, version))
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["version", "level", "key", "ds", "naive"])
    )
