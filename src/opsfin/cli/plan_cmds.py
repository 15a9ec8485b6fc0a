"""`opsfin plan list|create|submit|approve|reject|archive`: plan versions and their approval
(docs/planning-versions.md). The acting person is an app user named with `--user` (the app database
checks the user exists, is enabled and holds the role); other `plan` verbs live beside (plan_app.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .. import workspace
from ..errors import UserError
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import print_rows
from .plan_app import plan_app

VersionArg = Annotated[str, typer.Argument(help="plan version name (e.g. B2026, fc-2026-03)")]
UserOpt = Annotated[
    str,
    typer.Option("--user", help="the app user taking this step (see opsfin users list)", show_default=False),
]
TIMES = ("created_at", "submitted_at", "approved_at", "rejected_at", "archived_at")
TABLE_COLUMNS = ("name", "kind", "status", "based_on", "as_of", "created_by", "submitted_by", "approved_by", "tables")


def _db(ws_path):
    from ..appdb import open_app_db

    return open_app_db(workspace.open(ws_path))


def _list_row(row: dict[str, Any], fmt: OutputFormat) -> dict[str, Any]:
    """A version as printed: every field in CSV and JSON; the main ones, times to the second, in a table."""
    if fmt == OutputFormat.json:
        return row
    out = {**row, "as_of": f"{row['as_of']:%Y-%m}" if row["as_of"] else None, "tables": ", ".join(row["tables"])}
    if fmt == OutputFormat.csv:
        return out
    return {c: out[c] for c in TABLE_COLUMNS}


@plan_app.command("list")
def plan_list_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """Every plan version with its kind and status; versions found only in the warehouse are `unregistered`."""
    from ..runs.plan_versions import list_versions

    rows = list_versions(workspace.open(ws_path))
    print_rows([_list_row(r, fmt) for r in rows], fmt, title="Plan versions")


@plan_app.command("create")
def plan_create_cmd(
    name: VersionArg,
    kind: Annotated[str, typer.Option("--kind", help="budget, forecast or scenario", show_default=False)],
    user: UserOpt,
    based_on: Annotated[str | None, typer.Option("--based-on", help="the version this one starts from")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="the last month of actuals it saw (YYYY-MM)")] = None,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Register a new draft version (before building or importing its numbers)."""
    from ..appdb.plans import KINDS
    from ..core.periods import parse_month

    if kind not in KINDS:
        raise UserError(f"choose one of {', '.join(KINDS)}", param="kind", value=kind)
    month = parse_month(as_of, "--as-of") if as_of is not None else None
    row = _db(ws_path).create_plan_version(name, kind, user, based_on=based_on, as_of=month)
    typer.echo(f"plan version {row['name']} created: {row['kind']}, draft, by {user}")


@plan_app.command("submit")
def plan_submit_cmd(name: VersionArg, user: UserOpt, ws_path: WorkspaceOpt = None) -> None:
    """Submit a draft for approval (any user but a viewer)."""
    _db(ws_path).submit_plan_version(name, user)
    typer.echo(f"plan version {name} submitted by {user}; a controller or admin other than {user} approves it")


@plan_app.command("approve")
def plan_approve_cmd(name: VersionArg, user: UserOpt, ws_path: WorkspaceOpt = None) -> None:
    """Approve a submitted version (a controller or admin, not the submitter); it is read-only from then on."""
    _db(ws_path).approve_plan_version(name, user)
    typer.echo(f"plan version {name} approved by {user}; it is read-only from now on")


@plan_app.command("reject")
def plan_reject_cmd(
    name: VersionArg,
    user: UserOpt,
    reason: Annotated[str, typer.Option("--reason", help="what to change (required)", show_default=False)],
    ws_path: WorkspaceOpt = None,
) -> None:
    """Send a submitted version back to draft, with the reason (a controller or admin)."""
    _db(ws_path).reject_plan_version(name, user, reason)
    typer.echo(f"plan version {name} rejected by {user}: back to draft")


@plan_app.command("archive")
def plan_archive_cmd(name: VersionArg, user: UserOpt, ws_path: WorkspaceOpt = None) -> None:
    """Archive an approved version (a controller or admin); archived is final."""
    _db(ws_path).archive_plan_version(name, user)
    typer.echo(f"plan version {name} archived by {user}")
