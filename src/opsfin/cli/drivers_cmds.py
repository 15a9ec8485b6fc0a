"""`opsfin drivers` (the driver tree) and `opsfin tradeoff speed|reliability` (the cost of speed and of
reliability), top-level verbs (docs/scenarios.md "The driver tree", "Trade-offs"). Each parses its options,
calls `runs/`, and prints through cli/output.py; progress goes to stderr."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer

from .. import workspace
from ..errors import UserError
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import err_console, print_json, print_rows, step
from .root import app

tradeoff_app = typer.Typer(
    help="Trade-offs priced from the company's own history: the cost of speed and of reliability.",
    no_args_is_help=True,
)
app.add_typer(tradeoff_app, name="tradeoff")

MonthsOpt = Annotated[int, typer.Option("--months", help="months of history up to the last shipment month")]


def _note(text: str) -> None:
    err_console.print(text, markup=False, highlight=False)


def _print_report(
    fmt: OutputFormat,
    as_json: Callable[[], Any],
    rows: Any,
    table_rows: Callable[[], Any],
    title: str,
    kinds: Mapping[str, Any],
) -> bool:
    """Print the JSON, the CSV of `rows` or the table under `title`; True when the table was printed (its
    note may follow on stderr)."""
    if fmt == OutputFormat.json:
        print_json(as_json())
        return False
    if fmt == OutputFormat.csv:
        print_rows(rows, fmt)
        return False
    print_rows(table_rows(), fmt, title=title, kinds=kinds)
    return True


def _steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(
            "{param} expects whole points separated by commas, e.g. 1,5,10", param="steps", value=text
        ) from None


@tradeoff_app.command("speed")
def tradeoff_speed_cmd(
    steps: Annotated[
        str | None, typer.Option("--steps", help="points of on-time delivery to price (default 1,5,10)")
    ] = None,
    at_risk_share: Annotated[
        float | None, typer.Option("--at-risk-share", help="share of a late order's contribution at risk (default 0.2)")
    ] = None,
    expedite_rate: Annotated[
        float | None,
        typer.Option("--expedite-rate", help="expediting cost per day late, share of price (default 0.01)"),
    ] = None,
    holding_rate: Annotated[
        float | None, typer.Option("--holding-rate", help="yearly holding cost of stock, share of cost (default 0.25)")
    ] = None,
    months: MonthsOpt = 12,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The cost of raising on-time delivery by a few points (overtime at the bottleneck, expediting, extra
    finished-goods stock) against the margin late orders put at risk, from the delivery history."""
    from ..present.tradeoff_rows import SPEED_KINDS, speed_json, speed_table
    from ..runs.tradeoffs import speed_tradeoff
    from ..scenarios.tradeoffs import speed_assumptions

    assumptions = speed_assumptions(
        steps=_steps(steps),
        at_risk_share=at_risk_share,
        expedite_rate_per_day=expedite_rate,
        holding_rate=holding_rate,
    )
    window, curve = speed_tradeoff(workspace.open(ws_path), assumptions, months, progress=step)
    title = f"Cost of speed, {window.first:%Y-%m}..{window.last:%Y-%m}"
    table = (lambda: speed_table(curve), title, SPEED_KINDS)
    if _print_report(fmt, lambda: speed_json(window, assumptions, curve), curve.points, *table):
        _note(f"late units: {curve.late_qty:,.0f} of {curve.shipped_qty:,.0f}; margin at risk {curve.margin_at_risk:,}")


@tradeoff_app.command("reliability")
def tradeoff_reliability_cmd(
    maintenance_rate: Annotated[
        float | None,
        typer.Option(
            "--maintenance-rate", help="cost of a maintenance labour hour (default: the technicians' mean rate)"
        ),
    ] = None,
    months: MonthsOpt = 12,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Per machine: maintenance spend against the availability and the contribution it protects, from the
    history of planned maintenance and breakdowns, with a recommendation."""
    from ..present.tradeoff_rows import RELIABILITY_KINDS, reliability_json, reliability_table_rows
    from ..runs.tradeoffs import reliability_tradeoff
    from ..scenarios.tradeoffs import reliability_assumptions

    assumptions = reliability_assumptions(maintenance_labor_rate=maintenance_rate)
    window, used, result = reliability_tradeoff(workspace.open(ws_path), assumptions, months, progress=step)
    title = f"Cost of reliability, {window.first:%Y-%m}..{window.last:%Y-%m}"
    table = (lambda: reliability_table_rows(result), title, RELIABILITY_KINDS)
    if _print_report(fmt, lambda: reliability_json(window, used, result), result.machines, *table):
        avoided = result.hours_avoided_per_service
        effect = "cannot be told" if avoided is None else f"{avoided:.2f} breakdown hours avoided"
        _note(f"one more planned maintenance a month: {effect} (fitted on {result.observations} machine-months)")


@app.command("drivers")
def drivers_cmd(
    period: Annotated[
        str | None, typer.Option("--period", help="the month (YYYY-MM; default: the last month with shipments)")
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="the plan version the budget and sensitivities come from (default: the first by name covering the period)",
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The driver tree of a month: volume, price, mix, availability per work centre, scrap, labour
    productivity, overtime, energy, material prices, DSO, DIO and DPO up to gross margin, operating income and
    cash; each node against budget and the month before, with the change in operating income and cash for
    one unit of the driver, found by running the plan engine."""
    from ..present.driver_rows import DRIVER_KINDS, table_rows
    from ..runs.drivers import driver_report

    report = driver_report(workspace.open(ws_path), period, version, progress=step)
    title = f"Drivers of {report.period:%Y-%m} against {report.version}"
    _print_report(fmt, report.as_json, report.nodes, lambda: table_rows(report.nodes), title, DRIVER_KINDS)
