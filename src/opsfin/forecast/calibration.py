"""Calibrating `auto`'s intervals on the held-out windows (split conformal, pooled over series).

On each validated series, the combination's error at step k is measured in units of its own interval
half-width on that side (`|y - ŷ| / (hi - ŷ)` above, `/ (ŷ - lo)` below). The `level`-quantile of these
ratios over all validated series of the same kind is the factor by which the interval is stretched or
narrowed at step k (pooled over steps when a step has too few ratios): a factor of 1 means the
members' own intervals already held `level`% of the held-out actuals."""

from __future__ import annotations

import numpy as np

from .auto import Band, SeriesFit, choose, combine

MIN_RATIOS = 30  # fewer held-out points than this estimate no factor


def interval_scale(fits: list[SeriesFit], level: int) -> dict[tuple[str, ...], np.ndarray]:
    """The interval factor per step for each kind of auto plan (keyed by its members)."""
    ratios: dict[tuple[str, ...], list[np.ndarray]] = {}
    for fit in fits:
        if not fit.plan.is_auto or not fit.validation:
            continue
        kept, _why = choose(fit)
        # members fitted on the full history only (models.NOT_VALIDATED) are not in the held-out combination
        mean, lo, hi = combine({name: fit.validation[name] for name in kept if name in fit.validation})
        half = np.where(fit.holdout >= mean, hi - mean, mean - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(fit.holdout - mean) / half
        ratios.setdefault(fit.plan.members, []).append(np.where(np.isfinite(ratio), ratio, np.nan))
    return {members: _factor(np.vstack(rows), level) for members, rows in ratios.items()}


def _factor(ratios: np.ndarray, level: int) -> np.ndarray:
    """One factor per step: the level-quantile of the step's ratios, or of all steps' when few."""
    quantile = level / 100
    pooled = ratios[np.isfinite(ratios)]
    if pooled.size < MIN_RATIOS:
        return np.ones(ratios.shape[1])
    overall = float(np.quantile(pooled, quantile))
    factors = np.full(ratios.shape[1], overall)
    for step in range(ratios.shape[1]):
        column = ratios[:, step][np.isfinite(ratios[:, step])]
        if column.size >= MIN_RATIOS:
            factors[step] = float(np.quantile(column, quantile))
    return factors


def apply_scale(band: Band, factors: np.ndarray | None) -> Band:
    """The band with each side's distance from the forecast multiplied by the step's factor."""
    mean, lo, hi = band
    if factors is None:
        return band
    return mean, mean - (mean - lo) * factors, mean + (hi - mean) * factors
