"""`opsfin scenario simulate NAME --draws N [--seed S]` (docs/scenarios.md "Monte Carlo simulation"): P10,
P50 and P90 per month of a scenario's revenue, gross margin, operating income, cash and cash low point, and
the probability of breaching each guardrail. Calls runs/scenario_sim.py; progress and timings go to stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows, step
from .scenario_app import ScenarioArg, scenario_app


@scenario_app.command("simulate")
def scenario_simulate_cmd(
    name: ScenarioArg,
    draws: Annotated[int, typer.Option("--draws", help="how many draws (10,000 take a few seconds)")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="the random seed: the same seed gives the same result")] = 0,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Monte Carlo ranges of a scenario: demand drawn from its forecast's band (or the products' historical
    spread), prices, payment delays and outages from the scenario's `distributions:`; P10, P50 and P90 per
    month and the probability of breaching each guardrail. Nothing is stored."""
    from ..runs.scenario_sim import simulate_scenario

    result = simulate_scenario(workspace.open(ws_path), name, draws, seed, progress=step)
    for line in result.problems:
        note(f"warning: {line}")
    data = result.as_json()
    if fmt == OutputFormat.json:
        print_json(data)
        return
    print_rows(data["months"], fmt, title=f"Scenario {name}: {result.simulation.draws} draws, seed {seed}")
    if fmt == OutputFormat.table:
        print_rows(data["breaches"], fmt, title="Probability of breaching each guardrail")
        note(
            f"demand spread: {result.demand_source}; deterministic run {result.run_seconds:.2f} s, "
            f"draws {result.draw_seconds:.2f} s",
        )
