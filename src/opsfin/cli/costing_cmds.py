"""`opsfin unit-economics`, `opsfin order-costs` and `opsfin value-stream` (docs/unit-economics.md,
docs/value-streams.md). Each only calls the Workspace method, which calls the costing engine."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from . import app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import print_rows

FromOpt = Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")]


@app.command("unit-economics")
def unit_economics_cmd(
    by: Annotated[str | None, typer.Option(help="product (default), family, site, shift, customer; comma-separated")]
    = None,
    scope: Annotated[str, typer.Option(help="product (units sold), warehouse (cost per line picked) or "
                                            "support (cost per ticket)")] = "product",
    from_: FromOpt = None,
    to: ToOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Revenue, actual cost and contribution margin of the units sold, per group; or the cost per line
    picked of each warehouse (--scope warehouse), or the cost per ticket of each support team (--scope support)."""
    ws = workspace.open(ws_path)
    if scope != "product" and by is not None:
        raise UserError(f"--by applies to --scope product only (got --scope {scope})")
    rows = ws.unit_economics(by=by, start=from_, end=to, scope=scope)
    title = {"product": "Unit economics", "warehouse": "Warehouse cost per line picked",
             "support": "Support cost per ticket"}[scope]
    print_rows(_fmt_floats(rows, fmt), fmt, title=title)


@app.command("order-costs")
def order_costs_cmd(
    from_: FromOpt = None,
    to: ToOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Actual cost of each production order (completed in the range, if one is given)."""
    ws = workspace.open(ws_path)
    print_rows(ws.order_costs(start=from_, end=to), fmt, title="Actual order costs")


@app.command("value-stream")
def value_stream_cmd(
    by: Annotated[str, typer.Option(help="family (default) or product")] = "family",
    steps: Annotated[bool, typer.Option("--steps", help="list the non-value-added steps with their cost")] = False,
    from_: FromOpt = None,
    to: ToOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Lead time, value-added time, wait time, process cycle efficiency, cost per unit and the largest
    non-value-added step, per family or product, over the orders completed in the range."""
    ws = workspace.open(ws_path)
    rows = ws.value_stream(by=by, start=from_, end=to, steps=steps)
    print_rows(_fmt_floats(rows, fmt), fmt, title="Non-value-added steps" if steps else "Value streams")


def _fmt_floats(rows, fmt: OutputFormat):
    """Tables show floats to 4 decimals; CSV and JSON keep them whole."""
    if fmt != OutputFormat.table:
        return rows
    records = rows.to_dicts()
    for r in records:
        for k, v in r.items():
            if isinstance(v, float):
                r[k] = f"{v:.4f}"
    return records
