"""The `opsfin` command line. Each verb lives in its own module and only calls engines."""

from __future__ import annotations

import sys

import typer

from ..errors import UserError, cli_name

# Registering a verb = importing its module (each module decorates functions with @app.command).
from . import (  # noqa: E402,F401
    abc_cmds,
    alerts_cmds,
    audit_cmds,
    cash_cmds,
    cash_forecast_cmds,
    cash_schedule_cmds,
    check_cmd,
    costing_cmds,
    demo_cmd,
    drivers_cmds,
    experiment_cmds,
    export_cmds,
    forecast_cmds,
    forecast_eval_cmds,
    ingest_cmds,
    invest_cmds,
    invest_review_cmds,
    kpi_cmds,
    match_cmds,
    plan_build_cmds,
    plan_cmds,
    plan_files_cmds,
    predict_cmds,
    predict_fit_cmds,
    scenario_cmds,
    scenario_sim_cmds,
    serve_cmd,
    staffing_cmds,
    users_cmds,
    variance_cmds,
    workspace_cmds,
)
from .root import app


def main(argv: list[str] | None = None) -> None:
    """Console entry point: a user's mistake is one clear line on stderr and exit code 2."""
    try:
        app(args=argv)
    except UserError as exc:
        typer.echo(f"error: {exc.phrase(cli_name)}", err=True)
        sys.exit(2)
