"""`opsfin invest evaluate|portfolio|check` (docs/investments.md): evaluate the cases of
model/investments.yaml, choose the portfolio within yearly budgets, validate the file. Each verb calls
runs/invest.py and prints through cli/output.py."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .. import workspace
from .invest_app import invest_app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows

RateOpt = Annotated[
    str | None,
    typer.Option(
        "--rate",
        help="discount rate a year as a fraction (0.08; `8%` is read as 0.08); "
        "default: the file's discount_rate, else 0.08",
    ),
]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"


def summary_row(case: dict[str, Any]) -> dict[str, Any]:
    """One line per case for the table and CSV: NPV, IRRs, MIRR, paybacks and PI."""
    return {
        "name": case["name"],
        "npv": case["npv"],
        "irr": ", ".join(_percent(r) for r in case["irr"]) or f"none ({case['reason']})",
        "mirr": _percent(case["mirr"]),
        "payback_months": case["payback_months"],
        "disc_payback_months": case["discounted_payback_months"],
        "pi": None if case["profitability_index"] is None else round(case["profitability_index"], 3),
    }


@invest_app.command("evaluate")
def invest_evaluate_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="case names (default: every case)")] = None,
    rate: RateOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """NPV (XNPV conventions), every real IRR, MIRR, payback, discounted payback and profitability index of
    the cases of model/investments.yaml, with the cash flows used."""
    from ..runs.invest import evaluate

    cases = [e.as_json() for e in evaluate(workspace.open(ws_path), names or (), rate)]
    if fmt == OutputFormat.json:
        print_json({"cases": cases})
        return
    print_rows([summary_row(c) for c in cases], fmt, title="Investment cases")


@invest_app.command("portfolio")
def invest_portfolio_cmd(
    budget: Annotated[str, typer.Option("--budget", help="capital per year: YEAR:AMOUNT[,YEAR:AMOUNT…]")],
    rate: RateOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The cases that maximise total NPV within each year's capital budget, honouring `requires` and
    `excludes` (exact, OR-Tools CP-SAT, with its proof status); beside it the greedy ranking by
    profitability index and the NPV it leaves on the table."""
    from ..runs.invest import portfolio, portfolio_json

    result, cases = portfolio(workspace.open(ws_path), budget, rate)
    data = portfolio_json(result, cases)
    if fmt == OutputFormat.json:
        print_json(data)
        return
    rows = [
        {"choice": choice, "case": c["name"], "npv": c["npv"]}
        for choice, key in (("best", "best"), ("greedy by PI", "greedy_by_pi"))
        for c in data[key]["cases"]
    ]
    print_rows(rows, fmt, title=f"Portfolio ({data['status']})")
    if fmt == OutputFormat.table:
        spend = [
            {"year": s["year"], "budget": s["budget"], "best": s["spend"], "greedy": g["spend"]}
            for s, g in zip(data["best"]["spend"], data["greedy_by_pi"]["spend"], strict=True)
        ]
        print_rows(spend, fmt, title="Capital spend against the budget")
        note(
            f"best NPV {data['best']['npv']} ({data['status']}); greedy by PI {data['greedy_by_pi']['npv']}; "
            f"left on the table {data['left_on_table']}"
        )


@invest_app.command("check")
def invest_check_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """Validate model/investments.yaml: every field, names, requires and excludes."""
    from ..runs.invest import check

    found = check(workspace.open(ws_path))
    summary = {"cases": len(found.investments), "with_effects": sum(1 for c in found.investments if c.effects)}
    if fmt == OutputFormat.json:
        print_json({"ok": True, **summary})
        return
    note(f"model/investments.yaml is valid: {summary['cases']} case(s), {summary['with_effects']} with effects")
