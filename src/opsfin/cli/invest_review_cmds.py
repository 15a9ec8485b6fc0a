"""`opsfin invest review NAME` (docs/investments.md "Post-investment review"): after go-live, the case's
driver KPIs on the treated units against comparable untreated units (difference-in-differences), the
savings realised so far, and the NPV re-estimated on the realised effect beside the promise. Calls
runs/invest_review.py and prints through cli/output.py."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .. import workspace
from .experiment_cmds import comparison_title
from .invest_app import invest_app
from .invest_cmds import RateOpt
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows


@invest_app.command("review")
def invest_review_cmd(
    name: Annotated[str, typer.Argument(help="the case's name in model/investments.yaml")],
    rate: RateOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The case after go-live: each driver KPI's realised change (treated against control units, with its
    95 % interval and the pre-trend check) beside the promise, the savings so far, and the NPV on the
    realised effect beside the promised NPV."""
    from ..runs.invest_review import review_named

    data = review_named(workspace.open(ws_path), name, rate).as_json()
    if fmt == OutputFormat.json:
        print_json(data)
        return
    title = comparison_title(f"Review of {data['name']}", data, f"go-live {data['go_live']}")
    print_rows([kpi_row(k) for k in data["kpis"]], fmt, title=title)
    if fmt == OutputFormat.table:
        share = "" if data["realisation"] is None else f"{data['realisation']:.0%}"
        note(
            f"realised {share} of the promise; NPV at {data['rate']:.2%}: promised {data['npv']['promised']}, "
            f"on the realised effect {data['npv']['realised']}" + (f" ({data['note']})" if "note" in data else ""),
        )


def kpi_row(k: dict[str, Any]) -> dict[str, Any]:
    """One driver KPI as a flat row."""
    r = k["realised"]
    return {
        "kpi": k["kpi"],
        "promised": k["promised"],
        "realised": r["effect"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "pre_trend_ok": not r["pre_trend"]["failed"],
        "realisation": k["realisation"],
        "savings_so_far": k["savings_so_far"]["amount"],
    }
