"""`opsfin forecast accuracy` and `opsfin forecast backtest`: how stored demand forecasts did once the
actuals arrived, and rolling-origin backtests on the warehouse's history (docs/forecasting.md
"Accuracy and backtests"). Both register on the `forecast` sub-app of forecast_cmds.py."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from .. import workspace
from ..present.forecast_rows import MEASURE_KINDS, accuracy_json, backtest_json, records
from .forecast_cmds import forecast_app
from .options import Backtest, FormatOpt, OutputFormat, WorkspaceOpt, backtest_options
from .output import console, print_json, print_rows

TABLE_COLUMNS = ("level", "months_ahead", "points", "wape", "mase", "bias", "coverage", "wape_naive", "fva")


def _for_people(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The table's columns; months ahead `all` on the row over every month ahead."""
    return [{c: ("all" if c == "months_ahead" and r[c] is None else r[c]) for c in columns} for r in rows]


def _notes(notes: list[str], fmt: OutputFormat) -> None:
    for note in notes:
        if fmt == OutputFormat.table:
            console.print(f"[dim]{note}[/dim]", highlight=False)
        else:
            sys.stderr.write(f"note: {note}\n")


@forecast_app.command("accuracy")
def accuracy_cmd(
    version: Annotated[str | None, typer.Option("--version", help="one stored version (default: every one)")] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """How each stored forecast version did against the shipments that arrived since its as-of month:
    WAPE, MASE, bias, P10–P90 coverage and the value added over seasonal naive, per level and months ahead."""
    from ..runs.forecast_accuracy import accuracy_report

    report = accuracy_report(workspace.open(ws_path), version)
    rows = records(report.rows)
    if fmt == OutputFormat.json:
        print_json(accuracy_json(report))
        return
    if fmt == OutputFormat.csv:
        if rows:
            print_rows(rows, fmt)
        else:  # the header alone: no version has actuals yet
            from ..forecast.accuracy import ACCURACY_COLUMNS

            sys.stdout.write(",".join(ACCURACY_COLUMNS) + "\n")
        _notes(report.notes, fmt)
        return
    for name in report.versions:
        mine = [r for r in rows if r["version"] == name]
        if mine:
            title = f"Forecast {name}, as of {mine[0]['as_of']:%Y-%m}: accuracy"
            print_rows(_for_people(mine, TABLE_COLUMNS), fmt, title=title, kinds=MEASURE_KINDS)
    _notes(report.notes, fmt)


@forecast_app.command("backtest")
@backtest_options
def backtest_cmd(*, backtest: Backtest) -> None:
    """Rolling-origin backtest of the demand forecast on the warehouse's shipments (no version is stored):
    the accuracy measures per level and months ahead, averaged over the as-of months."""
    from ..runs.forecast import parse_models
    from ..runs.forecast_accuracy import backtest_report

    ws, fmt, horizon = workspace.open(backtest.ws_path), backtest.fmt, backtest.horizon
    result = backtest_report(ws, backtest.origins, horizon, parse_models(backtest.models))
    rows = records(result.summary)
    origin_months = [f"{o:%Y-%m}" for o in result.origins]
    if fmt == OutputFormat.json:
        print_json(backtest_json(result, horizon))
        return
    if fmt == OutputFormat.csv:
        print_rows(rows, fmt)
        _notes(result.notes, fmt)
        return
    columns = TABLE_COLUMNS  # how many origins: the title; csv and json carry the `origins` column
    title = f"Backtest from {', '.join(origin_months)}, {horizon} month{'s' if horizon != 1 else ''} ahead"
    print_rows(_for_people(rows, columns), fmt, title=title, kinds=MEASURE_KINDS)
    _notes(result.notes, fmt)
