"""The rolling re-forecast (`opsfin plan roll --as-of YYYY-MM`, docs/planning.md "Rolling forecast").

`fc-YYYY-MM` is built through the same engine as any plan: the closed months of the as-of year (January to
the as-of month) from the actual volumes — revenue and COGS as booked, variances and opex from the GL —
then a fresh demand forecast (`fc-YYYY-MM-demand`, stored by runs.forecast like `opsfin forecast demand`)
for the 18 months after the as-of month, which covers the rest of the year. A demand version already
stored under that name (a roll run again) is reused: a stored forecast is never overwritten."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from ..core.periods import add_months, parse_month
from ..planning.config import PlanningConfig
from ..planning.volumes import Volumes, actual_volumes, version_volumes
from .planning import BuiltPlan, Progress, build_plan_version, month_range

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

HORIZON = 18


def roll_names(as_of: dt.date) -> tuple[str, str]:
    """(the plan version, its demand forecast version): `fc-2025-06`, `fc-2025-06-demand`."""
    name = f"fc-{as_of:%Y-%m}"
    return name, f"{name}-demand"


def _stored_forecast(ws: WorkspaceFolder, version: str) -> bool:
    with ws.connect(read_only=True) as con:
        present = con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'forecast_versions'"
        ).fetchall()
        if not present:
            return False
        return bool(con.execute("SELECT 1 FROM forecast_versions WHERE version = ?", [version]).fetchall())


def roll_forecast(
    ws: WorkspaceFolder,
    as_of: str | dt.date,
    actor: str = "python",
    models: str = "auto",
    horizon: int = HORIZON,
    progress: Progress | None = None,
) -> BuiltPlan:
    """Build `fc-<as-of>`: actuals January..as-of, then the demand forecast for `horizon` months."""
    month = as_of if isinstance(as_of, dt.date) else parse_month(as_of, "--as-of")
    month = month.replace(day=1)
    version, demand = roll_names(month)
    from ..forecast.demand import check_as_of
    from .plan_versions import ensure_writable
    from .tables import reading_tables

    with reading_tables(ws) as t:
        check_as_of(t, month)  # a month the shipments have not reached is refused before anything is written
    # refused before the forecast is made, not after; a new fc-YYYY-MM is registered with its as_of month
    ensure_writable(ws, version, "forecast", actor, based_on=demand, as_of=month)
    if not _stored_forecast(ws, demand):
        if progress:
            progress(f"demand forecast {demand} (as of {month:%Y-%m}, {horizon} months)")
        from .forecast import forecast_demand

        forecast_demand(ws, month, demand, horizon=horizon, models=models, actor=actor)
    actual = month_range(month.replace(month=1), month)
    ahead = month_range(add_months(month, 1), add_months(month, horizon))

    def volumes(t: Any, _months: list[dt.date], config: PlanningConfig) -> Volumes:
        booked = actual_volumes(t, actual, ws.settings.base_currency)
        return booked.then(version_volumes(t, demand, ahead, config.site_mix_months))

    built = build_plan_version(
        ws, version, demand, kind="forecast", actor=actor, progress=progress, volumes=volumes, months=actual + ahead
    )
    return dataclasses.replace(built, volumes=f"actual {actual[0]:%Y-%m}..{actual[-1]:%Y-%m} + {demand}")
