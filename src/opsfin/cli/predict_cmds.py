"""`opsfin predict maintenance|defects` and `opsfin eval predict` (docs/predict.md "Maintenance risk",
"Backtest", "Quality defects"). Each verb parses its options, calls runs/predict*.py, and prints."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from .. import workspace
from ..present import format_value
from .alerts_cmds import eval_app
from .options import FormatOpt, FromOpt, OutputFormat, ToOpt, WorkspaceOpt
from .output import console, err_console, print_json, print_rows
from .predict_app import predict_app

HorizonOpt = Annotated[int, typer.Option("--horizon-days", help="a breakdown within this many days counts (1-90)")]
MonitorOpt = Annotated[float, typer.Option("--monitor-risk", help="watch a machine from this risk on (0-1)")]


def _say(text: str) -> None:
    err_console.print(text, markup=False, highlight=False)


def _machine_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "machine_id": m["machine_id"],
            "risk": m["risk"],
            "expected_failure_cost": m["expected_failure_cost"],
            "planned_maintenance_cost": m["planned_maintenance_cost"],
            "recommendation": m["recommendation"],
            "drivers": "; ".join(f"{d['feature']}={d['value']} ({d['contribution']:+.2f})" for d in m["drivers"]),
        }
        for m in result["machines"]
    ]


@predict_app.command("maintenance")
def predict_maintenance_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="the day to score (YYYY-MM-DD); nothing later is read")],
    horizon_days: HorizonOpt = 14,
    monitor_risk: MonitorOpt = 0.5,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Each machine's risk of a breakdown within the horizon (LightGBM, learned only from data up to the
    as-of date), priced: risk × a breakdown's cost against a planned maintenance's, with the recommendation
    and the features that drive the risk. JSON: {as_of, horizon_days, machines}."""
    from ..runs.predict import predict_maintenance

    result = predict_maintenance(workspace.open(ws_path), as_of, horizon_days, monitor_risk)
    if fmt == OutputFormat.json:
        print_json(result)
        return
    print_rows(_machine_rows(result), fmt, title=f"Breakdown risk within {horizon_days} days of {result['as_of']}")


@predict_app.command("defects")
def predict_defects_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The drivers of the defect rate per inspection (LightGBM on what was known when the work was done:
    machine condition, shift, operator tenure, supplier, product, work centre), each priced by the scrap and
    rework cost it explains; a numeric driver says where its effect sits (the supplier, machine, work centre
    or shift with most of its defects for its units). JSON: {from, to, inspections, defects, cost_of_defects,
    drivers, groups}."""
    from ..runs.predict_defects import predict_defects

    result = predict_defects(workspace.open(ws_path), start, end)
    if fmt == OutputFormat.json:
        print_json(result)
        return
    title = f"Defect drivers {result['from']}..{result['to']}"
    print_rows(_driver_rows(result, fmt), fmt, title=title, kinds={"share_of_defects": "ratio"})
    if fmt == OutputFormat.table:
        for line in _where_lines(result):
            console.print(line, markup=False, highlight=False)


TABLE_ORDER = ("rank", "driver", "worst", "cost_explained", "defects_explained", "share_of_defects")


def _driver_rows(result: dict[str, Any], fmt: OutputFormat) -> list[dict[str, Any]]:
    """A row per driver: in a table, a numeric driver's worst says where its effect sits ("higher values at
    SUP-001") and the money comes first; in CSV, the where in four columns."""
    rows = []
    for d in result["drivers"]:
        row = {k: v for k, v in d.items() if k not in ("meaning", "where")}
        where = d["where"] or {}
        if fmt != OutputFormat.table:
            row |= {
                f"where_{k}": where.get(k) for k in ("column", "member", "share_of_explained", "share_of_inspected")
            }
        else:  # at 80 columns the ranking key, the cost explained, comes before the group
            if where:
                row["worst"] = f"{d['worst']} at {where['member']}"
            row = {k: row[k] for k in TABLE_ORDER} | row
        rows.append(row)
    return rows


def _where_lines(result: dict[str, Any]) -> list[str]:
    """Under the table, the shares behind each numeric driver's where (docs/predict.md "Quality defects")."""
    return [
        f"{d['driver']}: {format_value(w['share_of_explained'], 'ratio')} of the defects it explains are at "
        f"{w['column']} {w['member']}, which has {format_value(w['share_of_inspected'], 'ratio')} of the units "
        "inspected"
        for d in result["drivers"]
        if (w := d["where"])
    ]


@eval_app.command("predict")
def eval_predict_cmd(
    horizon_days: HorizonOpt = 14,
    days: Annotated[int, typer.Option("--days", help="the span of as-of dates, in days before the last")] = 364,
    prevented_share: Annotated[
        float,
        typer.Option("--prevented-share", help="the share of a horizon's breakdowns a planned maintenance prevents"),
    ] = 0.5,
    monitor_risk: MonitorOpt = 0.5,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Backtest the maintenance risk over as-of dates every horizon: PR-AUC and ROC-AUC beside the baseline
    "breakdowns in the last 30 days", the money of following the recommendations against run-to-failure,
    the rank of the rising-breakdowns machines, and where the injected defect causes rank."""
    from ..runs.predict_eval import evaluate_predict

    result = evaluate_predict(
        workspace.open(ws_path), horizon_days, days, Decimal(str(prevented_share)), monitor_risk, progress=_say
    )
    if fmt == OutputFormat.json:
        print_json(result)
        return
    print_rows(_eval_rows(result), fmt, title="Maintenance risk backtest")
    print_rows(result["maintenance"]["rising_breakdowns"], fmt, title="Rising-breakdowns machines (rank 1 = riskiest)")
    _say(result["defects"]["summary"])


def _eval_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    ranking, money = result["maintenance"]["ranking"], result["maintenance"]["money"]
    return [
        {"measure": "as-of dates × machines (with a breakdown after)", "value": f"{ranking['points']} ({ranking['positives']})"},
        {"measure": "PR-AUC risk / baseline", "value": f"{ranking['risk']['pr_auc']} / {ranking['baseline']['pr_auc']}"},
        {"measure": "ROC-AUC risk / baseline", "value": f"{ranking['risk']['roc_auc']} / {ranking['baseline']['roc_auc']}"},
        {"measure": "run-to-failure", "value": money["run_to_failure"]},
        {"measure": "following the recommendations", "value": money["following_recommendations"]},
        {"measure": f"saving (a maintenance prevents {money['prevented_share_assumed']} of the breakdowns)", "value": money["saving"]},
        {"measure": "planned maintenances recommended", "value": money["planned_maintenances"]},
    ]  # fmt: skip
