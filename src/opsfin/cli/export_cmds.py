"""`opsfin export …`: a sub-app, so each export kind is its own verb (`export parquet`, later `export pack`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import workspace
from . import app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import err_console, print_rows

export_app = typer.Typer(help="Export the warehouse or results to files.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("parquet")
def export_parquet_cmd(
    directory: Annotated[Path, typer.Argument(help="folder to write <table>.parquet files into (created if missing)")],
    keep_time: Annotated[bool, typer.Option(
        "--keep-time", help="write TIME columns as Parquet TIME (Spark 4.0 cannot read it; the default "
                            "writes them as timestamps on 1970-01-01)")] = False,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Write every canonical table to DIRECTORY/<table>.parquet (readable by Spark, DuckDB, Polars…)."""
    from ..export.parquet import export_parquet

    ws = workspace.open(ws_path)
    written = export_parquet(ws, directory, keep_time=keep_time)
    rows = [{"table": w.table, "rows": w.rows, "bytes": w.bytes,
             "path": w.path.name if fmt == OutputFormat.table else str(w.path)} for w in written]
    print_rows(rows, fmt, title=f"Parquet export of {ws.path}")
    if fmt == OutputFormat.table:
        err_console.print(f"Wrote {len(written)} tables, {sum(w.rows for w in written):,} rows, "
                          f"to {Path(directory).expanduser().resolve()}")
