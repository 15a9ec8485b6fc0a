"""`opsfin alerts` (guardrail breaches and anomalies) and `opsfin eval detection`.

`eval` is a sub-app: other evaluations register on `eval_app` (`@eval_app.command("matching")`)."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import Backtest, FormatOpt, OutputFormat, WorkspaceOpt, backtest_options
from .output import console, print_json, print_rows
from .root import app

eval_app = typer.Typer(
    name="eval",
    help="Measure engines against the demo company's ground truth (truth/).",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


def _scope_text(scope: dict[str, str]) -> str:
    return ", ".join(f"{d}={v}" for d, v in scope.items()) or "(company)"


def _number(x: float | None, unit: str) -> str:
    from ..alerts.model import fmt_value

    return "" if x is None else fmt_value(x, unit)


@app.command("alerts")
def alerts_cmd(
    from_: Annotated[
        str | None,
        typer.Option("--from", help="first day (YYYY-MM-DD): alerts overlapping [--from, --to] are shown"),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")] = None,
    include_forecast: Annotated[
        bool,
        typer.Option("--include-forecast", help="also check the guardrails on the KPIs plan versions project"),
    ] = False,
    version: Annotated[
        str | None, typer.Option("--version", help="with --include-forecast: only this plan version")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Guardrail breaches (model/guardrails.yaml) and anomalies (model/detection.yaml), one per run of periods;
    with --include-forecast also forecast breaches of plan versions, one per month ahead."""
    from ..runs.alerts import forecast_alerts, run_alerts

    if version is not None and not include_forecast:
        raise UserError("--version: give it with --include-forecast (the plan version whose forecast is checked)")
    ws = workspace.open(ws_path)
    catalog = ws.kpi_catalog()
    alerts = run_alerts(ws, catalog, start=from_, end=to)
    if include_forecast:
        alerts += forecast_alerts(ws, version, catalog)
    if fmt == OutputFormat.json:
        print_json([a.to_dict() for a in alerts])
        return
    rows = []
    for a in alerts:
        unit = catalog[a.kpi].unit if a.kpi in catalog else ""
        rows.append(
            {
                "id": a.id,
                "kind": a.kind,
                "severity": a.severity,
                "kpi": a.kpi,
                "scope": _scope_text(a.scope),
                "period_start": a.period_start,
                "period_end": a.period_end,
                "value": a.value if fmt == OutputFormat.csv else _number(a.value, unit),
                "expected": a.expected if fmt == OutputFormat.csv else _number(a.expected, unit),
                "bound": a.bound if fmt == OutputFormat.csv else _number(a.bound, unit),
                "explanation": a.explanation,
            }
        )
    if fmt == OutputFormat.table:  # the explanation already names the KPI, scope and periods
        rows = [{"severity": r["severity"], "kind": r["kind"], "explanation": r["explanation"]} for r in rows]
    print_rows(rows, fmt, title=f"Alerts ({len(rows)})")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _score_row(kind: str, kpi: str, score: dict, alerts: int) -> dict:
    """One row of the detection-quality table: the anomalies caught (recall) and the alerts true (precision)."""
    return {
        "kind": kind,
        "kpi": kpi,
        "anomalies": score["anomalies"],
        "caught": score["caught"],
        "recall": _pct(score["recall"]),
        "alerts": alerts,
        "true": score["true_alerts"],
        "precision": _pct(score["precision"]),
    }


@eval_app.command("detection")
def eval_detection_cmd(
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Recall and precision of `opsfin alerts` per anomaly kind, against truth/anomalies.json."""
    from ..evaluation.detection import score
    from ..runs.alerts import run_alerts
    from ..runs.model import load_truth

    ws = workspace.open(ws_path)
    truth = load_truth(ws.truth_dir)
    result = score(run_alerts(ws), truth)
    if fmt == OutputFormat.json:
        print_json(result)
        return
    o = result["overall"]
    rows = [_score_row(k["kind"], k["kpi"], k, k["alerts"]) for k in result["kinds"]]
    rows.append(_score_row("overall", "", o, o["anomaly_alerts"]))
    if fmt == OutputFormat.csv:
        print_rows(rows, fmt)
        return
    print_rows(rows, fmt, title="Detection quality against truth/anomalies.json")
    console.print(
        f"recall {_pct(o['recall'])} ({o['caught']}/{o['anomalies']} anomalies that name a KPI), "
        f"precision {_pct(o['precision'])} ({o['true_alerts']}/{o['anomaly_alerts']} anomaly alerts); "
        f"{o['guardrail_alerts']} guardrail alerts."
    )
    for k in result["kinds"]:
        for miss in k["missed"]:
            console.print(f"  missed {k['kind']}: {miss}")


@eval_app.command("forecast")
@backtest_options
def eval_forecast_cmd(*, backtest: Backtest) -> None:
    """The demand forecast backtested per level against seasonal naive, with the additivity check and truth/'s
    demand shift (docs/forecasting.md "Evaluation on the demo company")."""
    from ..evaluation.forecast import evaluation_json, verdict
    from ..present.forecast_rows import MEASURE_KINDS, records
    from ..runs.forecast import parse_models
    from ..runs.forecast_eval import forecast_evaluation

    ws, fmt, horizon = workspace.open(backtest.ws_path), backtest.fmt, backtest.horizon
    report = forecast_evaluation(ws, backtest.origins, horizon, parse_models(backtest.models))
    if fmt == OutputFormat.json:
        print_json(evaluation_json(report))
        return
    months = ", ".join(f"{o:%Y-%m}" for o in report.origins)
    kinds = MEASURE_KINDS | {"adds_up_gap": "number"}
    print_rows(
        records(report.levels), fmt, title=f"Forecast backtest, origins {months}, {horizon} months ahead", kinds=kinds
    )
    if report.shift is not None and report.shift_truth is not None:
        t = report.shift_truth
        title = f"Demand shift: family {t.family} × {t.factor:g} from {t.start:%Y-%m}"
        print_rows(records(report.shift), fmt, title=title, kinds=MEASURE_KINDS)
    for note in report.notes:
        console.print(f"[dim]{note}[/dim]", highlight=False)
    console.print(verdict(report), highlight=False)
