"""`opsfin kpi` and `opsfin bottlenecks`."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from . import app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import print_rows


def _where(items: list[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items or []:
        dim, sep, value = item.partition("=")
        if not sep or not dim or not value:
            raise UserError(f"--where {item!r}: use DIM=VALUE (e.g. --where site=P1); repeat for several")
        out.setdefault(dim.strip(), []).extend(v.strip() for v in value.split(","))
    return out


@app.command("kpi")
def kpi_cmd(
    kpis: Annotated[str | None, typer.Argument(help="KPI ids, comma-separated (see --list)")] = None,
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year")] = "month",
    by: Annotated[str | None, typer.Option(help="dimensions, comma-separated: site, work_center, machine, shift, "
                                                  "product, family, customer, supplier, cost_center")] = None,
    where: Annotated[list[str] | None, typer.Option(help="filter DIM=VALUE (repeatable; VALUE may list a,b)")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD); clips the first period")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD); clips the last period")] = None,
    engine: Annotated[str | None, typer.Option(help="duckdb (default) or spark")] = None,
    list_: Annotated[bool, typer.Option("--list", help="show the KPI catalog")] = False,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Compute KPIs by period and dimension: period_start, <by…>, kpi, value, numerator, denominator."""
    ws = workspace.open(ws_path)
    if list_:
        rows = [{"id": k.id, "name": k.name, "unit": k.unit, "direction": k.direction, "owner": k.owner,
                 "dimensions": ", ".join(sorted(k.dims)) or "(company)", "formula": k.formula}
                for k in ws.kpi_catalog().values()]
        print_rows(rows, fmt, title="KPI catalog")
        return
    if not kpis:
        raise UserError("name at least one KPI (e.g. `opsfin kpi oee --by site`), or use --list")
    from ..kpis import compute

    dims = [d.strip() for d in by.split(",") if d.strip()] if by else []
    ids = [k.strip() for k in kpis.split(",") if k.strip()]
    frames = compute(ws.kpi_tables(engine), ids, grain, dims, _where(where), from_, to, catalog=ws.kpi_catalog())
    records = [r for f in frames for r in f.to_dicts()]
    if fmt == OutputFormat.table:
        for r in records:
            if isinstance(r["value"], float):
                r["value"] = f"{r['value']:.4f}"
    print_rows(records if records else [], fmt, title="KPIs")


@app.command("bottlenecks")
def bottlenecks_cmd(
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year")] = "month",
    from_: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")] = None,
    engine: Annotated[str | None, typer.Option(help="duckdb (default) or spark")] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The constraint work centre per site and period, its utilization and mean queue wait."""
    ws = workspace.open(ws_path)
    print_rows(ws.bottlenecks(grain, from_, to, engine), fmt, title="Bottlenecks")
