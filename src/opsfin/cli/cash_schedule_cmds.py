"""`opsfin cash schedule` (docs/cash.md, "Production scheduled around cash"): parse the options, call
`runs/cash_schedule.py`, print through cli/output.py; the problems and the solver's status go to stderr."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from .. import workspace
from .cash_app import cash_app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows

FIGURE_KINDS = {"late_orders": "count", "late_days": "count", "feasible": "text", "gap": "ratio"}


def _figure_kind(row: Mapping[str, Any]) -> str:
    return FIGURE_KINDS.get(row["figure"], "money")


@cash_app.command("schedule")
def cash_schedule_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="the day the schedule starts after (YYYY-MM-DD)")],
    weeks: Annotated[int, typer.Option("--weeks", help="weeks of days to schedule")] = 4,
    min_cash: Annotated[
        str | None, typer.Option("--min-cash", help="keep the closing cash at least this (base currency)")
    ] = None,
    rate: Annotated[str, typer.Option("--rate", help="yearly overdraft interest (8% or 0.08)")] = "8%",
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds the solver may take")] = 30.0,
    solver: Annotated[str, typer.Option("--solver", help="SCIP (default), CBC or HIGHS")] = "SCIP",
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Schedule the open and planned production orders over the next weeks by a MILP: capacity per work
    centre and day, material lead times and due dates; material paid on supplier terms and sales collected
    at learned dates, so the cash follows from the schedule. Minimises lateness, overdraft interest and
    holding cost with the cash kept at or above --min-cash where it can be; compared with earliest due date."""
    from ..runs.cash_schedule import OBJECTIVE_FIGURES, schedule_cash

    result = schedule_cash(workspace.open(ws_path), as_of, weeks, min_cash, rate, time_limit, solver)
    for line in result.problems:
        note(f"warning: {line}")
    note(f"solver: {result.status} in {result.solve_seconds:.1f} s")
    if fmt == OutputFormat.json:
        print_json(result.as_dict())
        return
    print_rows(result.orders, fmt, title=f"Production scheduled after {result.as_of}")
    if fmt == OutputFormat.csv:
        return
    rows = [
        {"figure": k, "schedule": result.objective[k], "baseline (EDD)": result.baseline[k]} for k in OBJECTIVE_FIGURES
    ]
    kinds = {"schedule": _figure_kind, "baseline (EDD)": _figure_kind}
    print_rows(rows, fmt, title="Cost of the schedule against earliest due date", kinds=kinds)
    low, floor = result.objective["cash_low_point"], min_cash
    if floor is not None and not result.objective["feasible"]:
        note(f"the cash cannot be kept at {floor}: its low point is {low}")
