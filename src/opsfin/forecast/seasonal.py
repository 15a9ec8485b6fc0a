"""The season of `auto`'s theta members, found and removed here instead of inside statsforecast.

statsforecast's theta models test for a season on the series itself (the autocorrelation at lag m against
its 90% bound) and then divide the series by its classical multiplicative seasonal indices. On a trending
series every autocorrelation is high, the bound with them, and that test misses seasons. Here a season is
also found when the same test passes on the series divided by its centred moving average (the trend
removed; that test alone misses smooth seasons of few years, having m fewer values), and the indices are
shrunk towards 1 by the James–Stein factor (Miller & Williams 2003, "Shrinkage estimators of time series
seasonal factors and their effect on forecasting accuracy"): indices estimated from few years are noisy, and
a season found by chance is shrunk away. The member is then fitted without a season on the adjusted series
and its forecast multiplied back. On M3 both theta members were better this way on the held-out windows
inside the training parts and on the test parts, monthly and quarterly (docs/forecasting.md, Benchmarks)."""

from __future__ import annotations

from typing import Any

import numpy as np

# the 95% one-sided normal quantile: the 90% test Theta has used since the M3 competition
SEASON_TEST_Z = 1.6448536269514722
MIN_INDEX = 0.01  # a smaller multiplicative index would blow the forecast up when multiplied back


def seasonal_indices(y: np.ndarray, season: int) -> np.ndarray | None:
    """The multiplicative index of each position in the season (position 0 is y's first value, mean 1),
    shrunk towards 1; None when neither `y` nor its detrended values pass the season test, `y` is too short
    (fewer than two ratios to the trend per position), or has a value ≤ 0."""
    y = np.asarray(y, dtype=float)
    if season < 2 or y.size < 2 * season or np.any(y <= 0):
        return None
    ratios = y / _centred_moving_average(y, season)  # NaN at both ends, where the average is not defined
    positions = np.arange(y.size) % season
    by_position = [ratios[positions == p][np.isfinite(ratios[positions == p])] for p in range(season)]
    if min(values.size for values in by_position) < 2:
        return None
    if not (_seasonal(y, season) or _seasonal(ratios[np.isfinite(ratios)], season)):
        return None
    indices = shrunk_indices(by_position)
    return indices if np.all(indices >= MIN_INDEX) else None


def shrunk_indices(by_position: list[np.ndarray]) -> np.ndarray:
    """The seasonal indices from each position's ratios to the trend (at least two each): their means,
    scaled to average 1, then shrunk towards 1 by the James–Stein factor max(0, 1 − (m − 3)·σ² / Σ(Sᵢ − 1)²),
    σ² the pooled variance of an index's estimate (its ratios' variance over their count); m < 4 keeps
    them as they are."""
    season = len(by_position)
    raw = np.array([values.mean() for values in by_position])
    indices = raw / raw.mean()
    estimate_variance = float(np.mean([values.var(ddof=1) / values.size for values in by_position]))
    spread = float(np.sum((indices - 1) ** 2))
    keep = max(0.0, 1 - (season - 3) * estimate_variance / spread) if season > 3 and spread > 0 else 1.0
    return 1 + keep * (indices - 1)


def _centred_moving_average(y: np.ndarray, season: int) -> np.ndarray:
    """The 2×m moving average for an even season, the m one for an odd season, NaN where undefined."""
    weights = np.r_[0.5, np.ones(season - 1), 0.5] / season if season % 2 == 0 else np.ones(season) / season
    inner = np.convolve(y, weights, mode="valid")
    out = np.full(y.size, np.nan)
    start = (weights.size - 1) // 2
    out[start : start + inner.size] = inner
    return out


def _seasonal(x: np.ndarray, season: int) -> bool:
    """The autocorrelation of `x` at lag `season` beyond SEASON_TEST_Z standard errors (Bartlett's, from
    the autocorrelations at the shorter lags)."""
    if x.size <= season:
        return False
    centred = x - x.mean()
    denominator = float(np.sum(centred**2))
    if denominator == 0:
        return False
    acf = np.array([np.sum(centred[:-lag] * centred[lag:]) / denominator for lag in range(1, season + 1)])
    bound = np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / x.size)
    return bool(abs(acf[-1]) / bound > SEASON_TEST_Z)


class SeasonallyAdjusted:
    """A statsforecast model fitted without a season on the series divided by `seasonal_indices`, its
    forecast and interval multiplied back; on a series that has a value ≤ 0 the model keeps its own season
    handling (the multiplicative indices do not apply). Same fit/predict calls as statsforecast's models."""

    def __init__(self, build: Any, season: int) -> None:
        self.build, self.season = build, season  # build(season) -> a fresh statsforecast model
        self.indices: np.ndarray | None = None
        self.n_obs = 0

    def fit(self, y: np.ndarray) -> SeasonallyAdjusted:
        y = np.asarray(y, dtype=float)
        self.n_obs = y.size
        self.indices = seasonal_indices(y, self.season)
        if self.indices is None and np.any(y <= 0):
            self.model_ = self.build(self.season).fit(y=y)
            return self
        adjusted = y if self.indices is None else y / self.indices[np.arange(y.size) % self.season]
        self.model_ = self.build(1).fit(y=adjusted)
        return self

    def predict(self, h: int, level: list[int] | None = None) -> dict[str, np.ndarray]:
        out = self.model_.predict(h=h, level=level)
        if self.indices is None:
            return out
        future = self.indices[np.arange(self.n_obs, self.n_obs + h) % self.season]
        return {key: np.asarray(values, dtype=float) * future for key, values in out.items()}
