"""`model/planning.yaml`: the settings of the plan engine (docs/planning.md "Configuration").

Parsing and validation only; the engine takes a `PlanningConfig`. The I/O layer reads a workspace's file
(opsfin.runs.planning); without the file the shipped default (opsfin/model_defaults/planning.yaml) applies.
Unknown keys are refused and a bad value is one line naming the file and the key (model_schema.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, Strict

from ..model_defaults import default_text
from ..model_schema import DecimalNumber, Entry, parse_yaml, validate
from .operations_config import BalancesConfig, OperationsConfig

FILE = "planning.yaml"

#: a variance rate: a share of COGS at standard, −100 % … +100 %
Rate = Annotated[DecimalNumber, Field(ge=Decimal(-1), le=Decimal(1))]
Months = Annotated[int, Strict(), Field(ge=1, le=36)]


class VarianceRates(Entry):
    """Expected manufacturing variances as a share of the month's COGS at standard: `rate` for every site,
    `by_site` for the sites that differ. 0 (the default) plans no variances."""

    rate: Rate = Decimal(0)
    by_site: dict[str, Rate] = {}

    def for_site(self, site_id: str | None) -> Decimal:
        """The rate of `site_id` (its own, else the company's)."""
        return self.by_site.get(site_id, self.rate) if site_id is not None else self.rate


class OpexConfig(Entry):
    """Where the plan's operating expenses come from when the version has no `budget_lines` for a month:
    the average of the GL's opex roles over the `run_rate_months` months before the plan starts."""

    run_rate_months: Months = 3


class PlanningConfig(Entry):
    """model/planning.yaml."""

    variances: VarianceRates = VarianceRates()
    opex: OpexConfig = OpexConfig()
    #: months of actual shipments before the plan that split a product's planned volume over its selling
    #: sites (a version without a site split of its own)
    site_mix_months: Months = 12
    operations: OperationsConfig = OperationsConfig()
    balances: BalancesConfig = BalancesConfig()


def parse_planning_config(data: dict | None, where: str | Path = FILE) -> PlanningConfig:
    """A `PlanningConfig` from a parsed YAML mapping; a mistake is one UserError naming `where`, the key and
    the value."""
    return validate(PlanningConfig, data or {}, where)


def default_planning_config() -> PlanningConfig:
    """The shipped default, opsfin/model_defaults/planning.yaml."""
    return parse_planning_config(parse_yaml(default_text(FILE), "default planning.yaml"))
