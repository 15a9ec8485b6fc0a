"""The `opsfin predict` group. Each module of the group adds its verbs to `predict_app`."""

from __future__ import annotations

import typer

from .root import app

predict_app = typer.Typer(
    help="Predictions priced in money: machine failure risk, defect drivers, and models fitted on your own labelled file.",
    no_args_is_help=True,
)
app.add_typer(predict_app, name="predict")
