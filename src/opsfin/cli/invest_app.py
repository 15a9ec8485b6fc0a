"""The `opsfin invest` group. Each module of the group adds its verbs to `invest_app`."""

from __future__ import annotations

import typer

from .root import app

invest_app = typer.Typer(
    help="Investment cases: NPV, IRR and payback, capital rationing, and the review after go-live.",
    no_args_is_help=True,
)
app.add_typer(invest_app, name="invest")
