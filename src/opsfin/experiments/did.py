"""Difference-in-differences on a unit × month panel (docs/experiments.md "The estimate").

The panel has one row per unit and month: `unit`, `period` (a first day), `value` (the metric, from the
KPI engine) and `treated` (bool). The effect is the coefficient of `treated × after` in the two-way
fixed-effects regression

    value ~ unit + period + effect · (treated and period ≥ start)

by ordinary least squares (statsmodels), with standard errors clustered by unit (units are the
independent draws: a unit's months are correlated) when each group has 5 units or more. With fewer the
clustered error is known to be too small (few clusters): the larger of it and the heteroskedasticity-robust
(HC1) error is taken. With a single unit in a group clustering is impossible (its residuals sum to zero):
HC1 alone, which takes a unit's months as independent. `errors` says which. With one treated and one control unit over two
months it is the textbook (T_after − T_before) − (C_after − C_before). The 95 % interval uses the t
distribution with (clusters − 1) degrees of freedom for clustered errors, the residual degrees of freedom
for HC1 (the fewer of the two when both are computed).

The pre-trend check regresses the before-period values on unit effects, month effects and
`treated × months since the first month` (clustered the same way): a slope whose p-value is below 0.05
means treated and control were already drifting apart before the start, and the estimate is flagged.

Pure: a Polars frame in, a dataclass out."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ..errors import UserError

LEVEL = 0.95
PRE_TREND_ALPHA = 0.05
#: units a group needs for errors clustered by unit alone; with fewer the clustered error is too small
#: (few clusters) and the larger of it and HC1 is taken; with a single unit only HC1 is possible
MANY_UNITS = 5
CLUSTERED = "cluster-robust by unit"
LARGER = "the larger of cluster-robust by unit and HC1 (fewer than 5 units in a group)"
HC1 = "heteroskedasticity-robust (HC1): a group has a single unit, errors cannot be clustered"
#: below this share of the values' size a coefficient or an error is rounding: zero
EXACT = 1e-9


@dataclass(frozen=True)
class Means:
    """A group's mean of the metric before and after the start."""

    before: float | None
    after: float | None


@dataclass(frozen=True)
class PreTrend:
    """The treated − control slope per month before the start, its p-value and whether it fails."""

    slope: float | None
    p_value: float | None
    failed: bool
    months: int


@dataclass(frozen=True)
class Estimate:
    """The DiD effect (metric units), its 95 % interval, the groups' means and the pre-trend check."""

    effect: float
    low: float
    high: float
    std_error: float
    treated: Means
    control: Means
    pre_trend: PreTrend
    units: int
    observations: int
    errors: str = CLUSTERED

    def as_json(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "ci_low": _finite(self.low),
            "ci_high": _finite(self.high),
            "std_error": _finite(self.std_error),
            "level": LEVEL,
            "means": {
                "treated": {"before": self.treated.before, "after": self.treated.after},
                "control": {"before": self.control.before, "after": self.control.after},
            },
            "pre_trend": {
                "slope": self.pre_trend.slope,
                "p_value": self.pre_trend.p_value,
                "failed": self.pre_trend.failed,
                "months": self.pre_trend.months,
            },
            "units": self.units,
            "observations": self.observations,
            "errors": self.errors,
        }


def estimate(panel: pl.DataFrame, start: dt.date) -> Estimate:
    """The DiD estimate of the effect beginning in month `start` (module docstring)."""
    panel = _clean(panel, start)
    after = (panel["period"] >= start).to_numpy()
    treated = panel["treated"].to_numpy()
    errors = _errors(panel)
    effect, se, low, high, _ = _fit(panel, (treated & after).astype(float), errors)
    return Estimate(
        effect,
        low,
        high,
        se,
        _means(panel.filter(pl.col("treated")), start),
        _means(panel.filter(~pl.col("treated")), start),
        pre_trend(panel.filter(pl.col("period") < start)),
        panel["unit"].n_unique(),
        panel.height,
        errors,
    )


def _errors(panel: pl.DataFrame) -> str:
    """How the standard error is estimated, from the units of the smaller group (MANY_UNITS)."""
    counts = panel.group_by("treated").agg(pl.col("unit").n_unique())["unit"].to_list()
    fewest = min(counts) if len(counts) == 2 else 1
    return CLUSTERED if fewest >= MANY_UNITS else LARGER if fewest >= 2 else HC1


def pre_trend(before: pl.DataFrame) -> PreTrend:
    """The treated × months slope of the before-period (module docstring); not checkable below 3 months."""
    months = before["period"].n_unique()
    if months < 3:
        return PreTrend(None, None, False, months)
    first = before["period"].min()
    assert isinstance(first, dt.date)
    index = np.array([_months_between(first, p) for p in before["period"].to_list()], dtype=float)
    slope, se, _, _, dof = _fit(before, before["treated"].to_numpy() * index, _errors(before))
    p = _p_value(slope, se, dof)
    return PreTrend(slope, p, p is not None and p < PRE_TREND_ALPHA, months)


def _clean(panel: pl.DataFrame, start: dt.date) -> pl.DataFrame:
    missing = {"unit", "period", "value", "treated"} - set(panel.columns)
    if missing:
        raise ValueError(f"a panel needs the columns {sorted(missing)}")
    panel = panel.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    panel = panel.with_columns(pl.col("value").cast(pl.Float64), pl.col("treated").cast(pl.Boolean)).sort(
        "unit", "period"
    )
    for flag, group in ((True, "treated"), (False, "control")):
        rows = panel.filter(pl.col("treated") == flag)
        if rows["unit"].n_unique() < 1:
            raise UserError(f"no {group} unit has a value for this metric")
        for side, keep in (("before", pl.col("period") < start), ("after", pl.col("period") >= start)):
            if rows.filter(keep).is_empty():
                raise UserError(f"the {group} units have no month {side} the start ({start:%Y-%m})")
    return panel


def _fit(panel: pl.DataFrame, regressor: np.ndarray, errors: str) -> tuple[float, float, float, float, int]:
    """OLS of value on unit and month dummies plus `regressor`: its coefficient, standard error (as
    `errors` says), 95 % interval and the degrees of freedom of its t distribution."""
    import statsmodels.api as sm
    from scipy import stats

    units = panel["unit"].cast(pl.Utf8).to_numpy()
    months = np.array([p.isoformat() for p in panel["period"].to_list()])
    x = np.column_stack([regressor, _dummies(units, drop_first=False), _dummies(months, drop_first=True)])
    y = panel["value"].to_numpy()
    groups = np.unique(units, return_inverse=True)[1]
    rank = int(np.linalg.matrix_rank(x))
    if len(y) <= rank:  # saturated: the effect, but no error to estimate
        return float(sm.OLS(y, x).fit().params[0]), math.nan, math.nan, math.nan, 0
    ses, dofs = [], []
    with warnings.catch_warnings():  # an exact fit has a (numerically) negative variance: zero
        warnings.simplefilter("ignore", RuntimeWarning)
        if errors != HC1:
            fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
            ses.append(float(fit.bse[0]))
            dofs.append(max(int(groups.max()), 1))  # clusters − 1
        if errors != CLUSTERED:
            fit = sm.OLS(y, x).fit(cov_type="HC1")
            ses.append(float(fit.bse[0]))
            dofs.append(len(y) - rank)
    tolerance = EXACT * max(1.0, float(np.abs(y).max()))
    coef = float(fit.params[0])
    coef = 0.0 if abs(coef) < tolerance else coef
    se = max((v for v in ses if np.isfinite(v)), default=0.0)
    se = se if se >= tolerance else 0.0
    dof = min(dofs)
    quantile = float(stats.t.ppf(0.5 + LEVEL / 2, dof))
    return coef, se, coef - quantile * se, coef + quantile * se, dof


def _dummies(labels: np.ndarray, *, drop_first: bool) -> np.ndarray:
    levels = sorted(set(labels.tolist()))
    if drop_first:
        levels = levels[1:]
    if not levels:
        return np.empty((len(labels), 0))
    return np.column_stack([(labels == level).astype(float) for level in levels])


def _finite(value: float) -> float | None:
    """None for an interval that cannot be estimated (as many coefficients as observations)."""
    return None if math.isnan(value) else value


def _p_value(coef: float, se: float, dof: int) -> float | None:
    from scipy import stats

    if math.isnan(se) or dof < 1:
        return None
    if se == 0.0:
        return None if coef == 0.0 or math.isnan(coef) else 0.0
    return float(2 * stats.t.sf(abs(coef / se), dof))


def _means(rows: pl.DataFrame, start: dt.date) -> Means:
    def mean(frame: pl.DataFrame) -> float | None:
        value = frame["value"].mean()
        return float(value) if isinstance(value, (int, float)) else None

    return Means(mean(rows.filter(pl.col("period") < start)), mean(rows.filter(pl.col("period") >= start)))


def _months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month
