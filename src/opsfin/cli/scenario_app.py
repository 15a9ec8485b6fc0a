"""The `opsfin scenario` group. Each module of the group adds its verbs to `scenario_app`."""

from __future__ import annotations

import typer

from .root import app

scenario_app = typer.Typer(
    help="Scenarios: shocks run through the plan engine against their base, and Monte Carlo ranges.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")
