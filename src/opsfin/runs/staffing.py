"""`opsfin plan staffing` (docs/predict.md "Staffing roster"): read the workspace's employees, shifts,
history and guardrail, build the demand, solve the roster (opsfin.predict.staffing) and price it beside
the baseline, the same weeks staffed as the timesheets show the company staffing them."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from ..core.periods import parse_day
from ..errors import UserError
from ..predict.staffing import ROSTER_COLUMNS, StaffingRules, roster_cost, solve_roster
from ..predict.staffing_demand import (
    expand,
    production_pattern,
    scale_to_plan,
    support_pattern,
    warehouse_pattern,
)
from .model import load_guardrails

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

HISTORY_WEEKS = 8  # the run rate and the contracts are read from this many weeks before the roster
SERVICE_LEVEL = 0.8  # support: the share of tickets taken up within ANSWER_MINUTES
ANSWER_MINUTES = 30.0

# employees a roster places: those of a work centre, of a warehouse team or of a support team
EMPLOYEES_SQL = """
SELECT e.employee_id, e.site_id, coalesce(e.work_center_id, e.cost_center_id) AS work_center_id,
       e.hourly_rate, e.overtime_multiplier, median(w.regular) AS contracted_weekly_hours
FROM employees e
JOIN cost_centers c ON c.cost_center_id = e.cost_center_id
JOIN (SELECT employee_id, date_trunc('week', work_date) AS week, sum(regular_hours) AS regular
      FROM timesheets WHERE work_date >= ? AND work_date < ? GROUP BY ALL) w ON w.employee_id = e.employee_id
WHERE e.work_center_id IS NOT NULL OR c.kind IN ('warehouse', 'support')
GROUP BY ALL ORDER BY e.employee_id
"""


def _history(ws: WorkspaceFolder, start: dt.date) -> tuple[dt.date, dt.date]:
    """[first, end) of the history weeks: the HISTORY_WEEKS before `start`, or before the last timesheet."""
    last = ws.sql("SELECT max(work_date) AS d FROM timesheets")["d"][0]
    if last is None:
        raise UserError("the workspace has no timesheets to learn the run rate and the baseline from")
    end = min(start, last + dt.timedelta(days=1))
    return end - dt.timedelta(weeks=HISTORY_WEEKS), end


def _demand(
    ws: WorkspaceFolder, days: list[dt.date], first: dt.date, end: dt.date, version: str | None
) -> pl.DataFrame:
    shifts = ws.sql("SELECT * FROM shifts")
    ops = ws.sql(
        "SELECT w.site_id, o.work_center_id, o.shift_id, o.start_at, o.labor_minutes, o.setup_minutes + o.run_minutes AS machine_minutes "
        "FROM operations o JOIN work_centers w USING (work_center_id) WHERE o.start_at >= ? AND o.start_at < ?",
        [first, end],
    )
    tasks = ws.sql(
        "SELECT site_id, started_at, finished_at FROM warehouse_tasks WHERE started_at >= ? AND started_at < ?",
        [first, end],
    )
    teams = ws.sql(
        "SELECT site_id, min(cost_center_id) AS work_center_id FROM cost_centers WHERE kind = 'warehouse' GROUP BY ALL"
    )
    tickets = ws.sql(
        "SELECT c.site_id, t.cost_center_id AS work_center_id, t.opened_at, t.handling_minutes FROM support_tickets t "
        "JOIN cost_centers c USING (cost_center_id) WHERE t.opened_at >= ? AND t.opened_at < ?",
        [first, end],
    )
    production = expand(production_pattern(ops, HISTORY_WEEKS), days)
    if version is not None:
        plan = ws.sql("SELECT work_center_id, period, required_hours FROM plan_capacity WHERE version = ?", [version])
        if plan.is_empty():
            raise UserError(
                "{param} " + f"{version!r} has no capacity rows; build it with `opsfin plan build`", param="version"
            )
        run_rate = ops.group_by("work_center_id").agg(
            hours_per_day=pl.col("machine_minutes").sum() / 60 / (7 * HISTORY_WEEKS)
        )
        production = scale_to_plan(production, run_rate, plan)
    parts = [
        production,
        expand(warehouse_pattern(tasks, shifts, teams, HISTORY_WEEKS), days),
        expand(support_pattern(tickets, shifts, HISTORY_WEEKS, SERVICE_LEVEL, ANSWER_MINUTES), days),
    ]
    return pl.concat([p.with_columns(pl.col("required_hours").cast(pl.Float64)) for p in parts])


def _baseline(ws: WorkspaceFolder, employees: pl.DataFrame, days: list[dt.date]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The timesheets of the roster's days, or, where they are not booked yet, the last weeks booked laid
    over the roster's days (moved by whole weeks, so each weekday stays a weekday); and their staff: the
    roster's employees and anyone hired since who booked those weeks."""
    last = ws.sql("SELECT max(work_date) AS d FROM timesheets")["d"][0]
    shift_weeks = 0 if last >= days[-1] else -(-(days[-1] - last).days // 7)
    source_first = days[0] - dt.timedelta(weeks=shift_weeks)
    rows = ws.sql(
        "SELECT employee_id, work_date + ?::INTEGER * 7 AS date, shift_id, regular_hours AS hours, overtime_hours "
        "FROM timesheets WHERE work_date >= ? AND work_date < ?",
        [shift_weeks, source_first, source_first + dt.timedelta(days=len(days))],
    )
    end = source_first + dt.timedelta(days=len(days))
    staff = pl.concat([employees, ws.sql(EMPLOYEES_SQL, [source_first, end])]).unique("employee_id", keep="first")
    unit = staff.select("employee_id", "work_center_id")
    return rows.join(unit, on="employee_id").select(ROSTER_COLUMNS).sort("employee_id", "date"), staff


def _rules(ws: WorkspaceFolder, time_limit: float | None) -> StaffingRules:
    rules = StaffingRules()
    for guardrail in load_guardrails(ws.model_dir):
        if guardrail.kpi == "overtime_share" and guardrail.max is not None:
            rules = replace(rules, overtime_share_max=guardrail.max)
            break
    return replace(rules, time_limit_seconds=time_limit) if time_limit else rules


def plan_staffing(
    ws: WorkspaceFolder, start: str, weeks: int = 4, version: str | None = None, time_limit: float | None = None
) -> dict[str, Any]:
    """The roster JSON of docs/predict.md: roster, coverage, cost, baseline, saving and solver."""
    first_day = parse_day(start, "--from")
    assert first_day is not None
    if not 1 <= weeks <= 8:
        raise UserError("give 1 to 8 weeks", param="weeks", value=weeks)
    days = [first_day + dt.timedelta(days=i) for i in range(7 * weeks)]
    history_first, history_end = _history(ws, first_day)
    employees = ws.sql(EMPLOYEES_SQL, [history_first, history_end])
    if employees.is_empty():
        raise UserError(
            f"no employee of a work centre or team has timesheets in the {HISTORY_WEEKS} weeks before {history_end}"
        )
    demand = _demand(ws, days, history_first, history_end, version)
    started = time.perf_counter()
    before = ws.sql(
        "SELECT employee_id, work_date AS date, shift_id, overtime_hours FROM timesheets WHERE work_date >= ? AND work_date < ?",
        [days[0] - dt.timedelta(days=StaffingRules.max_days_in_row), days[0]],
    )
    shifts = ws.sql("SELECT * FROM shifts")
    solved = solve_roster(employees, shifts, demand, days, _rules(ws, time_limit), before)
    coverage, cost = roster_cost(solved.roster, employees, demand)
    baseline_roster, baseline_staff = _baseline(ws, employees, days)
    _, baseline = roster_cost(baseline_roster, baseline_staff, demand)
    base_overtime = float(baseline_roster["overtime_hours"].sum())
    return {
        "from": days[0],
        "to": days[-1],
        "demand": f"plan {version}" if version else f"run rate of the {HISTORY_WEEKS} weeks before {history_end}",
        "roster": solved.roster.to_dicts(),
        "coverage": coverage.to_dicts(),
        "cost": cost,
        "baseline": baseline,
        "saving": {
            "cost": baseline["total"] - cost["total"],
            "overtime_hours_avoided": round(base_overtime - float(solved.roster["overtime_hours"].sum()), 2),
            "idle_hours_avoided": round(baseline["idle_hours"] - cost["idle_hours"], 2),
            "uncovered_hours_avoided": round(baseline["uncovered_hours"] - cost["uncovered_hours"], 2),
        },
        "solver": {
            "status": solved.status,
            "gap": round(solved.gap, 4),
            "seconds": round(time.perf_counter() - started, 1),
            "employees": employees.height,
        },
    }
