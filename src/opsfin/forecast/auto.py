"""One series at a time: which models it gets (its plan), their forecasts on a held-out window of its
own history (rolling-origin validation) and on the full history, and the combination `auto` chooses.

The plan, by the series' length n, season length m and horizon h:
- a constant series (zero demand included) is its own forecast (Naive), with no interval width;
- n < MIN_OBS: Naive, too short for any fitted model;
- an intermittent or lumpy series: the intermittent-demand models (Croston, ADIDA, IMAPA, TSB);
- n < 2·m: the smooth-series models without a season;
- otherwise the smooth-series models with the season.
The last h observations are held out to validate when what remains still supports the same plan."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .models import (
    AUTO_INTERMITTENT_MEMBERS,
    AUTO_MEMBERS,
    NO_INTERVAL,
    NOT_VALIDATED,
    SEASONAL_MODELS,
    SEASONALLY_ADJUSTED_MEMBERS,
    build_model,
)
from .patterns import INTERMITTENT_PATTERNS, NO_DEMAND, DemandPattern, demand_pattern
from .seasonal import SeasonallyAdjusted

MIN_OBS = 8  # below this the exponential-smoothing and theta fits refuse the series ("tiny datasets")

Band = tuple[np.ndarray, np.ndarray, np.ndarray]  # mean, lo, hi (lo/hi may be NaN: no interval)


@dataclass
class SeriesPlan:
    """The models to fit, the season length they use, and why."""

    members: tuple[str, ...]
    season: int
    pattern: DemandPattern
    reason: str
    validate: bool
    is_auto: bool


@dataclass
class SeriesFit:
    """Each member's forecast on the held-out window (`validation`, empty when not validated) and on
    the full history (`final`), with the held-out actuals; members that failed are left out."""

    plan: SeriesPlan
    final: dict[str, Band]
    validation: dict[str, Band] = field(default_factory=dict)
    holdout: np.ndarray = field(default_factory=lambda: np.empty(0))
    failed: list[str] = field(default_factory=list)


def plan_series(y: np.ndarray, horizon: int, season: int, models: tuple[str, ...]) -> SeriesPlan:
    """What to fit on `y`: `models` is `("auto",)` or names from models.MODEL_NAMES."""
    n = y.size
    pattern = demand_pattern(y)
    is_auto = models == ("auto",)
    if n > 0 and np.all(y == y[0]):
        why = "no demand in the history" if pattern.pattern == NO_DEMAND else "constant series"
        return SeriesPlan(("Naive",), 1, pattern, f"{why}: the constant is the forecast", False, False)
    if n < MIN_OBS:
        return SeriesPlan(("Naive",), 1, pattern, f"fewer than {MIN_OBS} observations: last value", False, False)
    if is_auto and pattern.pattern in INTERMITTENT_PATTERNS:
        members: tuple[str, ...] = AUTO_INTERMITTENT_MEMBERS
        reason = f"{pattern.pattern} demand (ADI {pattern.adi:.2f}, CV² {pattern.cv2:.2f}): intermittent models"
        return SeriesPlan(members, 1, pattern, reason, n - horizon >= MIN_OBS, True)
    members = AUTO_MEMBERS if is_auto else models
    if season > 1 and n < 2 * season and any(name in SEASONAL_MODELS for name in members):
        reason = f"fewer than {2 * season} observations (two seasons): models without a season"
        return SeriesPlan(members, 1, pattern, reason, is_auto and n - horizon >= MIN_OBS, is_auto)
    validate = is_auto and n - horizon >= (2 * season if season > 1 else MIN_OBS)
    reason = "" if validate or not is_auto else f"too short to hold out {horizon} values: not validated"
    return SeriesPlan(members, season, pattern, reason, validate, is_auto)


def fit_members(y: np.ndarray, horizon: int, level: int, plan: SeriesPlan) -> SeriesFit:
    """Fit the plan's members on the history (and, to validate, on the history without its last
    `horizon` values). A member that fails is dropped; if all fail, Naive stands in."""
    fit = SeriesFit(plan, {})
    for name in plan.members:
        model = _member_model(name, plan)
        band = _forecast(model, y, horizon, None if plan.is_auto and name in NO_INTERVAL else level)
        if band is None:
            fit.failed.append(name)
            continue
        fit.final[name] = band
        if plan.validate and name not in NOT_VALIDATED:
            held = _forecast(_validation_model(name, model, plan), y[:-horizon], horizon, level)
            if held is not None:
                fit.validation[name] = held
    if not fit.final:
        fit.final["Naive"] = _forecast(build_model("Naive", 1), y, horizon, level) or _last_value(y, horizon)
    if plan.validate and fit.validation and set(fit.validation) == set(fit.final) - NOT_VALIDATED:
        fit.holdout = y[-horizon:]
    else:
        fit.validation = {}
    return fit


def _member_model(name: str, plan: SeriesPlan) -> Any:
    """A fresh model for `name`: under `auto`, the theta members find and remove the season themselves
    (seasonal.py); every other model is statsforecast's, as named."""
    if plan.is_auto and plan.season > 1 and name in SEASONALLY_ADJUSTED_MEMBERS:
        return SeasonallyAdjusted(lambda season: build_model(name, season), plan.season)
    return build_model(name, plan.season)


def _validation_model(name: str, fitted: Any, plan: SeriesPlan) -> Any:
    """The model to refit on the shortened history. AutoETS keeps the form (error, trend, season) it chose
    on the full history and re-estimates its parameters: choosing the form again would cost as much as
    the forecast itself. Every other model is refitted from scratch."""
    method = getattr(fitted, "model_", {}).get("method", "") if name == "AutoETS" else ""
    if not method.startswith("ETS("):
        return _member_model(name, plan)
    error, trend, seasonal = method[4:-1].split(",")  # "ETS(M,Ad,M)"
    from statsforecast.models import AutoETS

    return AutoETS(season_length=plan.season, model=error + trend[0] + seasonal, damped=trend.endswith("d"))


def _forecast(model: Any, y: np.ndarray, horizon: int, level: int | None) -> Band | None:
    """The model's mean and interval over `horizon` steps after `y` (the model keeps its fit); None if
    the model fails on this series. `level` None: the mean only, no interval (NaN bounds)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(y=y)
            if level is None:
                mean = np.asarray(model.predict(h=horizon)["mean"], dtype=float)
                return (mean, np.full(horizon, np.nan), np.full(horizon, np.nan)) if np.all(np.isfinite(mean)) else None
            try:
                out = model.predict(h=horizon, level=[level])
            except Exception as error:
                if "prediction_intervals" not in str(error):
                    raise
                # the intermittent-demand models give no interval of their own
                out = model.predict(h=horizon)
    except Exception:
        return None
    mean = np.asarray(out["mean"], dtype=float)
    if not np.all(np.isfinite(mean)):
        return None
    lo = np.asarray(out.get(f"lo-{level}", np.full(horizon, np.nan)), dtype=float)
    hi = np.asarray(out.get(f"hi-{level}", np.full(horizon, np.nan)), dtype=float)
    if f"lo-{level}" not in out:
        lo, hi = _empirical_band(y, mean, level)
    return mean, lo, hi


def _empirical_band(y: np.ndarray, mean: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """For a model without intervals (intermittent demand): the history's own quantiles of one period's
    value, widened to contain the mean."""
    tail = (100 - level) / 200
    lo_value, hi_value = np.quantile(y, [tail, 1 - tail])
    return np.minimum(mean, lo_value), np.maximum(mean, hi_value)


def _last_value(y: np.ndarray, horizon: int) -> Band:
    return np.full(horizon, float(y[-1])), np.full(horizon, np.nan), np.full(horizon, np.nan)


def combine(bands: dict[str, Band]) -> Band:
    """The members' median forecast (the mean of two), and the interval as the forecast plus the
    median distance of each member's bound from its own forecast, over the members that have an
    interval (models.NO_INTERVAL: none under `auto`); NaN bounds when none has."""
    means = np.vstack([band[0] for band in bands.values()])
    below = np.vstack([band[0] - band[1] for band in bands.values()])
    above = np.vstack([band[2] - band[0] for band in bands.values()])
    mean = np.median(means, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": no member has an interval
        return mean, mean - np.nanmedian(below, axis=0), mean + np.nanmedian(above, axis=0)


def choose(fit: SeriesFit) -> tuple[tuple[str, ...], str]:
    """The members to combine and why. Smooth-series members: all of them (on M3, leaving a member out
    on one held-out window lost accuracy: the window is too short to tell the members apart). The
    intermittent-demand members: all, unless validation shows a member's error on the held-out window
    above WORST_RATIO times the best member's; then it is left out."""
    members = tuple(fit.final)
    if not fit.validation or len(members) < 3 or fit.plan.members != AUTO_INTERMITTENT_MEMBERS:
        return members, ""
    errors = {name: float(np.mean(np.abs(fit.validation[name][0] - fit.holdout))) for name in members}
    best = min(errors.values())
    kept = tuple(name for name in members if errors[name] <= WORST_RATIO * best or best == 0)
    dropped = [name for name in members if name not in kept]
    return kept, (f"left out on validation: {', '.join(dropped)}" if dropped else "")


WORST_RATIO = 2.0
