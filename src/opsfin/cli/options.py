"""Options shared by several verbs: one declaration, one help text each."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "-w",
        "--workspace",
        help="workspace folder (default: $OPSFIN_WORKSPACE or the current folder)",
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="how to print the result")]

# a range of days and the engine of a warehouse read (`unit-economics`, `abc`, `bottlenecks`, …)
FromOpt = Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")]
EngineOpt = Annotated[str | None, typer.Option(help="duckdb (default) or spark")]

# the demand forecast's model choice and its backtest (`forecast run`, `forecast backtest`, `eval forecast`)
ModelsOpt = Annotated[str, typer.Option("--models", help="auto, or model names separated by commas")]
OriginsOpt = Annotated[int, typer.Option("--origins", help="how many as-of months to forecast from")]
BacktestHorizonOpt = Annotated[int, typer.Option("--horizon", help="months forecast after each as-of month")]
