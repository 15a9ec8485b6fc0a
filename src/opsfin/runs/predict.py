"""`opsfin predict maintenance` and `opsfin eval predict` on a workspace (docs/predict.md "Maintenance
risk", "Backtest"): read the machines' history up to a cut-off and call the pure engines
(opsfin.predict.maintenance_features, failure_cost, maintenance).

Nothing at or after the cut-off is read: readings whose hour starts before it, maintenance events that
started before it (priced only when they also ended before it), operations and shipments up to the day
before it. The contribution per run hour of a work centre is that of the 365 days before the cut-off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl
from polars._typing import SchemaDict

from ..core.periods import parse_day
from ..errors import UserError
from ..predict.failure_cost import machine_costs
from ..predict.maintenance import MONITOR_RISK, fit_risk, maintenance_risk, priced, recommendation, risks
from ..predict.maintenance_features import DAILY_SCHEMA, machine_day_panel
from ..scenarios.reliability import work_center_contribution
from ..scenarios.tradeoffs import unit_contribution
from .tables import reading_tables
from .tradeoffs import History, read_deliveries, read_operations, read_standard_costs, technician_rate

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

CONTRIBUTION_DAYS = 365
MAX_HORIZON_DAYS = 90

DAILY_SQL = """
SELECT machine_id, CAST(hour_start AS DATE) AS day, sum(run_minutes) / 60 AS run_hours,
       sum(planned_minutes) / 60 AS planned_hours, sum(kwh) AS kwh,
       avg(temperature_c) FILTER (WHERE run_minutes > 0) AS temperature_c,
       avg(vibration_mm_s) FILTER (WHERE run_minutes > 0) AS vibration_mm_s
FROM machine_readings WHERE hour_start < ? GROUP BY ALL
"""
EVENTS_SQL = """
SELECT machine_id, kind, start_at, end_at, parts_cost, labor_hours FROM maintenance_events WHERE start_at < ?
"""


def check_horizon(horizon_days: int) -> int:
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise UserError("{param} " + f"{horizon_days} must be between 1 and {MAX_HORIZON_DAYS}", param="horizon-days")
    return horizon_days


def reading_span(ws: WorkspaceFolder) -> tuple[dt.date, dt.date]:
    """The first and last day of the machine readings; a UserError when there are none."""
    got = ws.sql("SELECT CAST(min(hour_start) AS DATE) AS f, CAST(max(hour_start) AS DATE) AS l FROM machine_readings")
    if got["f"][0] is None:
        raise UserError("the workspace has no machine readings to learn breakdown risk from")
    return got["f"][0], got["l"][0]


def read_history(ws: WorkspaceFolder, cutoff: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(daily readings, maintenance events) before `cutoff`."""
    daily = ws.sql(DAILY_SQL, [cutoff]).cast(DAILY_SCHEMA)  # type: ignore[arg-type]
    return daily, ws.sql(EVENTS_SQL, [cutoff])


def read_costs(ws: WorkspaceFolder, events: pl.DataFrame, cutoff: dt.datetime) -> pl.DataFrame:
    """Each machine's breakdown and planned maintenance cost from the events finished before `cutoff`, the
    technicians' rate and the contribution per run hour of the CONTRIBUTION_DAYS before it."""
    last = cutoff.date() - dt.timedelta(days=1)
    window = History(last - dt.timedelta(days=CONTRIBUTION_DAYS - 1), last, [])
    with reading_tables(ws) as t:
        rate = technician_rate(t)
        contribution = unit_contribution(read_deliveries(t, window), read_standard_costs(t))
        per_hour = work_center_contribution(read_operations(t, window), contribution)
    machines = ws.sql("SELECT machine_id, work_center_id FROM machines ORDER BY machine_id")
    return machine_costs(events.filter(pl.col("end_at") < cutoff), machines, rate, per_hour)


def predict_maintenance(
    ws: WorkspaceFolder, as_of: str | dt.date, horizon_days: int = 14, monitor_risk: float = MONITOR_RISK
) -> dict:
    """The maintenance risk result on `as_of` (see opsfin.predict.maintenance.maintenance_risk)."""
    check_horizon(horizon_days)
    day = parse_day(as_of, "--as-of")
    assert day is not None
    first, last = reading_span(ws)
    if not first <= day <= last:
        raise UserError("{param} " + f"{day} is outside the machine readings ({first}..{last})", param="as-of")
    if not 0 <= monitor_risk <= 1:
        raise UserError("{param} must be a probability between 0 and 1", param="monitor-risk", value=monitor_risk)
    cutoff = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    daily, events = read_history(ws, cutoff)
    panel = machine_day_panel(daily, events, day, horizon_days)
    return maintenance_risk(panel, read_costs(ws, events, cutoff), day, horizon_days, monitor_risk)


def backtest_dates(first: dt.date, last: dt.date, horizon_days: int, days: int) -> list[dt.date]:
    """As-of dates every `horizon_days` (their windows tile without overlap) over the `days` before the last
    complete window; the first is kept at least a year after the first reading when the history allows."""
    end = last - dt.timedelta(days=horizon_days)
    start = max(end - dt.timedelta(days=days - 1), first + dt.timedelta(days=min(365, (end - first).days // 2)))
    dates = []
    while end >= start:
        dates.append(end)
        end -= dt.timedelta(days=horizon_days)
    return sorted(dates)


def _breakdowns_after(events: pl.DataFrame, day: dt.date, horizon_days: int) -> dict[str, int]:
    start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    end = start + dt.timedelta(days=horizon_days)
    got = events.filter((pl.col("kind") == "breakdown") & pl.col("start_at").is_between(start, end, closed="left"))
    return dict(got.group_by("machine_id").len().iter_rows())


def backtest_points(
    ws: WorkspaceFolder,
    horizon_days: int = 14,
    days: int = 364,
    monitor_risk: float = MONITOR_RISK,
    say: Callable[[str], None] | None = None,
) -> pl.DataFrame:
    """One row per as-of date and machine: the risk and recommendation of the model trained on what was
    known then, the baseline (breakdowns in the last 30 days), the breakdowns that followed within the
    horizon and the machine's costs. The panel is built once over the whole history: its features only look
    back (tested), and each model is trained only on days whose horizon ends by its as-of date."""
    check_horizon(horizon_days)
    first, last = reading_span(ws)
    daily, events = read_history(ws, dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
    panel = machine_day_panel(daily, events, last, horizon_days)
    rows = []
    for day in backtest_dates(first, last, horizon_days, days):
        if say:
            say(f"as of {day}")
        cutoff = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        costs = {
            r["machine_id"]: r
            for r in read_costs(ws, events.filter(pl.col("start_at") < cutoff), cutoff).iter_rows(named=True)
        }
        today = panel.filter(pl.col("day") == day).sort("machine_id")
        after = _breakdowns_after(events, day, horizon_days)
        for r, risk in zip(today.iter_rows(named=True), risks(fit_risk(panel, day, horizon_days), today), strict=True):
            c = costs.get(r["machine_id"], {})
            shown, expected, planned = priced(risk, c)
            n = after.get(r["machine_id"], 0)
            rows.append((day, r["machine_id"], shown, float(r["breakdowns_30d"]), n, int(n > 0),
                         recommendation(shown, expected, planned, monitor_risk), c.get("breakdown_cost"), planned))  # fmt: skip
    schema: SchemaDict = {"as_of": pl.Date, "machine_id": pl.Utf8, "risk": pl.Float64, "baseline": pl.Float64,
              "breakdowns": pl.Int64, "broke_down": pl.Int64, "recommendation": pl.Utf8,
              "breakdown_cost": pl.Decimal(18, 2), "planned_maintenance_cost": pl.Decimal(18, 2)}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")
