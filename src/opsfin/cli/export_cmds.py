"""`opsfin export …`: a sub-app, so each export kind is its own verb (`export parquet`, `export pack`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import err_console, print_rows
from .root import app

export_app = typer.Typer(help="Export the warehouse or results to files.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("parquet")
def export_parquet_cmd(
    directory: Annotated[Path, typer.Argument(help="folder to write <table>.parquet files into (created if missing)")],
    keep_time: Annotated[
        bool,
        typer.Option(
            "--keep-time",
            help="write TIME columns as Parquet TIME (Spark 4.0 cannot read it; the default "
            "writes them as timestamps on 1970-01-01)",
        ),
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Write every canonical table to DIRECTORY/<table>.parquet (readable by Spark, DuckDB, Polars…)."""
    from ..runs.parquet import export_parquet

    ws = workspace.open(ws_path)
    written = export_parquet(ws, directory, keep_time=keep_time)
    rows = [
        {
            "table": w.table,
            "rows": w.rows,
            "bytes": w.bytes,
            "path": w.path.name if fmt == OutputFormat.table else str(w.path),
        }
        for w in written
    ]
    print_rows(rows, fmt, title=f"Parquet export of {ws.path}")
    if fmt == OutputFormat.table:
        err_console.print(
            f"Wrote {len(written)} tables, {sum(w.rows for w in written):,} rows, "
            f"to {Path(directory).expanduser().resolve()}"
        )


class PackFormat(StrEnum):
    xlsx = "xlsx"
    html = "html"


@export_app.command("pack")
def export_pack_cmd(
    period: Annotated[str, typer.Option("--period", help="the month, YYYY-MM")],
    fmt: Annotated[PackFormat, typer.Option("--format", help="xlsx (a workbook) or html (a printable page)")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="file to write (default: pack-YYYY-MM.xlsx|html in the current folder; a folder: that name inside it)",
        ),
    ] = None,
    sites: Annotated[
        str | None,
        typer.Option("--sites", help="only these sites' rows, e.g. P1,P2 (company-level figures left out)"),
    ] = None,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The monthly operations-finance pack: KPIs against guardrails, variances, alerts and open actions."""
    from ..export.pack import build_pack, pack_filename

    name = pack_filename(period, fmt.value)  # checks the period before any work
    scope = tuple(s.strip() for s in sites.split(",")) if sites is not None else None
    ws = workspace.open(ws_path)
    data = build_pack(ws, period, fmt.value, scope)
    target = Path(output).expanduser() if output is not None else Path(name)
    if target.is_dir():
        target = target / name
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise UserError(f"--output {target}: cannot write: {exc.strerror}") from None
    typer.echo(str(target.resolve()))
