"""`opsfin audit …`: the hash-chained audit log of the app database (src/opsfin/appdb)."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import print_rows
from .root import app

audit_app = typer.Typer(
    name="audit",
    help="The append-only, hash-chained audit log of every change.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


def _open(ws_path):
    from ..appdb import open_app_db

    return open_app_db(workspace.open(ws_path))


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, sep, digest = text.partition(":")
    if not sep or not seq.strip().isdigit() or len(digest.strip()) != 64:
        raise UserError(f"--anchor {text!r}: use SEQ:HASH as printed by an earlier `opsfin audit verify`")
    return int(seq), digest.strip().lower()


@audit_app.command("verify")
def audit_verify_cmd(
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH of an earlier head, kept outside the database: that entry must be unchanged"),
    ] = None,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Check every entry's hash, every link and the head. Exit 0 when intact, 1 listing each problem."""
    wanted = _anchor(anchor)
    db = _open(ws_path)
    problems = db.verify_audit(anchor=wanted)
    if problems:
        typer.echo(
            f"audit log damaged: {len(problems)} problem{'s' if len(problems) > 1 else ''}",
            err=True,
        )
        for p in problems:
            typer.echo(f"  {p}", err=True)
        raise typer.Exit(1)
    head = db.audit_head()
    seq, digest = head if head else (0, "")
    typer.echo(f"audit log intact: {seq} entries")
    if seq:
        typer.echo(f"head: {seq}:{digest}  (keep it elsewhere; later: opsfin audit verify --anchor {seq}:…)")


@audit_app.command("list")
def audit_list_cmd(
    limit: Annotated[int, typer.Option(min=1, help="newest entries to show")] = 50,
    object_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="only user, token, comment, action, guardrail, match, load, period or allocation",
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The newest audit entries: who did what to which object, and when."""
    from ..appdb.audit import canonical_json

    entries = _open(ws_path).audit_entries(limit=limit, object_type=object_type)
    if fmt != OutputFormat.json:
        entries = [{**e, "payload": canonical_json(e["payload"])} for e in entries]
        if fmt == OutputFormat.table:
            entries = [
                {
                    "seq": e["seq"],
                    "at (UTC)": e["at"].strftime("%Y-%m-%d %H:%M:%S"),
                    "actor": e["actor"],
                    "action": e["action"],
                    "object": f"{e['object_type']} {e['object_id']}",
                    "payload": e["payload"],
                }
                for e in entries
            ]
    print_rows(entries, fmt, title="Audit log")
