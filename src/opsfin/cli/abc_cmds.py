"""`opsfin abc` (activity-based costing) and `opsfin allocate` (service cost allocations)."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .options import EngineOpt, FormatOpt, FromOpt, OutputFormat, ToOpt, WorkspaceOpt
from .output import err_console, print_rows
from .root import app


@app.command("abc")
def abc_cmd(
    object_: Annotated[str, typer.Option("--object", help="product or customer (cost-to-serve)")] = "product",
    from_: FromOpt = None,
    to: ToOpt = None,
    view: Annotated[str, typer.Option(help="objects (default), pools, activities or assignments")] = "objects",
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
    engine: EngineOpt = None,
) -> None:
    """ABC cost and profitability per product or customer, beside traditional volume-based costing:
    object_id, name, revenue, cogs, gross_margin, abc_cost, abc_profit, traditional_cost,
    traditional_profit, difference (abc_cost − traditional_cost)."""
    ws = workspace.open(ws_path)
    rows = ws.abc(object_, from_, to, view, engine=engine)
    print_rows(rows, fmt, title=f"ABC by {object_} ({view})")


@app.command("allocate")
def allocate_cmd(
    method: Annotated[str, typer.Option(help="direct, step or reciprocal")] = "direct",
    period: Annotated[str | None, typer.Option(help="month to allocate, YYYY-MM")] = None,
    post: Annotated[bool, typer.Option("--post", help="post the allocation journals into gl_entries")] = False,
    view: Annotated[
        str,
        typer.Option(
            help="summary (per cost centre, the default) or flows (every sender → receiver amount per account)"
        ),
    ] = "summary",
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
    engine: Annotated[
        str | None, typer.Option(help="duckdb (default) or spark (preview only: --post is DuckDB)")
    ] = None,
) -> None:
    """Allocate service and support cost centres to production by model/allocations.yaml: preview what
    each cost centre gives and receives (--view flows: every flow), or post balanced journals (one per
    sender, carrying the run id) with --post."""
    from ..errors import UserError
    from ..runs.costing import allocation_result

    if not period:
        raise UserError("--period YYYY-MM is required (e.g. --period 2024-03)")
    ws = workspace.open(ws_path)
    from .users_cmds import cli_actor

    rows, result, status = allocation_result(ws, method, period, post, view, actor=cli_actor(), engine=engine)
    print_rows(rows, fmt, title=f"Allocation {result.run_id} ({view})")
    if status is not None:
        msg = (
            f"{status['run_id']}: already posted; nothing more posted"
            if status["status"] == "already posted"
            else f"{status['run_id']}: posted {status['journals']} journals, {status['entries']} entries"
        )
        err_console.print(msg)
