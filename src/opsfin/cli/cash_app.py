"""The `opsfin cash` group. Each module of the group adds its verbs to `cash_app`."""

from __future__ import annotations

import typer

from .root import app

cash_app = typer.Typer(
    help="Cash: learned payment dates, the daily 13-week forecast, working-capital levers, production scheduled around cash.",
    no_args_is_help=True,
)
app.add_typer(cash_app, name="cash")
