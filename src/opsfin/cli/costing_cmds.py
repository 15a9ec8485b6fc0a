"""`opsfin unit-economics`, `opsfin order-costs` and `opsfin value-stream` (docs/unit-economics.md,
docs/value-streams.md). Each only calls the Workspace method, which calls the costing engine; a table
shows figures in their unit (docs/presentation.md), CSV and JSON keep every digit."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import RangeRead, range_read
from .output import print_rows
from .root import app


@app.command("unit-economics")
@range_read
def unit_economics_cmd(
    by: Annotated[
        str | None,
        typer.Option(help="product (default), family, site, shift, customer; comma-separated"),
    ] = None,
    scope: Annotated[
        str,
        typer.Option(help="product (units sold), warehouse (cost per line picked) or support (cost per ticket)"),
    ] = "product",
    *,
    read: RangeRead,
) -> None:
    """Revenue, actual cost and contribution margin of the units sold, per group; or the cost per line
    picked of each warehouse (--scope warehouse), or the cost per ticket of each support team (--scope support)."""
    ws = workspace.open(read.ws_path)
    if scope != "product" and by is not None:
        raise UserError(f"--by applies to --scope product only (got --scope {scope})")
    rows = ws.unit_economics(by=by, start=read.start, end=read.end, scope=scope, engine=read.engine)
    title = {
        "product": "Unit economics",
        "warehouse": "Warehouse cost per line picked",
        "support": "Support cost per ticket",
    }[scope]
    print_rows(rows, read.fmt, title=title)


@app.command("order-costs")
@range_read
def order_costs_cmd(*, read: RangeRead) -> None:
    """Actual cost of each production order (completed in the range, if one is given)."""
    ws = workspace.open(read.ws_path)
    rows = ws.order_costs(start=read.start, end=read.end, engine=read.engine)
    print_rows(rows, read.fmt, title="Actual order costs")


@app.command("value-stream")
@range_read
def value_stream_cmd(
    by: Annotated[str, typer.Option(help="family (default) or product")] = "family",
    steps: Annotated[bool, typer.Option("--steps", help="list the non-value-added steps with their cost")] = False,
    *,
    read: RangeRead,
) -> None:
    """Lead time, value-added time, wait time, process cycle efficiency, cost per unit and the largest
    non-value-added step, per family or product, over the orders completed in the range."""
    ws = workspace.open(read.ws_path)
    rows = ws.value_stream(by=by, start=read.start, end=read.end, steps=steps, engine=read.engine)
    print_rows(rows, read.fmt, title="Non-value-added steps" if steps else "Value streams")
