"""`opsfin experiment analyze|list` (docs/experiments.md): the effect of a process experiment of
model/experiments.yaml on each of its metrics, with its 95 % interval, the pre-trend check, the groups'
means and the money a year; the experiments there are; and `opsfin eval experiments`, the demo's experiments
against their truth. Each verb calls runs/experiments.py and prints through cli/output.py."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .. import workspace
from .alerts_cmds import eval_app
from .experiment_app import experiment_app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_model_entries, print_rows


@experiment_app.command("analyze")
def experiment_analyze_cmd(
    name: Annotated[str, typer.Argument(help="the experiment's name in model/experiments.yaml")],
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Per metric: the difference-in-differences effect of the treated units against the controls with
    its 95 % interval (errors clustered by unit), the pre-trend check, the before/after means of both
    groups, and the money a year at the treated units' current volume."""
    from ..runs.experiments import analyze_named

    data = analyze_named(workspace.open(ws_path), name).as_json()
    if fmt == OutputFormat.json:
        print_json(data)
        return
    title = comparison_title(f"Experiment {data['name']}", data, data["start"])
    print_rows([metric_row(m) for m in data["metrics"]], fmt, title=title)
    flagged = [m["metric"] for m in data["metrics"] if m["pre_trend"]["failed"]]
    if flagged and fmt == OutputFormat.table:
        note(
            f"pre-trend check failed for {', '.join(flagged)}: treated and control drifted apart before the "
            "start; the effect is not to be trusted",
        )


def metric_row(m: dict[str, Any]) -> dict[str, Any]:
    """One metric as a flat row of the table."""
    means, money = m["means"], m["money"]
    return {
        "metric": m["metric"],
        "effect": m["effect"],
        "ci_low": m["ci_low"],
        "ci_high": m["ci_high"],
        "pre_trend_p": m["pre_trend"]["p_value"],
        "pre_trend_ok": not m["pre_trend"]["failed"],
        "treated_before": means["treated"]["before"],
        "treated_after": means["treated"]["after"],
        "control_before": means["control"]["before"],
        "control_after": means["control"]["after"],
        "money_a_year": money["amount"],
    }


def comparison_title(head: str, data: dict[str, Any], since: str) -> str:
    """`<head>: <treated> against <control> (<how the control was chosen>) from <since>`."""
    treated, control = ", ".join(data["treated"]), ", ".join(data["control"])
    return f"{head}: {treated} against {control} ({data['control_chosen_by']}) from {since}"


@experiment_app.command("list")
def experiment_list_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """The experiments of model/experiments.yaml: name, unit, treated, controls, start and metrics."""
    from ..runs.experiments import load_experiments

    found = load_experiments(workspace.open(ws_path).model_dir)
    rows = [
        {
            "name": e.name,
            "unit": e.unit,
            "treated": ", ".join(e.treated),
            "control": ", ".join(e.control) if e.control else f"match {e.match}",
            "start": f"{e.start:%Y-%m}",
            "metrics": ", ".join(e.metrics),
        }
        for e in found.experiments
    ]
    print_model_entries(rows, fmt, "experiments")


@eval_app.command("experiments")
def eval_experiments_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """The demo's experiment and placebo (truth/experiments.json) analysed: per metric the estimated effect,
    its 95 % interval and whether it contains the true effect (the placebo's: zero)."""
    from ..runs.experiments import evaluate_truth

    result = evaluate_truth(workspace.open(ws_path))
    if fmt == OutputFormat.json:
        print_json(result)
        return
    print_rows(result["rows"], fmt, title="Experiments against truth/experiments.json")
    if fmt == OutputFormat.table:
        note(f"{result['contained']} of {result['records']} intervals contain the true effect")
