"""`opsfin check`: the integrity report. Exit code 1 if any stop-level finding."""

from __future__ import annotations

from itertools import groupby

import typer
from rich.table import Table as RichTable

from .. import workspace
from ..integrity import Finding, summary_line
from ..runs.checks import run_checks
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import console, err_console, print_json, print_rows
from .root import app

_STYLE = {"stop": "bold red", "warn": "yellow", "info": "cyan"}


def _print_table(findings: list[Finding]) -> None:
    if not findings:
        console.print("No findings.")
        return
    order: dict[str, int] = {}
    for f in findings:
        order.setdefault(f.check, len(order))
    for check, group in groupby(sorted(findings, key=lambda f: order[f.check]), key=lambda f: f.check):
        rows = list(group)
        table = RichTable(title=f"{check} ({len(rows)})", title_justify="left", show_lines=False)
        for name, kw in (
            ("severity", {}),
            ("table", {}),
            ("key", {"overflow": "fold"}),
            ("amount", {"justify": "right"}),
            ("message", {"overflow": "fold"}),
        ):
            table.add_column(name, **kw)  # type: ignore[arg-type]
        for f in rows:
            table.add_row(
                f"[{_STYLE[f.severity]}]{f.severity}[/]",
                f.table,
                f.key,
                "" if f.amount is None else str(f.amount),
                f.message,
            )
        console.print(table)


@app.command("check")
def check_cmd(
    workspace_dir: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Check the warehouse's integrity: balanced journals, subledgers tying to the GL, stock,
    keys, bank statements, cleared production cost centres and column rules.

    Exit code 1 if any finding has severity stop, else 0."""
    ws = workspace.open(workspace_dir)
    findings = run_checks(ws)
    summary = summary_line(findings)
    if fmt == OutputFormat.table:
        _print_table(findings)
        console.print(summary)
    else:
        if fmt == OutputFormat.json:
            print_json([f.to_dict() for f in findings])
        else:
            print_rows([f.to_dict() for f in findings], fmt)
        err_console.print(summary)  # stdout stays machine-readable
    if any(f.severity == "stop" for f in findings):
        raise typer.Exit(1)
