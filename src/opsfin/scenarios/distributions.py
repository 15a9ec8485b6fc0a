"""The optional `distributions:` block of a scenario (docs/scenarios.md "Monte Carlo simulation"): what
`opsfin scenario simulate` draws on top of the scenario's deterministic run.

    distributions:
      demand: {sd_pct: 8, per: month}             # replaces the forecast's band (default: see the docs)
      price: {dist: normal, sd: 3, scope: {families: [Pumps]}}            # % change in selling price
      material_price: {dist: triangular, low: -5, mode: 0, high: 20}      # % change in purchase price
      payment_delay: {dist: uniform, low: 0, high: 15, per: path}         # days added to time to pay
      outages:
        - {work_centers: [WC-P1-ASM], probability: 0.1, hours: {dist: uniform, low: 8, high: 40}}
      min_cash: 250000                            # a minimum-cash guardrail for this scenario

Parsing only; `opsfin.scenarios.simulate` draws from it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict, model_validator

from ..model_schema import DecimalNumber, Entry, NonNegative, Number, Text

#: `month`: an independent draw for every month; `path`: one draw per simulated path, held for all months
Per = Literal["month", "path"]
Probability = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]


class SpreadScope(Entry):
    """Which products a price spread touches; empty = every product (selling or purchased)."""

    products: list[Text] = []
    families: list[Text] = []


class Spread(Entry):
    """One random size: `normal` (mean, sd), `uniform` (low, high) or `triangular` (low, mode, high)."""

    dist: Literal["normal", "uniform", "triangular"] = "normal"
    mean: Number = 0.0
    sd: NonNegative = 0.0
    low: Number | None = None
    mode: Number | None = None
    high: Number | None = None
    per: Per = "month"

    @model_validator(mode="after")
    def _bounds(self) -> Spread:
        if self.dist == "normal":
            return self
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.dist} spread needs `low` and `high`")
        if self.low > self.high:
            raise ValueError(f"`low` ({self.low}) is above `high` ({self.high})")
        if self.dist == "triangular":
            if self.mode is None:
                raise ValueError("a triangular spread needs `mode`")
            if not self.low <= self.mode <= self.high:
                raise ValueError(f"`mode` ({self.mode}) is not between `low` and `high`")
        return self


class PriceSpread(Spread):
    """A % change in price, drawn per `per`, on the products of `scope`."""

    scope: SpreadScope = SpreadScope()


class DemandSpread(Entry):
    """The demand's spread as a standard deviation in % of the month's volume, replacing the forecast's
    band and the default (the products' historical forecast error)."""

    sd_pct: NonNegative
    per: Per = "month"


class Outage(Entry):
    """Hours lost at each of `work_centers`, happening in a month with `probability`."""

    work_centers: list[Text] = Field(min_length=1)
    probability: Probability = 1.0
    hours: Spread


class Distributions(Entry):
    """What a simulation draws; every field optional (nothing given: demand from its forecast band or the
    default spread only)."""

    demand: DemandSpread | None = None
    price: PriceSpread | None = None
    material_price: PriceSpread | None = None
    payment_delay: Spread | None = None
    outages: list[Outage] = []
    min_cash: DecimalNumber | None = None
