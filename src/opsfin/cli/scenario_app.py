"""The `opsfin scenario` group. Each module of the group adds its verbs to `scenario_app`."""

from __future__ import annotations

from typing import Annotated

import typer

from .root import app

# the scenario a verb runs (`scenario run`, `scenario simulate`)
ScenarioArg = Annotated[str, typer.Argument(help="the scenario's name in model/scenarios.yaml")]

scenario_app = typer.Typer(
    help="Scenarios: shocks run through the plan engine against their base, and Monte Carlo ranges.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")
