"""The `opsfin experiment` group. Each module of the group adds its verbs to `experiment_app`."""

from __future__ import annotations

import typer

from .root import app

experiment_app = typer.Typer(
    help="Process experiments: the effect on treated units against controls, with its interval and its money.",
    no_args_is_help=True,
)
app.add_typer(experiment_app, name="experiment")
