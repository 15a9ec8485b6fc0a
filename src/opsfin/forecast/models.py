"""The models a user may name (`--models`), by statsforecast's names, case-insensitive, and the sets
`auto` combines. Each entry builds a fresh statsforecast model for a season length."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UserError

AUTO = "auto"


def _registry() -> dict[str, Callable[[int], Any]]:
    from statsforecast import models as sf

    return {
        "AutoETS": lambda season: sf.AutoETS(season_length=season),
        "AutoTheta": lambda season: sf.AutoTheta(season_length=season),
        "Theta": lambda season: sf.Theta(season_length=season),
        "OptimizedTheta": lambda season: sf.OptimizedTheta(season_length=season),
        "DynamicTheta": lambda season: sf.DynamicTheta(season_length=season),
        "DynamicOptimizedTheta": lambda season: sf.DynamicOptimizedTheta(season_length=season),
        "AutoCES": lambda season: sf.AutoCES(season_length=season, alias="AutoCES"),
        "AutoARIMA": lambda season: sf.AutoARIMA(season_length=season),
        "SeasonalNaive": lambda season: sf.SeasonalNaive(season_length=season),
        "Naive": lambda season: sf.Naive(),
        "RandomWalkWithDrift": lambda season: sf.RandomWalkWithDrift(),
        "HistoricAverage": lambda season: sf.HistoricAverage(),
        "CrostonClassic": lambda season: sf.CrostonClassic(),
        "CrostonOptimized": lambda season: sf.CrostonOptimized(),
        "CrostonSBA": lambda season: sf.CrostonSBA(),
        # smoothing of demand size and of demand probability: 0.1 each, the usual textbook start
        "TSB": lambda season: sf.TSB(alpha_d=0.1, alpha_p=0.1),
        "ADIDA": lambda season: sf.ADIDA(),
        "IMAPA": lambda season: sf.IMAPA(),
    }


MODEL_NAMES: tuple[str, ...] = (
    "AutoETS", "AutoTheta", "Theta", "OptimizedTheta", "DynamicTheta", "DynamicOptimizedTheta", "AutoCES",
    "AutoARIMA", "SeasonalNaive", "Naive", "RandomWalkWithDrift", "HistoricAverage", "CrostonClassic",
    "CrostonOptimized", "CrostonSBA", "TSB", "ADIDA", "IMAPA",
)  # fmt: skip
# models that use the season length (the others ignore it)
SEASONAL_MODELS = frozenset(
    {"AutoETS", "AutoTheta", "Theta", "OptimizedTheta", "DynamicTheta", "DynamicOptimizedTheta", "AutoCES",
     "AutoARIMA", "SeasonalNaive"}
)  # fmt: skip
# what `auto` combines: for smooth or erratic series, and for intermittent or lumpy ones
AUTO_MEMBERS = ("AutoETS", "DynamicOptimizedTheta", "DynamicTheta", "AutoCES")
# members fitted on the full history only: AutoCES (validating it with its interval took the M3 monthly
# benchmark over its time target), and as no smooth-series member is left out on validation,
# its held-out forecast would only serve the interval calibration (docs/forecasting.md, Benchmarks)
NOT_VALIDATED = frozenset({"AutoCES"})
# members whose interval `auto` does not ask for: AutoCES simulates 5,000 paths per series for it, ten times
# the cost of its fit (about 90 of the M3 monthly run's CPU seconds); `auto`'s interval is the median distance
# of the other members' bounds, as the held-out windows calibrate it (docs/forecasting.md, Intervals of `auto`)
NO_INTERVAL = frozenset({"AutoCES"})
AUTO_INTERMITTENT_MEMBERS = ("CrostonOptimized", "ADIDA", "IMAPA", "TSB")
# auto's members whose season is found and removed by seasonal.py (the test on the series or on its detrended values,
# shrunk indices) rather than by statsforecast's own test; named on their own, they are statsforecast's as they are
SEASONALLY_ADJUSTED_MEMBERS = frozenset({"DynamicOptimizedTheta", "DynamicTheta"})


def canonical_models(names: tuple[str, ...]) -> tuple[str, ...]:
    """`("autoets", "theta")` → `("AutoETS", "Theta")`; `auto` stays `auto`. An unknown name is a
    UserError listing the known ones."""
    by_lower = {name.lower(): name for name in MODEL_NAMES}
    out = []
    for raw in names:
        name = raw.strip()
        if name.lower() == AUTO:
            out.append(AUTO)
        elif name.lower() in by_lower:
            out.append(by_lower[name.lower()])
        else:
            known = ", ".join((AUTO, *MODEL_NAMES))
            raise UserError("unknown model", param="models", value=name, hint=f"known models: {known}")
    return tuple(dict.fromkeys(out))


def build_model(name: str, season: int) -> Any:
    """A fresh statsforecast model `name` for season length `season`."""
    return _registry()[name](season)
