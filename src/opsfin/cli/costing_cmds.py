"""`opsfin unit-economics`, `opsfin order-costs` and `opsfin value-stream` (docs/unit-economics.md,
docs/value-streams.md). Each only calls the Workspace method, which calls the costing engine; a table
shows figures in their unit (docs/presentation.md), CSV and JSON keep every digit."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import EngineOpt, FormatOpt, FromOpt, OutputFormat, ToOpt, WorkspaceOpt
from .output import print_rows
from .root import app


@app.command("unit-economics")
def unit_economics_cmd(
    by: Annotated[
        str | None,
        typer.Option(help="product (default), family, site, shift, customer; comma-separated"),
    ] = None,
    scope: Annotated[
        str,
        typer.Option(help="product (units sold), warehouse (cost per line picked) or support (cost per ticket)"),
    ] = "product",
    from_: FromOpt = None,
    to: ToOpt = None,
    engine: EngineOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Revenue, actual cost and contribution margin of the units sold, per group; or the cost per line
    picked of each warehouse (--scope warehouse), or the cost per ticket of each support team (--scope support)."""
    ws = workspace.open(ws_path)
    if scope != "product" and by is not None:
        raise UserError(f"--by applies to --scope product only (got --scope {scope})")
    rows = ws.unit_economics(by=by, start=from_, end=to, scope=scope, engine=engine)
    title = {
        "product": "Unit economics",
        "warehouse": "Warehouse cost per line picked",
        "support": "Support cost per ticket",
    }[scope]
    print_rows(rows, fmt, title=title)


@app.command("order-costs")
def order_costs_cmd(
    from_: FromOpt = None,
    to: ToOpt = None,
    engine: EngineOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Actual cost of each production order (completed in the range, if one is given)."""
    ws = workspace.open(ws_path)
    print_rows(ws.order_costs(start=from_, end=to, engine=engine), fmt, title="Actual order costs")


@app.command("value-stream")
def value_stream_cmd(
    by: Annotated[str, typer.Option(help="family (default) or product")] = "family",
    steps: Annotated[bool, typer.Option("--steps", help="list the non-value-added steps with their cost")] = False,
    from_: FromOpt = None,
    to: ToOpt = None,
    engine: EngineOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Lead time, value-added time, wait time, process cycle efficiency, cost per unit and the largest
    non-value-added step, per family or product, over the orders completed in the range."""
    ws = workspace.open(ws_path)
    rows = ws.value_stream(by=by, start=from_, end=to, steps=steps, engine=engine)
    print_rows(rows, fmt, title="Non-value-added steps" if steps else "Value streams")
