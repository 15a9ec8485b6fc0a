"""`opsfin kpi` and `opsfin bottlenecks`."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..core.dimensions import DIMENSIONS, parse_where
from ..errors import UserError
from ..present import kpi_value_kind
from .options import EngineOpt, FormatOpt, OutputFormat, RangeRead, WorkspaceOpt, range_read
from .output import print_rows
from .root import app


@app.command("kpi")
def kpi_cmd(
    kpis: Annotated[str | None, typer.Argument(help="KPI ids, comma-separated (see --list)")] = None,
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year")] = "month",
    by: Annotated[str | None, typer.Option(help=f"dimensions, comma-separated: {', '.join(DIMENSIONS)}")] = None,
    where: Annotated[list[str] | None, typer.Option(help="filter DIM=VALUE (repeatable; VALUE may list a,b)")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD); clips the first period")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD); clips the last period")] = None,
    engine: EngineOpt = None,
    list_: Annotated[bool, typer.Option("--list", help="show the KPI catalog")] = False,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Compute KPIs by period and dimension: period_start, <by…>, kpi, value, numerator, denominator."""
    ws = workspace.open(ws_path)
    if list_:
        from ..kpis.catalog import catalog_row

        shown = ("id", "name", "unit", "direction", "owner", "dimensions", "formula")
        rows = [
            {c: r[c] for c in shown} | {"dimensions": ", ".join(r["dimensions"]) or "(company)"}
            for r in map(catalog_row, ws.kpi_catalog().values())
        ]
        print_rows(rows, fmt, title="KPI catalog")
        return
    if not kpis:
        raise UserError("name at least one KPI (e.g. `opsfin kpi oee --by site`), or use --list")
    from ..kpis import compute

    dims = [d.strip() for d in by.split(",") if d.strip()] if by else []
    ids = [k.strip() for k in kpis.split(",") if k.strip()]
    catalog = ws.kpi_catalog()
    frames = compute(ws.kpi_tables(engine), ids, grain, dims, parse_where(where), from_, to, catalog=catalog)
    records = [r for f in frames for r in f.to_dicts()]
    # a table shows each value in its KPI's unit (46.7%, 1,234.50, 41.3); CSV and JSON keep every digit
    print_rows(records if records else [], fmt, title="KPIs", kinds={"value": kpi_value_kind(catalog)})


@app.command("bottlenecks")
@range_read
def bottlenecks_cmd(
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year")] = "month",
    *,
    read: RangeRead,
) -> None:
    """The constraint work centre per site and period, its utilization and mean queue wait."""
    ws = workspace.open(read.ws_path)
    print_rows(ws.bottlenecks(grain, read.start, read.end, read.engine), read.fmt, title="Bottlenecks")
