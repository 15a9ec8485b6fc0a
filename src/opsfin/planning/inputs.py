"""What a plan is built from (docs/planning.md "The engine"): the one argument of `build_plan` and
`plan_pnl`, and the first part of a scenario's base (opsfin.scenarios.base.BaseCase)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .config import PlanningConfig
from .volumes import Volumes


@dataclass(frozen=True)
class PlanInputs:
    """The warehouse `Tables`, the `volumes` that drive the plan, its `months` (first days of months), the
    planning `config`, and the `budgets`: the versions whose budget_lines give the opex of a planned month
    (the first with lines for it; the run rate otherwise)."""

    tables: Any
    volumes: Volumes
    months: Sequence[dt.date]
    config: PlanningConfig
    budgets: Sequence[str]

    def driven_by(self, volumes: Volumes) -> PlanInputs:
        """The same plan driven by other volumes (a scenario's shocked ones)."""
        return PlanInputs(self.tables, volumes, self.months, self.config, self.budgets)
