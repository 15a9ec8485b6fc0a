"""The `opsfin plan` group: plan versions and their approval (`plan_cmds`), building and showing a plan
(`plan_build_cmds`), and budgets in Excel (`plan_files_cmds`). Each module adds its verbs to `plan_app`."""

from __future__ import annotations

import typer

from .root import app

plan_app = typer.Typer(
    help="Plan versions (budgets, forecasts, scenarios): build, show, approve, import and export.",
    no_args_is_help=True,
)
app.add_typer(plan_app, name="plan")
