"""`opsfin cash forecast`, `opsfin cash levers` and `opsfin eval cash` (docs/cash.md). Each verb parses its
options, calls `runs/cash_forecast.py`, and prints through cli/output.py; notes go to stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from .alerts_cmds import eval_app
from .cash_app import cash_app
from .options import FormatOpt, OriginsOpt, OutputFormat, WorkspaceOpt
from .output import note, print_json, print_rows

AsOfOpt = Annotated[str, typer.Option("--as-of", help="the day the forecast starts from (YYYY-MM-DD)")]
WeeksOpt = Annotated[int, typer.Option("--weeks", help="weeks forecast after the as-of day")]
VersionOpt = Annotated[
    str | None,
    typer.Option("--version", help="plan version of the future sales (default: the latest approved plan covering)"),
]


@cash_app.command("forecast")
def cash_forecast_cmd(
    as_of: AsOfOpt,
    weeks: WeeksOpt = 13,
    version: VersionOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The daily cash forecast: the bank balance at the as-of day, then open receivables at their learned
    dates, open payables, planned sales and purchases, payroll, tax and fixed costs day by day, with a
    P10–P90 band."""
    from ..runs.cash_forecast import forecast_cash

    forecast, chosen = forecast_cash(workspace.open(ws_path), as_of, weeks, version)
    note(chosen.note)
    if fmt == OutputFormat.json:
        print_json(forecast.as_dict())
        return
    print_rows(forecast.days, fmt, title=f"Cash forecast from {forecast.as_of} (opening {forecast.opening_balance})")
    if fmt == OutputFormat.table:
        weekly = forecast.by_kind.pivot(on="kind", index="week", values="amount")
        print_rows(weekly, fmt, title="Inflows (+) and outflows (−) by week and kind")


LeverOpt = Annotated[str | None, typer.Option(help="days (-5, +10) or a percent of the current days (-10%)")]


@cash_app.command("levers")
def cash_levers_cmd(
    dso: LeverOpt = "-5",
    dio: LeverOpt = "-10%",
    dpo: LeverOpt = "+10",
    rate: Annotated[str, typer.Option("--rate", help="yearly cost of funds (6% or 0.06)")] = "6%",
    as_of: Annotated[str | None, typer.Option("--as-of", help="last day measured (default: the ledger's last)")] = None,
    days: Annotated[int, typer.Option("--days", help="days of history the DSO, DIO and DPO are measured on")] = 90,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Cash released by shorter DSO, lower DIO and longer DPO (the KPI engine's definitions), its yearly
    financing value, what each takes, and whether each supplier's early-payment discount beats the rate."""
    from ..runs.cash_forecast import cash_levers

    changes = {k: v for k, v in (("dso", dso), ("dio", dio), ("dpo", dpo)) if v is not None}
    result = cash_levers(workspace.open(ws_path), changes, rate, as_of, days)
    if fmt == OutputFormat.json:
        print_json(result.as_dict())
        return
    title = f"Working-capital levers, measured {result.first}..{result.last}, at {result.rate:.2%} a year"
    print_rows(result.levers, fmt, title=title)
    if result.discounts or fmt == OutputFormat.table:
        print_rows(
            result.discounts,
            fmt,
            title="Early-payment discounts against the cost of funds",
            kinds={"implied_annual_rate": "ratio"},
        )


@eval_app.command("cash")
def eval_cash_cmd(
    origins: OriginsOpt = 6,
    weeks: WeeksOpt = 13,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Backtest the cash forecast: forecast from past as-of days (reading only what was known then) and
    compare with the bank balances that followed."""
    from ..runs.cash_backtest import backtest_cash

    result = backtest_cash(workspace.open(ws_path), origins, weeks)
    if fmt == OutputFormat.json:
        print_json(result.as_dict())
        return
    print_rows(result.horizons, fmt, title="Closing balance error by horizon")
    print_rows(result.documents, fmt, title="Per-document days error (open receivables and payables)")
    if fmt == OutputFormat.table:
        print_rows(result.late_payers, fmt, title="The late-paying customers' expected dates")
        for name, share in result.coverage.items():
            note(f"P10–P90 band coverage, {name}: {share:.1%} of {result.weeks_checked} week ends")
