"""`opsfin variance`: the exact, additive bridge from static budget to actual gross margin."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .options import EngineOpt, FormatOpt, OutputFormat, WorkspaceOpt
from .output import print_rows
from .root import app


@app.command("variance")
def variance_cmd(
    from_: Annotated[str | None, typer.Option("--from", help="first month (YYYY-MM or YYYY-MM-01)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last month (YYYY-MM or its last day)")] = None,
    budget: Annotated[
        str | None,
        typer.Option(help="volume_plan version (default: the only one covering the period)"),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="split by product, work_center, machine, shift, supplier or customer"),
    ] = None,
    monthly: Annotated[bool, typer.Option("--monthly", help="one bridge per month")] = False,
    drill: Annotated[str | None, typer.Option(help="print the source rows of this category instead")] = None,
    member: Annotated[str | None, typer.Option(help="with --drill and --by: only this member's rows")] = None,
    engine: EngineOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Variance bridge: static budget → flexible budget → actual gross margin (favourable +, unfavourable −).
    The parts add exactly to `total` = actual gross margin − static-budget gross margin."""
    ws = workspace.open(ws_path)
    result = ws.variance(from_, to, budget, by, monthly=monthly, drill=drill, member=member, engine=engine)
    print_rows(result, fmt, title=f"Source rows of {drill}" if drill else "Variance bridge")
