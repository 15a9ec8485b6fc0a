"""`opsfin plan export NAME --format xlsx` and `opsfin plan import FILE --version NAME`: a budget in Excel,
both ways (docs/planning-excel.md; other `plan` verbs live beside, plan_app.py)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import WorkspaceOpt
from .plan_app import plan_app


class PlanFileFormat(StrEnum):
    xlsx = "xlsx"


@plan_app.command("export")
def plan_export_cmd(
    name: Annotated[str, typer.Argument(help="plan version name (e.g. B2026)")],
    fmt: Annotated[PlanFileFormat, typer.Option("--format", help="xlsx (the only format)")] = PlanFileFormat.xlsx,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="file to write (default: plan-NAME.xlsx here; a folder: that name inside it)"
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="first month (YYYY-MM) of an empty template, or to add months")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="last month (YYYY-MM), with --from")] = None,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Write a version's budget template: volumes and prices by product, costs by cost centre × account,
    months as columns, its values filled in. A new version's empty template needs --from and --to."""
    from ..export.plan_xlsx import plan_filename, render_plan_xlsx
    from ..runs.plan_files import plan_template

    ws = workspace.open(ws_path)
    data = render_plan_xlsx(plan_template(ws, name, start, end), ws.settings.company)
    target = Path(output).expanduser() if output is not None else Path(plan_filename(name))
    if target.is_dir():
        target = target / plan_filename(name)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise UserError(f"--output {target}: cannot write: {exc.strerror}") from None
    typer.echo(str(target.resolve()))


@plan_app.command("import")
def plan_import_cmd(
    file: Annotated[Path, typer.Argument(help="the filled-in workbook (.xlsx, as plan export writes it)")],
    version: Annotated[
        str, typer.Option("--version", help="the plan version whose rows it replaces", show_default=False)
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="budget, forecast or scenario: the kind of a version not registered yet")
    ] = "budget",
    ws_path: WorkspaceOpt = None,
) -> None:
    """Replace a draft version's volume_plan and budget_lines rows with a workbook. Every bad cell is listed
    with its sheet and cell and nothing is written (exit code 2); an approved version is refused."""
    from ..runs.plan_files import import_plan
    from .users_cmds import cli_actor

    path = Path(file).expanduser()
    if not path.is_file():
        raise UserError(f"{file}: no such file")
    ws = workspace.open(ws_path)
    done = import_plan(ws, path, version, kind, actor=cli_actor(), source=path.name)
    typer.echo(
        f"plan version {done.version}: {done.written['volume_plan']} volume_plan and "
        f"{done.written['budget_lines']} budget_lines rows written (replacing {done.replaced['volume_plan']} "
        f"and {done.replaced['budget_lines']})"
    )
