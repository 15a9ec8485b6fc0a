"""`opsfin plan build|show|roll`: build a plan version from volumes, read it back, compare it, and roll a
forecast forward (docs/planning.md). Each verb parses its options, calls `runs/`, and prints through
cli/output.py and present/plan_rows.py; progress goes to stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows, step, warn
from .plan_app import plan_app

VolumesOpt = Annotated[
    str,
    typer.Option("--volumes", help="`actual` (the shipments and invoices) or a version with volume_plan rows"),
]
MonthFrom = Annotated[str | None, typer.Option("--from", help="first month (YYYY-MM; default: the volumes' first)")]
MonthTo = Annotated[str | None, typer.Option("--to", help="last month (YYYY-MM; default: the volumes' last)")]
KindOpt = Annotated[str, typer.Option("--kind", help="budget, forecast or scenario (a new version's kind)")]


def _summary(built, fmt: OutputFormat) -> None:
    """What a build stored: JSON for programs, a line per table and the opex sources for people."""
    summary = {
        "version": built.version,
        "volumes": built.volumes,
        "from": f"{built.months[0]:%Y-%m}",
        "to": f"{built.months[-1]:%Y-%m}",
        "rows": built.rows,
        "opex": {f"{m:%Y-%m}": s for m, s in built.result.opex_sources.items()},
        "problems": built.problems,
        "seconds": round(built.seconds, 2),
    }
    if fmt == OutputFormat.json:
        print_json(summary)
        return
    warn(built.problems)
    rows = [{"table": name, "rows": n} for name, n in built.rows.items()]
    print_rows(rows, fmt, title=f"Plan {built.version}")
    if fmt == OutputFormat.table:
        sources = sorted(set(built.result.opex_sources.values()))
        note(
            f"built {built.version} from {built.volumes}, {summary['from']}..{summary['to']}, "
            f"in {built.seconds:.1f} s; opex from: {'; '.join(sources)}; "
            f"see it with `opsfin plan show {built.version}`",
        )


@plan_app.command("build")
def plan_build_cmd(
    version: Annotated[str, typer.Option("--version", help="the plan version to build (its old rows are replaced)")],
    volumes: VolumesOpt,
    start: MonthFrom = None,
    end: MonthTo = None,
    kind: KindOpt = "budget",
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Build a plan: production, capacity, P&L per site, balances and cash per month, from the volumes of a
    version or the actual shipments, stored as plan_pnl, plan_capacity and plan_balances rows. Built from
    actual volumes, revenue and COGS equal the GL to the cent. A submitted or approved version is refused."""
    from ..runs.planning import build_plan_version
    from .users_cmds import cli_actor

    ws = workspace.open(ws_path)
    built = build_plan_version(ws, version, volumes, start, end, kind, cli_actor(), progress=step)
    _summary(built, fmt)


@plan_app.command("show")
def plan_show_cmd(
    version: Annotated[str, typer.Argument(help="plan version name")],
    what: Annotated[str, typer.Option("--what", help="pnl, capacity, balances or cash")] = "pnl",
    vs: Annotated[
        str | None, typer.Option("--vs", help="compare with another version, or `actual` (the books' P&L)")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="site: the P&L per site (default: the company)")] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """A plan version's P&L, capacity, balances or cash flow per month, optionally beside another version or
    the actuals (columns vs and delta)."""
    from ..errors import UserError
    from ..present.plan_rows import PLAN_KINDS, json_rows, table_rows, title
    from ..runs.plan_show import check_what, show_plan

    check_what(what)
    if by not in (None, "site"):
        raise UserError("{param} " + f"{by!r}: the plan splits by site only", param="by", value=by)
    view = show_plan(workspace.open(ws_path), version, what, vs, by_site=by == "site")
    if fmt == OutputFormat.json:
        print_json(json_rows(view.rows))
    elif fmt == OutputFormat.csv:
        print_rows(view.rows, fmt)
    else:
        print_rows(table_rows(view.rows), fmt, title=title(version, what, vs, by == "site"), kinds=PLAN_KINDS[what])


@plan_app.command("roll")
def plan_roll_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="the last closed month (YYYY-MM)")],
    models: Annotated[str, typer.Option("--models", help="the demand forecast's models: auto, or names")] = "auto",
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Roll the forecast: build fc-YYYY-MM from the actuals of January..--as-of and a fresh demand forecast
    (stored as fc-YYYY-MM-demand) for the 18 months after it. Compare it with `plan show fc-YYYY-MM --vs B2025`."""
    from ..runs.plan_roll import roll_forecast
    from .users_cmds import cli_actor

    built = roll_forecast(workspace.open(ws_path), as_of, cli_actor(), models=models, progress=step)
    _summary(built, fmt)
