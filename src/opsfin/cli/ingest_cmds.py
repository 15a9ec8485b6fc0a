"""`opsfin ingest`, `opsfin quarantine` and `opsfin period close|list`."""

from __future__ import annotations

import getpass
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .. import ingest
from .. import workspace as opsfin_workspace
from ..errors import UserError
from ..readers import FORMATS
from .commands import opsfin_command, shell_path
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import console, print_json, print_rows, progress_bar
from .root import app

OUTPUT_FORMATS = tuple(f.value for f in OutputFormat)


def resolve_formats(fmt: str | None, doc_format: str | None, output: str | None) -> tuple[str | None, OutputFormat]:
    """`--format` takes either family: table/csv/json (output) or camt053/mt940/ubl (document)."""
    out: str | None = output.lower() if output else None
    doc: str | None = doc_format.lower() if doc_format else None
    if out is not None and out not in OUTPUT_FORMATS:
        raise UserError(f"--output {output!r}: expected one of {', '.join(OUTPUT_FORMATS)}")
    if doc is not None and doc not in FORMATS:
        raise UserError(f"--doc-format {doc_format!r}: expected one of {', '.join(FORMATS)}")
    if fmt is not None:
        value = fmt.lower()
        if value in OUTPUT_FORMATS:
            if out is not None and out != value:
                raise UserError(f"--format {value} and --output {out} disagree; give one")
            out = value
        elif value in FORMATS:
            if doc is not None and doc != value:
                raise UserError(f"--format {value} and --doc-format {doc} disagree; give one")
            doc = value
        else:
            raise UserError(
                f"--format {fmt!r}: expected an output format ({', '.join(OUTPUT_FORMATS)}) "
                f"or a document format ({', '.join(FORMATS)})"
            )
    return doc, OutputFormat(out or "table")


@contextmanager
def _progress_display(enabled: bool):
    """A transient progress line on stderr (table output only), fed by the loader's callback."""
    if not enabled:
        yield None
        return
    bar = progress_bar("[dim]{task.description}", "{task.fields[count]}")
    task = bar.add_task("reading", total=None, count="")

    def report(stage: str, done: int, total: int | None) -> None:
        count = f"{done:,}/{total:,} rows" if total else ""
        bar.update(task, description=stage, completed=done, total=total, count=count)

    with bar:
        yield report


def _print_result(result: ingest.LoadResult, out: OutputFormat, workspace: Path | None = None) -> None:
    if out == OutputFormat.json:
        print_json(result.to_dict())
        return
    if out == OutputFormat.csv:
        print_rows(
            [
                {
                    "load_id": result.load_id,
                    "table": t.table,
                    "rows_read": t.rows_read,
                    "rows_accepted": t.rows_accepted,
                    "rows_quarantined": t.rows_quarantined,
                    "already_loaded": str(result.already_loaded).lower(),
                }
                for t in result.tables
            ],
            out,
        )
        return
    if result.already_loaded:
        console.print(
            f"[yellow]Already loaded[/yellow] as [bold]{result.load_id}[/bold] "
            f"({result.table}); nothing added. Use --replace to load it again."
        )
        return
    rows = [
        {
            "table": t.table,
            "read": t.rows_read,
            "accepted": t.rows_accepted,
            "quarantined": t.rows_quarantined,
        }
        for t in result.tables
    ]
    print_rows(rows, out, title=f"load {result.load_id} from {result.source}")
    if result.replaced_load_ids:
        console.print(f"Replaced earlier load(s): {', '.join(result.replaced_load_ids)}")
    if result.ignored_columns:
        console.print(f"[dim]Columns not used: {', '.join(result.ignored_columns)}[/dim]")
    if result.rows_quarantined:
        console.print(f"[red]{result.rows_quarantined} row(s) quarantined[/red]; the first reasons:")
        for note in result.first_problems:
            console.print(
                f"  {note.table} row {note.source_row}: {note.reason}",
                markup=False,
                highlight=False,
            )
        where = f" -w {shell_path(workspace)}" if workspace is not None else ""
        console.print(
            f"See them all: [bold]{opsfin_command()} quarantine --load {result.load_id}{where}[/bold]",
            highlight=False,
            soft_wrap=True,
        )


def _check_the_source(path: Path | None, sql: str | None, doc: str | None, source_url: str | None) -> None:
    """A load reads either a file or a --sql query, each with the options that go with it."""
    if sql is not None:
        if path is not None:
            raise UserError("give either a file or --sql, not both")
        if doc is not None:
            raise UserError("--doc-format does not apply to --sql")
        if source_url is None:
            raise UserError("--sql needs --source-url (a SQLAlchemy URL such as sqlite:///erp.db)")
    else:
        if path is None:
            raise UserError("give a file to load (or --sql with --source-url)")
        if source_url is not None:
            raise UserError("--source-url goes with --sql")


def _audit_the_load(workspace: Path | None, result: ingest.LoadResult) -> None:
    """One audit entry for a load that added rows, or for one whose process was killed before its entry."""
    from ..runs.audit_trail import landed_load_payload, load_payload, record_write
    from .users_cmds import cli_actor

    ws = opsfin_workspace.open(workspace)
    # a load that added nothing changed nothing, unless the process that loaded it was killed before its entry
    landed = result.already_loaded
    payload = landed_load_payload(ws, result.load_id) if landed else load_payload(result)
    record_write(ws, cli_actor(), "load.ingest", "load", result.load_id, payload, landed=landed)


@app.command("ingest")
def ingest_cmd(
    path: Annotated[Path | None, typer.Argument(help="file to load (omit with --sql)", show_default=False)] = None,
    table: Annotated[str | None, typer.Option("--table", "-t", help="canonical table a tabular file fills")] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", "-m", help="mapping YAML (a bare name is looked up in model/mappings/)"),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel sheet (default: the first)")] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="either how to print the result (table|csv|json) or the document format "
            "(camt053|mt940|ubl); same as --output / --doc-format",
        ),
    ] = None,
    doc_format: Annotated[
        str | None, typer.Option("--doc-format", help="camt053|mt940|ubl (default: detected)")
    ] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="table|csv|json (default: table)")] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="delete an earlier load of the same content, load again"),
    ] = False,
    add_missing_parties: Annotated[
        bool,
        typer.Option("--add-missing-parties", help="UBL: create suppliers that are not in the master data"),
    ] = False,
    sql: Annotated[str | None, typer.Option("--sql", help="load the rows of this query instead of a file")] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help="SQLAlchemy URL the --sql query runs on")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Load a file or a SQL query into the warehouse; every row is accepted or quarantined.

    Tabular files (.csv, .tsv, .parquet, .xlsx, .jsonl) need --table (or `table:` in the mapping). Bank statements (camt.053, MT940) and UBL e-invoices know their tables; their format is detected from the content.

    --format accepts both an output format (table, csv, json) and a document format (camt053, mt940, ubl); --output and --doc-format say the same unambiguously.

    Loading the same content again adds nothing; --replace reloads it. See docs/ingest.md.
    """
    doc, out = resolve_formats(fmt, doc_format, output)
    with _progress_display(out == OutputFormat.table) as progress:
        _check_the_source(path, sql, doc, source_url)
        if sql is not None:
            assert source_url is not None  # checked above
            result = ingest.ingest_sql(
                workspace,
                sql,
                source_url,
                table,
                mapping=mapping,
                replace=replace,
                progress=progress,
            )
        else:
            assert path is not None  # checked above
            result = ingest.ingest_file(
                workspace,
                path,
                table=table,
                mapping=mapping,
                fmt=doc,
                replace=replace,
                add_missing_parties=add_missing_parties,
                sheet=sheet,
                progress=progress,
            )
    _audit_the_load(workspace, result)
    _print_result(result, out, workspace)


@app.command("quarantine")
def quarantine_cmd(
    load: Annotated[str | None, typer.Option("--load", help="only this load id")] = None,
    table: Annotated[str | None, typer.Option("--table", "-t", help="only this table")] = None,
    fmt: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the rows ingest refused, with the reason, the column and the raw record."""
    frame = ingest.list_quarantine(workspace, load_id=load, table=table)
    if fmt == OutputFormat.json:
        records = frame.to_dicts()
        for r in records:
            r["raw_record"] = json.loads(r["raw_record"]) if r["raw_record"] else None
        print_json(records)
    elif fmt == OutputFormat.csv:
        print_rows(frame, fmt)
    else:
        print_rows(
            frame.select("load_id", "table_name", "source_row", "column_name", "reason", "raw_record"),
            fmt,
            title="quarantine",
        )


period_app = typer.Typer(help="Close accounting periods and list the closed ones.", no_args_is_help=True)
app.add_typer(period_app, name="period")


@period_app.command("close")
def period_close_cmd(
    period: Annotated[str, typer.Argument(help="the month to close, YYYY-MM")],
    by: Annotated[str | None, typer.Option("--by", help="who closes it (default: your user name)")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Close a month: from now on, an ingest of GL rows dated in it quarantines them."""
    closed = ingest.close_period(workspace, period, by or _user())
    from ..runs.audit_trail import record_write
    from .users_cmds import cli_actor

    record_write(
        opsfin_workspace.open(workspace),
        cli_actor(),
        "period.close",
        "period",
        str(closed["period"]),
        {"closed_by": closed["closed_by"]},
    )
    console.print(f"Period [bold]{closed['period']}[/bold] closed by {closed['closed_by']}.")


@period_app.command("list")
def period_list_cmd(fmt: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """List the closed months."""
    print_rows(ingest.list_periods(workspace), fmt, title="closed periods")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
