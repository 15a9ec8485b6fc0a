"""`model/investments.yaml`: investment cases as data (docs/investments.md "Cases").

A case has a name and either explicit `cash_flows` (`[{date, amount}]`, the whole case: a name and cash flows
are complete), or capital spend by month (`capex`) with a useful life, salvage, depreciation and tax rate, and
optional `effects` (driver changes, the scenario engine's shocks, run against the plan version `base`). `requires` and `excludes` name other cases.
Parsing and validation only: a mistake is one UserError naming the file, the case, the field and the value
(model_schema.validate)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from ..model_schema import Count, DecimalNumber, Entry, EntryName, NamedList, Text, as_list, scalar_text
from ..scenarios.config import Month, Shock
from .review import ReviewPlan

FILE = "investments.yaml"
DEFAULT_RATE = 0.08


def _day(value: Any) -> Any:
    """A YAML date or `YYYY-MM-DD` text → the date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError("day", "expected a date YYYY-MM-DD")


def _fraction(value: Any) -> Any:
    """A rate as a fraction (0.25); `25%` text is accepted as 0.25."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("rate", "expected a fraction such as 0.25")
    return float(value)


Day = Annotated[dt.date, BeforeValidator(_day)]
Fraction = Annotated[float, BeforeValidator(_fraction), Field(ge=0, lt=1)]
Names = Annotated[list[Annotated[Text, BeforeValidator(scalar_text)]], BeforeValidator(as_list)]


class CashFlow(Entry):
    """One dated amount: negative is money out, positive money in."""

    date: Day
    amount: DecimalNumber


class Capex(Entry):
    """Capital spend in a month (a positive amount, paid on the month's first day)."""

    month: Month
    amount: DecimalNumber

    @model_validator(mode="after")
    def _positive(self) -> Capex:
        if self.amount <= 0:
            raise ValueError(f"`amount` {self.amount}: capital spend is a positive amount")
        return self


class Case(Entry):
    """One investment case (docs/investments.md "Cases")."""

    name: EntryName
    owner: Text | None = None
    description: Text | None = None
    capex: list[Capex] = []
    life_years: Annotated[Count, Field(ge=1, le=50)] | None = None
    salvage: DecimalNumber = Decimal(0)
    depreciation: Literal["straight_line", "declining_balance", "none"] = "straight_line"
    tax_rate: Fraction = 0.0
    cash_flows: list[CashFlow] = []
    effects: list[Shock] = []
    base: Text | None = None
    requires: Names = []
    excludes: Names = []
    review: ReviewPlan | None = None  # after go-live: invest/review.py

    @model_validator(mode="after")
    def _complete(self) -> Case:
        if not (self.cash_flows or self.capex or self.effects):
            raise ValueError("a case needs `cash_flows`, or `capex` with `effects`")
        if self.capex and self.life_years is None and self.depreciation != "none":
            raise ValueError("`capex` needs `life_years` (or `depreciation: none`)")
        if self.effects and (self.base is None or self.life_years is None):
            raise ValueError("`effects` need `base` (the plan version they change) and `life_years`")
        if self.salvage < 0:
            raise ValueError(f"`salvage` {self.salvage}: expected an amount ≥ 0")
        if self.salvage and not self.capex:
            raise ValueError("`salvage` needs `capex` and `life_years`")
        both = sorted(set(self.requires) & set(self.excludes))
        if both:
            raise ValueError(f"{', '.join(both)} is both required and excluded")
        if self.name in self.requires or self.name in self.excludes:
            raise ValueError("a case cannot require or exclude itself")
        return self

    @property
    def effect_start(self) -> dt.date | None:
        """The first month of the effects (the go-live), None without effects."""
        return min((e.start for e in self.effects), default=None)

    @property
    def capital_by_year(self) -> dict[int, Decimal]:
        """Capital spend per calendar year: `capex`, or the money out of `cash_flows` without capex."""
        spend: dict[int, Decimal] = {}
        if self.capex:
            pairs = [(c.month.year, c.amount) for c in self.capex]
        else:
            pairs = [(f.date.year, -f.amount) for f in self.cash_flows if f.amount < 0]
        for year, amount in pairs:
            spend[year] = spend.get(year, Decimal(0)) + amount
        return spend


class InvestmentFile(NamedList[Case]):
    """model/investments.yaml: `discount_rate` (a fraction, default 0.08) and `investments:`, unique names
    whose `requires` and `excludes` name cases of the file."""

    LIST = "investments"
    KIND = "case"
    discount_rate: Fraction = DEFAULT_RATE
    investments: list[Case] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_cases(self) -> InvestmentFile:
        seen = {c.name for c in self.investments}  # unique: NamedList checked them first
        for c in self.investments:
            unknown = [n for n in (*c.requires, *c.excludes) if n not in seen]
            if unknown:
                raise ValueError(f"case {c.name!r}: requires/excludes an unknown case {', '.join(map(repr, unknown))}")
        return self


def parse_investments(data: Any, where: str | Path = FILE) -> InvestmentFile:
    """The cases of a parsed YAML mapping; a mistake is one UserError naming `where`, the case, the field and
    the value."""
    return InvestmentFile.parse(data, where)
