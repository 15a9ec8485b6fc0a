"""What a forecast is asked for: horizon, frequency, season length, interval level and models."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UserError
from .models import canonical_models

# frequency (pandas offset alias accepted on the command line) → default season length
FREQUENCIES: dict[str, int] = {"MS": 12, "QS": 4, "W": 52, "D": 7}


@dataclass(frozen=True)
class ForecastConfig:
    """`models` is `("auto",)` (the validated combination) or model names of `models.MODELS`."""

    horizon: int
    freq: str = "MS"
    season_length: int | None = None
    level: int = 80
    models: tuple[str, ...] = field(default=("auto",))
    # clip yhat, lo and hi at zero (demand cannot be negative)
    nonnegative: bool = False
    # worker processes; None: 2 for 100 series or more, else 1
    n_jobs: int | None = None

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise UserError("{param} must be at least 1", param="horizon", value=self.horizon)
        if self.freq not in FREQUENCIES:
            raise UserError(f"{{param}} must be one of {', '.join(FREQUENCIES)}", param="freq", value=self.freq)
        if self.season_length is not None and self.season_length < 1:
            raise UserError("{param} must be at least 1", param="season_length", value=self.season_length)
        if not 1 <= self.level <= 99:
            raise UserError("{param} must be between 1 and 99", param="level", value=self.level)
        if not self.models:
            raise UserError("{param} names no model", param="models", value="")
        canonical_models(self.models)

    @property
    def season(self) -> int:
        """The season length: as given, or the frequency's usual one (12 for monthly data)."""
        return self.season_length if self.season_length is not None else FREQUENCIES[self.freq]
