"""`opsfin init`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import workspace
from .commands import opsfin_command, shell_path
from .output import console
from .root import app


@app.command("init")
def init_cmd(
    directory: Annotated[Path, typer.Argument(help="folder to create the workspace in")],
    company: Annotated[str, typer.Option(help="company name")] = "My company",
    base_currency: Annotated[str, typer.Option(help="ISO currency code of the books")] = "EUR",
) -> None:
    """Create a workspace: opsfin.yaml, model/ and a warehouse holding every table."""
    ws = workspace.init(directory, company=company, base_currency=base_currency.upper())
    console.print(f"Workspace ready at [bold]{ws.path}[/bold]")
    console.print(f"  settings   {ws.path / 'opsfin.yaml'}")
    console.print(f"  model      {ws.model_dir}")
    console.print(f"  warehouse  {ws.warehouse_path}")
    console.print(
        f"Next: [bold]{opsfin_command()} ingest FILE --table TABLE -w {shell_path(ws.path)}[/bold]",
        highlight=False,
        soft_wrap=True,
    )
