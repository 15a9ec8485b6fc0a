"""`model/experiments.yaml`: process experiments as data (docs/experiments.md "Experiment files").

An experiment names the dimension its units are members of (`unit: work_center`, `machine`, `shift`,
`site` or `cost_center` for a support team), the `treated` members, the controls (`control:` a list, or
`match: N` to choose the N untreated members whose before-period metric is closest to the treated ones'),
the `start` month, and its `metrics` (KPI ids of the KPI engine's catalog: the metric is never computed a
second way). `before_months` (default 6) and `after_months` (default: up to the data's end) bound the
window. `money:` gives, per metric, the value of one unit of the KPI's numerator (a kWh, a scrapped
unit…) for the annualised money. Parsing and validation only: a mistake is one UserError naming the file,
the entry, the field and the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from ..model_schema import Count, DecimalNumber, Entry, EntryName, KpiId, NamedList, Text
from ..scenarios.config import Month

FILE = "experiments.yaml"
UnitDimension = Literal["work_center", "machine", "shift", "site", "cost_center"]
DEFAULT_BEFORE = 6


class Money(Entry):
    """What one unit of a metric's numerator is worth (base currency), and where the figure comes from."""

    unit_value: DecimalNumber
    source: Text = "model/experiments.yaml"


class Experiment(Entry):
    """One experiment (module docstring)."""

    name: EntryName
    description: Text | None = None
    unit: UnitDimension
    treated: list[Text]
    control: list[Text] = []
    match: Count | None = None
    start: Month
    before_months: Count = DEFAULT_BEFORE
    after_months: Count | None = None
    metrics: list[KpiId]
    money: dict[Text, Money] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if not self.treated:
            raise ValueError("`treated` names at least one unit")
        if bool(self.control) == (self.match is not None):
            raise ValueError("give the controls either as `control: [...]` or as `match: N`, one of the two")
        if self.match is not None and self.match < 1:
            raise ValueError("`match` chooses at least one control unit")
        both = sorted(set(self.treated) & set(self.control))
        if both:
            raise ValueError(f"{both[0]!r} is both treated and control")
        if self.before_months < 1:
            raise ValueError("`before_months` is at least 1")
        if not self.metrics:
            raise ValueError("`metrics` names at least one KPI")
        stray = sorted(set(self.money) - set(self.metrics))
        if stray:
            raise ValueError(f"`money` names {stray[0]!r}, which is not one of the metrics")
        return self


class ExperimentFile(NamedList[Experiment]):
    """model/experiments.yaml: `experiments:`, a list with unique names."""

    LIST = "experiments"
    KIND = "experiment"
    experiments: list[Experiment] = Field(default_factory=list)


def parse_experiments(data: Any, where: str | Path = FILE, catalog: Any = None) -> ExperimentFile:
    """The experiments of a parsed YAML mapping; metrics are checked against `catalog` (KPI id → Kpi)."""
    context = {"catalog": catalog} if catalog is not None else None
    return ExperimentFile.parse(data, where, context)
