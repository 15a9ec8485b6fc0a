"""`opsfin scenario run|list|check` (docs/scenarios.md): run a scenario of model/scenarios.yaml against its
base and store it as plan version `<base>+<name>`, list the scenarios, check the file. Each verb calls
runs/scenarios.py and prints through cli/output.py; progress goes to stderr."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from .. import workspace
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import err_console, note, print_json, print_model_entries, print_rows, step, warn
from .scenario_app import ScenarioArg, scenario_app

SUMMARY_LINES = ("revenue", "gross_margin", "operating_income")
TOP_LOST = 10


@scenario_app.command("run")
def scenario_run_cmd(
    name: ScenarioArg,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Run a scenario through the plan engine and report it against its base: every P&L line, the hours
    required per work centre, month-end cash, and the sales given up when demand exceeds capacity. The
    scenario is stored as plan version <base>+<name> (`opsfin plan show <base>+<name> --vs <base>`)."""
    from ..runs.scenarios import run_named
    from .users_cmds import cli_actor

    result = run_named(workspace.open(ws_path), name, cli_actor(), progress=step)
    report = result.report
    warn(report.problems)
    if fmt == OutputFormat.json:
        print_json(report.as_json())
        return
    if fmt == OutputFormat.csv:
        print_rows(report.as_json()["pnl"], fmt)
        return
    title = f"Scenario {report.scenario} against {report.base} (company, per month)"
    print_rows(summary_rows(report.as_json()), fmt, title=title)
    lost = sorted(report.as_json()["lost_sales"], key=lambda r: -Decimal(r["contribution"]))[:TOP_LOST]
    if lost:
        print_rows(lost, fmt, title=f"Sales given up (top {TOP_LOST} by contribution)")
    note(
        f"stored as {result.version} in {result.seconds:.1f} s; every line: "
        f"`opsfin scenario run {name} --format json` or `opsfin plan show {result.version}`",
    )


def summary_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per month: revenue, gross margin and operating income of the company, and month-end cash; base,
    scenario and delta."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in data["pnl"]:
        if r["line"] in SUMMARY_LINES:
            acc = sums[(r["period"], r["line"])]
            acc[0] += Decimal(r["base"])
            acc[1] += Decimal(r["scenario"])
    for r in data["cash"]:
        sums[(r["period"], "month_end_cash")] = [Decimal(r["base"]), Decimal(r["scenario"])]
    order = {line: i for i, line in enumerate((*SUMMARY_LINES, "month_end_cash"))}
    return [
        {"period": p, "line": line, "base": b, "scenario": s, "delta": s - b}
        for (p, line), (b, s) in sorted(sums.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
    ]


@scenario_app.command("list")
def scenario_list_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """The scenarios of model/scenarios.yaml: name, base, shocks and the plan version each is stored as."""
    from ..runs.scenarios import load_scenarios, scenario_version

    found = load_scenarios(workspace.open(ws_path).model_dir)
    rows = [
        {
            "name": s.name,
            "base": s.base,
            "shocks": ", ".join(f"{x.kind} {x.size}" for x in s.shocks) or "none",
            "version": scenario_version(s),
            "description": s.description or "",
        }
        for s in found.scenarios
    ]
    print_model_entries(rows, fmt, "scenarios")


@scenario_app.command("check")
def scenario_check_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """Validate model/scenarios.yaml: every field, and every member a scope names against the warehouse."""
    from ..runs.scenarios import check_scenarios

    found = check_scenarios(workspace.open(ws_path))
    summary = {"scenarios": len(found.scenarios), "shocks": sum(len(s.shocks) for s in found.scenarios)}
    if fmt == OutputFormat.json:
        print_json({"ok": True, **summary})
        return
    err_console.print(
        f"model/scenarios.yaml is valid: {summary['scenarios']} scenario(s), {summary['shocks']} shock(s)",
        markup=False,
        highlight=False,
    )
