"""`opsfin plan staffing`: a roster optimised against demand, priced beside how the timesheets staff the
same weeks (docs/predict.md "Staffing roster"). Parses its options, calls runs/staffing.py, prints."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .. import workspace
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows
from .plan_app import plan_app


def _comparison(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per cost figure: the roster, the baseline and what the roster saves."""
    rows = []
    for key in ("total", "regular", "overtime", "uncovered_hours", "idle_hours"):
        roster, baseline = result["cost"][key], result["baseline"][key]
        rows.append({"figure": key, "roster": roster, "baseline": baseline, "difference": baseline - roster})
    return rows


@plan_app.command("staffing")
def plan_staffing_cmd(
    start: Annotated[str, typer.Option("--from", help="the roster's first day (YYYY-MM-DD)")],
    weeks: Annotated[int, typer.Option("--weeks", help="how many weeks to roster (1-8)")] = 4,
    version: Annotated[
        str | None, typer.Option("--version", help="a plan version whose capacity sets production demand")
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds CP-SAT may search")] = 40.0,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Roster the work centres, warehouse and support teams with CP-SAT: one shift a day, 11 h rest, at most
    6 days in a row, contracted hours, overtime within the guardrail; labour cost plus a penalty per
    uncovered hour. JSON: roster, coverage, cost, baseline, saving, solver; CSV: the roster rows."""
    from ..runs.staffing import plan_staffing

    result = plan_staffing(workspace.open(ws_path), start, weeks, version, time_limit)
    if fmt == OutputFormat.json:
        print_json(result)
        return
    if fmt == OutputFormat.csv:
        print_rows(result["roster"], fmt)
        return
    print_rows(_comparison(result), fmt, title=f"Roster {result['from']}..{result['to']} against the timesheets")
    saving, solver = result["saving"], result["solver"]
    note(
        f"{len(result['roster'])} shifts for {solver['employees']} employees; demand: {result['demand']}; "
        f"saves {saving['cost']} with {saving['overtime_hours_avoided']} overtime hours and "
        f"{saving['idle_hours_avoided']} idle hours avoided; CP-SAT {solver['status']}, gap {solver['gap']:.1%}, "
        f"{solver['seconds']} s; the roster itself: --format csv or json",
    )
