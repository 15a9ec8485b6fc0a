"""Production scheduled around cash on a workspace (docs/cash.md, "Production scheduled around cash"):
parse the options, read model/planning.yaml's operations settings (the calendars and availability the plan
uses), open the warehouse tables and call the pure engine `opsfin.cash.schedule`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ..cash.levers import parse_rate
from ..cash.schedule import CashSchedule, schedule_production
from ..cash.schedule_inputs import ScheduleConfig
from ..errors import UserError
from .cash_forecast import as_of_day, check_weeks
from .planning import load_planning_config
from .tables import reading_tables

if TYPE_CHECKING:
    import datetime as dt

    from ..workspace_folder import WorkspaceFolder

OBJECTIVE_FIGURES = (
    "total",
    "lateness_cost",
    "financing_cost",
    "holding_cost",
    "late_orders",
    "late_days",
    "cash_low_point",
    "feasible",
    "gap",
)
"""The schedule's figures beside the baseline's, in the order the CLI, the web page and the benchmark show them."""


def schedule_cash(
    ws: WorkspaceFolder,
    as_of: str | dt.date,
    weeks: int = 4,
    min_cash: str | None = None,
    rate: str = "8%",
    time_limit_s: float = 30.0,
    solver: str = "SCIP",
) -> CashSchedule:
    """The cash-aware schedule of the orders of `weeks` weeks after `as_of`, and its baseline."""
    day = as_of_day(as_of)
    config = ScheduleConfig(
        weeks=check_weeks(weeks),
        min_cash=None if min_cash is None else _amount(min_cash),
        overdraft_rate=parse_rate(rate),
        time_limit_s=_time_limit(time_limit_s),
        solver=solver,
    )
    operations = load_planning_config(ws.model_dir).operations
    with reading_tables(ws) as t:
        return schedule_production(t, day, config, operations)


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise UserError("{param} " + f"{text!r}: an amount (200000 or -50000.50)", param="min_cash", value=text)
    return value


def _time_limit(seconds: float) -> float:
    if not 0 < seconds <= 3600:
        raise UserError("{param} " + f"{seconds}: seconds from 1 to 3600", param="time_limit", value=str(seconds))
    return seconds
