"""`model/scenarios.yaml`: scenarios as data (docs/scenarios.md "Scenario files").

A scenario is a base plan version plus a list of shocks. Each shock has a `kind`, a `scope` (a dimension →
its members; empty = everything), a `start` and optional `end` month (`YYYY-MM`) and a `size` whose unit
depends on the kind (`SIZE_UNITS`). Parsing and validation only: a mistake is one UserError naming the file,
the entry (`scenarios[2] (copper_spike)`), the field and the value (model_schema.validate). Whether the
members of a scope exist is the runs layer's check (opsfin.runs.scenarios), which can read the warehouse."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from ..model_schema import DecimalNumber, Entry, EntryName, NamedList, Text, scalar_text
from .distributions import Distributions

FILE = "scenarios.yaml"

Kind = Literal[
    "demand",
    "price",
    "material_price",
    "energy_price",
    "wage",
    "fx",
    "capacity",
    "supplier_delay",
    "payment_delay",
    "fixed_cost",
    "unit_cost",
    "scrap",
    "labor_productivity",
]
PERCENT_KINDS = frozenset(
    {"demand", "price", "material_price", "energy_price", "wage", "fx", "scrap", "labor_productivity"}
)
DAY_KINDS = frozenset({"supplier_delay", "payment_delay"})
#: what `size` means, per kind
SIZE_UNITS = {
    **{k: "% change (10 = +10 %)" for k in sorted(PERCENT_KINDS)},
    "scrap": "percentage points of material scrapped on top of the BOM (2 = 2 % more material used)",
    "labor_productivity": "% change in labour minutes per unit (10 = 10 % more minutes, a loss)",
    "capacity": "hours lost per month at each work centre",
    "supplier_delay": "days added to the suppliers' lead time",
    "payment_delay": "days added to the customers' time to pay",
    "fixed_cost": "base-currency amount per month",
    "unit_cost": "base-currency amount per unit produced",
}
#: the scope keys each kind reads; the first of a `required` kind must be given
SCOPE_KEYS: dict[str, tuple[str, ...]] = {
    "demand": ("products", "families", "sites", "customers"),
    "price": ("products", "families", "sites", "customers"),
    "material_price": ("products", "suppliers", "sites"),
    "energy_price": ("products", "families", "sites", "work_centers"),
    "wage": ("products", "families", "sites", "work_centers"),
    "fx": ("currencies",),
    "capacity": ("work_centers",),
    "supplier_delay": ("suppliers", "products", "sites"),
    "payment_delay": ("customers", "sites"),
    "fixed_cost": ("sites",),
    "unit_cost": ("products", "families", "sites"),
    "scrap": ("products", "suppliers", "sites"),
    "labor_productivity": ("products", "families", "sites", "work_centers"),
}
REQUIRED_SCOPE = {"capacity": "work_centers", "fx": "currencies"}
MAX_DAYS = 365


def _month(value: Any) -> Any:
    """`2025-03` (text) or a YAML date → the first day of the month."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value.strip()):
        year, month = map(int, value.strip().split("-"))
        if 1 <= month <= 12:
            return dt.date(year, month, 1)
    raise PydanticCustomError("month", "expected a month YYYY-MM")  # the file's message adds ", got VALUE"


Month = Annotated[dt.date, BeforeValidator(_month)]
Members = list[Annotated[Text, BeforeValidator(scalar_text)]]


def admits(members: list[str], value: str | None) -> bool:
    """True when `value` is one of a scope's `members`, or the members are empty (everything)."""
    return not members or value in members


class Scope(Entry):
    """Which members a shock touches, per dimension; a dimension left out (or every one: `{}`) is all."""

    products: Members = []
    families: Members = []
    sites: Members = []
    suppliers: Members = []
    customers: Members = []
    work_centers: Members = []
    currencies: Members = []

    def given(self) -> dict[str, list[str]]:
        """The dimensions named, with their members."""
        return {k: list(v) for k, v in self.model_dump().items() if v}


class Shock(Entry):
    """One change to the plan's inputs over `start` .. `end` (to the plan's end without `end`)."""

    kind: Kind
    scope: Scope = Scope()
    start: Month
    end: Month | None = None
    size: DecimalNumber

    @model_validator(mode="after")
    def _consistent(self) -> Shock:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"`end` ({self.end:%Y-%m}) is before `start` ({self.start:%Y-%m})")
        allowed = SCOPE_KEYS[self.kind]
        wrong = [k for k in self.scope.given() if k not in allowed]
        if wrong:
            raise ValueError(f"a {self.kind} shock's scope takes {', '.join(allowed)}; not {', '.join(wrong)}")
        need = REQUIRED_SCOPE.get(self.kind)
        if need and need not in self.scope.given():
            raise ValueError(f"a {self.kind} shock needs `scope: {{{need}: [...]}}`")
        _check_size(self.kind, self.size)
        return self

    def covers(self, month: dt.date) -> bool:
        """True when `month` (a first day) is inside the shock's months."""
        return self.start <= month and (self.end is None or month <= self.end)

    @property
    def share(self) -> Decimal:
        """A percent size as a fraction (10 → 0.1)."""
        return self.size / 100


def _check_size(kind: str, size: Decimal) -> None:
    if kind in PERCENT_KINDS and size <= -100:
        raise ValueError(f"`size` {size} is a change of −100 % or less; a {kind} size is a % change above −100")
    if kind == "capacity" and size < 0:
        raise ValueError(f"`size` {size}: a capacity shock is hours lost, ≥ 0")
    if kind in DAY_KINDS and (size != size.to_integral_value() or abs(size) > MAX_DAYS):
        raise ValueError(f"`size` {size}: a {kind} is whole days between −{MAX_DAYS} and {MAX_DAYS}")


class Scenario(Entry):
    """A base plan version and the shocks applied to it. `distributions` is only read by `scenario simulate`."""

    name: EntryName
    base: Text
    description: Text | None = None
    shocks: list[Shock] = []
    distributions: Distributions | None = None


class ScenarioFile(NamedList[Scenario]):
    """model/scenarios.yaml: `scenarios:`, a list with unique names."""

    LIST = "scenarios"
    KIND = "scenario"
    scenarios: list[Scenario] = Field(default_factory=list)


def parse_scenarios(data: Any, where: str | Path = FILE) -> ScenarioFile:
    """The scenarios of a parsed YAML mapping; a mistake is one UserError naming `where`, the entry, the field
    and the value."""
    return ScenarioFile.parse(data, where)
