"""`opsfin alerts` (guardrail breaches and anomalies) and `opsfin eval detection`.

`eval` is a sub-app: other evaluations register on `eval_app` (`@eval_app.command("matching")`)."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .options import FormatOpt, OutputFormat, WorkspaceOpt
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
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Guardrail breaches (model/guardrails.yaml) and anomalies (model/detection.yaml), one per run of periods."""
    from ..runs.alerts import run_alerts

    ws = workspace.open(ws_path)
    catalog = ws.kpi_catalog()
    alerts = run_alerts(ws, catalog, start=from_, end=to)
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
    rows = [
        {
            "kind": k["kind"],
            "kpi": k["kpi"],
            "anomalies": k["anomalies"],
            "caught": k["caught"],
            "recall": _pct(k["recall"]),
            "alerts": k["alerts"],
            "true": k["true_alerts"],
            "precision": _pct(k["precision"]),
        }
        for k in result["kinds"]
    ]
    o = result["overall"]
    rows.append(
        {
            "kind": "overall",
            "kpi": "",
            "anomalies": o["anomalies"],
            "caught": o["caught"],
            "recall": _pct(o["recall"]),
            "alerts": o["anomaly_alerts"],
            "true": o["true_alerts"],
            "precision": _pct(o["precision"]),
        }
    )
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
