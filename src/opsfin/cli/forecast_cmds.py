"""`opsfin forecast …`: forecast a file of series, or the demand of the warehouse stored as a plan version
(docs/forecasting.md). Each command parses its options, calls `runs/` or the Workspace, and prints through
cli/output.py: CSV and JSON keep every digit, a table is for reading."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import workspace
from ..core.numbers import plain_text
from ..errors import UserError
from .options import ModelsOpt, OutputFormat, WorkspaceOpt
from .output import dumps, err_console, note, print_json, print_rows, warn
from .root import app

forecast_app = typer.Typer(
    help="Forecasts: a file of series, or the demand of the warehouse stored as a plan version.",
    no_args_is_help=True,
)
app.add_typer(forecast_app, name="forecast")

FormatChoice = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="table, csv or json (default: table on screen, csv into --output)"),
]
LevelOpt = Annotated[int, typer.Option("--level", help="interval level in % (80: p10 … p90)")]
EngineChoice = Annotated[
    str | None,
    typer.Option("--engine", help="local (default: this machine) or spark (the forecasts run as Spark tasks)"),
]
SERIES_COLUMNS = ("unique_id", "ds", "model", "yhat", "lo", "hi")


def _csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([plain_text(r.get(c)) for c in columns])  # every digit, dates YYYY-MM-DD
    return buf.getvalue()


def _chosen_format(fmt: OutputFormat | None, output: Path | None) -> OutputFormat:
    if output is None:
        return fmt or OutputFormat.table
    if fmt == OutputFormat.table:
        raise UserError(
            "a table is for the screen; write --output as --format csv or json", param="format", value="table"
        )
    return fmt or OutputFormat.csv


@forecast_app.command("series")
def series_cmd(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file with the columns unique_id, ds, y")],
    horizon: Annotated[int, typer.Option("--horizon", help="steps to forecast")],
    freq: Annotated[str, typer.Option("--freq", help="MS (months), QS (quarters), W (weeks), D (days)")] = "MS",
    season_length: Annotated[
        int | None, typer.Option("--season-length", help="steps per season (default: 12 for MS, 4 QS, 52 W, 7 D)")
    ] = None,
    level: LevelOpt = 80,
    models: ModelsOpt = "auto",
    output: Annotated[Path | None, typer.Option("--output", help="write here instead of standard output")] = None,
    fmt: FormatChoice = None,
    engine: EngineChoice = None,
) -> None:
    """Forecast every series of a file: one row per series and step (unique_id, ds, model, yhat, lo, hi).
    Rows that cannot be used are skipped and counted on stderr with their row and column."""
    from ..forecast import ForecastConfig
    from ..ingest.series_files import read_series_file
    from ..runs.forecast import check_engine, forecaster, parse_models

    run = forecaster(check_engine(engine))
    chosen = _chosen_format(fmt, output)
    config = ForecastConfig(
        horizon=horizon, freq=freq, season_length=season_length, level=level, models=parse_models(models)
    )
    read = read_series_file(file, config.freq)
    if read.skipped:
        warn([f"skipped {read.rows_skipped} of {read.rows_read} rows of {file.name}:", *read.warnings()])
    result = run(read.series, config)
    warn(list(result.problems))
    import pandas as pd

    forecasts = result.forecasts[list(SERIES_COLUMNS)].copy()
    forecasts["ds"] = pd.to_datetime(forecasts["ds"]).dt.date  # written YYYY-MM-DD
    rows = forecasts.to_dict("records")
    if chosen == OutputFormat.table:
        title = f"Forecast of {file.name}: {forecasts['unique_id'].nunique()} series × {horizon} steps"
        print_rows(rows, chosen, title=title)
        return
    text = _csv_text(rows, SERIES_COLUMNS) if chosen == OutputFormat.csv else dumps(rows) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        note(f"wrote {len(rows)} rows to {output}")


@forecast_app.command("demand")
def demand_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="last month of history read (YYYY-MM)")],
    version: Annotated[str, typer.Option("--version", help="name of the plan version to store (a new name)")],
    horizon: Annotated[int, typer.Option("--horizon", help="months to forecast after --as-of")] = 18,
    models: ModelsOpt = "auto",
    level: LevelOpt = 80,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="how to print the result")] = OutputFormat.table,
    engine: EngineChoice = None,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Forecast shipped quantity per product × site × month, reconcile it over product → family → total and
    site → total, and store it as a plan version (forecast_values, forecast_versions, volume_plan)."""
    from .users_cmds import cli_actor

    ws = workspace.open(ws_path)
    stored = ws.forecast_demand(as_of, version, horizon, models, level, actor=cli_actor(), engine=engine)
    warn(stored.forecast.problems)
    rows = stored.values
    if fmt == OutputFormat.json:
        print_json({"version": stored.version, "as_of": f"{stored.forecast.as_of:%Y-%m}", "rows": rows})
    elif fmt == OutputFormat.csv:
        sys.stdout.write(_csv_text(rows, ["period", "level", "key", "p10", "p50", "p90", "model"]))
    else:
        _demand_table(stored, rows)


def _demand_table(stored: Any, rows: list[dict[str, Any]]) -> None:
    from ..forecast.demand import family_totals

    summary = family_totals(rows)
    kinds = {c: "quantity" for r in summary for c in r if c != "period"}
    title = f"Demand forecast {stored.version}: p50 by family (as of {stored.forecast.as_of:%Y-%m})"
    print_rows(summary, OutputFormat.table, title=title, kinds=kinds)
    counts = {level: len({r["key"] for r in rows if r["level"] == level}) for level in ("product", "site")}
    members = ", ".join(f"{n} {level}{'' if n == 1 else 's'}" for level, n in counts.items())
    err_console.print(
        f"stored version {stored.version}: {len(rows)} forecast_values rows ({members}; reconciled by "
        f"{stored.forecast.reconciler}), "
        f"{len(stored.rows['volume_plan'])} volume_plan rows; --format csv lists every row",
        markup=False,
        highlight=False,
    )
