"""`opsfin cash predict` (docs/cash.md, "Learned payment behaviour"): parse the options, call
runs/cash.py, print through cli/output.py; how the dates were found goes to stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .cash_app import cash_app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows

HELD = "held: further past due than the supplier was ever paid, expected in a year (P10 tomorrow)"


@cash_app.command("predict")
def cash_predict_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="the day the documents are open at (YYYY-MM-DD)")],
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """When each invoice open at the end of --as-of will be paid: customer invoices at the dates learned
    from how each customer (or, with little history, similar customers) has paid, supplier invoices at
    the company's own paying habit, each with a P10–P90 range. Nothing dated after --as-of is read."""
    import polars as pl

    from ..runs.cash import PREDICTED_COLUMNS, predict_payments

    prediction = predict_payments(workspace.open(ws_path), as_of)
    if fmt == OutputFormat.json:
        print_json(prediction.as_dict())
        return
    print_rows(prediction.rows.select(PREDICTED_COLUMNS), fmt, title=f"Open documents at {prediction.as_of}")
    if fmt == OutputFormat.table:
        held = pl.col("method").str.starts_with("held:")
        how = pl.when(held).then(pl.lit(HELD)).otherwise(pl.col("method")).alias("method")
        methods = prediction.rows.group_by("doc_type", how).len().sort("doc_type", "method")
        for r in methods.to_dicts():
            note(f"{r['len']} {r['doc_type']}: {r['method']}")
