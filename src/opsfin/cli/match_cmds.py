"""`opsfin match …` and `opsfin eval matching`: bank reconciliation and three-way invoice matching (src/opsfin/matching)."""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer

from .. import workspace
from ..present.matching_rows import INVOICE_CSV_KEYS, bank_match_rows, invoice_lines_json
from .alerts_cmds import eval_app
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import console, err_console, print_json, print_rows
from .root import app

match_app = typer.Typer(
    name="match",
    help="Bank reconciliation, three-way invoice matching and their decisions.",
    no_args_is_help=True,
)
app.add_typer(match_app, name="match")

FromOpt = Annotated[str | None, typer.Option("--from", help="first booking day of the bank lines (YYYY-MM-DD)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last booking day of the bank lines (YYYY-MM-DD)")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="judge receipts up to this day (default: today)")]
TABLE_LIMIT = 50

PreviewOpt = Annotated[
    bool,
    typer.Option(
        "--preview",
        help="show what a run would do and keep nothing (writes nothing to the app database)",
    ),
]


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


def _bank_json(run, kept: dict | None = None) -> dict:
    """The issue's JSON, plus `run_id` per match (the run that kept an auto match) and `run`: the run
    recorded now (`{run_id, kept, kept_lines, through, …}`), null with --preview or nothing new to keep."""
    return {
        "summary": run.summary,
        "matches": bank_match_rows(run.matches),
        "run": kept,
    }


def _run_note(run, kept: dict | None, preview: bool) -> str:
    """One line saying what this run kept (or would keep)."""
    fresh = run.matches.filter((pl.col("status") == "auto") & pl.col("run_id").is_null())
    held = run.matches.filter((pl.col("status") == "auto") & pl.col("run_id").is_not_null())
    before = held.filter(pl.col("run_id") != (kept or {}).get("run_id", -1))["match_id"].n_unique()
    earlier = f"; {before} auto matches kept by earlier runs" if before else ""
    if preview:
        return (
            f"preview: a run would keep {fresh['match_id'].n_unique()} new auto matches "
            f"({fresh['bank_txn_id'].n_unique()} bank lines){earlier}; nothing written"
        )
    if kept is None:
        return f"no new auto matches to keep{earlier}"
    return f"kept {kept['kept']} auto matches as run {kept['run_id']} (bank lines through {kept['through']}){earlier}"


def _invoice_table(lines: pl.DataFrame) -> pl.DataFrame:
    """Invoice lines for a terminal table: the invoice and line in one column, the money at stake with its
    currency, the issues besides the status only when some line has more than one, the decision only
    when one was taken."""
    table = lines.select(
        "match_id",
        invoice=pl.concat_str("invoice_id", pl.lit(" /"), pl.col("line").cast(pl.String)),
        status="status",
        also=pl.col("issues").list.slice(1).list.join(","),
        at_stake=pl.concat_str(pl.col("money_at_stake").cast(pl.String), pl.lit(" "), "currency"),
        decision=pl.col("decision").fill_null(""),
    )
    if table.filter(pl.col("also") != "").is_empty():
        table = table.drop("also")
    if table.filter(pl.col("decision") != "").is_empty():
        table = table.drop("decision")
    return table


def _print_summary(summary: dict, title: str) -> None:
    flat = {k: v for k, v in summary.items() if not isinstance(v, dict)}
    console.print(f"[bold]{title}[/bold]: " + ", ".join(f"{k} {v}" for k, v in flat.items()))
    for k, v in summary.items():
        if isinstance(v, dict) and v:
            console.print(f"  {k}: " + ", ".join(f"{kk} {vv}" for kk, vv in v.items()))


@match_app.command("bank")
def match_bank_cmd(
    from_: FromOpt = None,
    to: ToOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    preview: PreviewOpt = False,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Match bank lines to AR receipts, AP payments and GL cash lines (rules: model/matching.yaml), and keep
    the new auto matches as a run (audited), so later runs never re-decide them; --preview keeps nothing."""
    from ..runs.matching import record_bank_run
    from .users_cmds import cli_actor

    ws = workspace.open(ws_path)
    kept = None
    if preview:
        run = ws.match_bank(from_, to)
    else:
        kept, run = record_bank_run(ws, cli_actor(), from_, to)
    if run.summary["bank_lines"] == 0:
        _no_bank_lines(ws, from_, to, fmt)
    note = _run_note(run, kept, preview)
    if fmt == OutputFormat.json:
        err_console.print(note)
        print_json(_bank_json(run, kept))
        return
    columns = (
        "match_id",
        "status",
        "bank_txn_id",
        "booking_date",
        "amount",
        "counterparty",
        "doc_type",
        "doc_id",
        "doc_amount",
        "rule",
        "score",
    )
    if fmt == OutputFormat.csv:
        err_console.print(note)
        print_rows(run.matches.select(*columns, "run_id"), fmt)
        return
    console.print(note)
    _print_summary(run.summary, "Bank reconciliation")
    shown = run.matches.filter(pl.col("status") == "suggested")
    table = shown.head(TABLE_LIMIT).select(
        "match_id",
        "bank_txn_id",
        "booking_date",
        "amount",
        document=pl.concat_str(
            "doc_type",
            pl.lit(" "),
            "doc_id",
            pl.when(pl.col("doc_amount") != pl.col("amount"))
            .then(pl.concat_str(pl.lit(" ("), pl.col("doc_amount").cast(pl.String), pl.lit(")")))
            .otherwise(pl.lit("")),
        ),
        rule="rule",
        score="score",
    )
    print_rows(table, fmt, title=f"Suggested matches ({shown.height}), each bank line's candidates")
    console.print(
        f"[dim]{run.summary['auto']} auto and {run.summary['confirmed']} confirmed lines not listed; "
        "--format csv or json lists every match; `opsfin match exceptions` the unmatched lines.[/dim]"
    )


def _no_bank_lines(ws, from_: str | None, to: str | None, fmt: OutputFormat) -> None:
    """No bank line in the whole warehouse is an error (exit 2); none in the range only a note (table)."""
    from ..errors import UserError
    from ..runs.matching import bank_line_span

    n, first, last = bank_line_span(ws)
    if n == 0:
        raise UserError(
            f"no bank lines in {ws.path}: load a statement first (`opsfin ingest FILE`: camt.053, "
            "MT940, or CSV with --table bank_transactions; docs/ingest.md)"
        )
    if fmt == OutputFormat.table:
        console.print(
            f"[yellow]no bank lines booked from {from_ or 'the start'} to {to or 'the end'}; "
            f"the warehouse has {n}, booked {first} to {last}[/yellow]"
        )


@match_app.command("invoices")
def match_invoices_cmd(
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Three-way match of supplier invoice lines against PO lines and goods receipts."""
    run = workspace.open(ws_path).match_invoices(as_of)
    if fmt == OutputFormat.json:
        print_json({"summary": run.summary, "lines": invoice_lines_json(run.lines)})
        return
    rows = run.lines.with_columns(pl.col("issues").list.join(","))
    if fmt == OutputFormat.csv:
        print_rows(rows.select(*INVOICE_CSV_KEYS), fmt)
        return
    _print_summary(run.summary, "Three-way match")
    flagged = run.lines.filter(pl.col("status") != "matched")
    print_rows(
        _invoice_table(flagged.head(TABLE_LIMIT)),
        fmt,
        title=f"Lines with an issue ({flagged.height})",
    )


@match_app.command("exceptions")
def match_exceptions_cmd(
    from_: FromOpt = None,
    to: ToOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """The exception queues: bank lines left unmatched (with the reason) and invoice lines with an issue
    (with the money at stake)."""
    from ..matching import exception_queue

    ws = workspace.open(ws_path)
    bank = ws.match_bank(from_, to).exceptions
    queue = exception_queue(ws.match_invoices(as_of))
    if fmt == OutputFormat.json:
        print_json({"bank": bank.to_dicts(), "invoices": invoice_lines_json(queue)})
        return
    invoices = queue.with_columns(pl.col("issues").list.join(","))
    if fmt == OutputFormat.csv:
        print_rows(
            pl.concat(
                [
                    bank.select(
                        queue=pl.lit("bank"),
                        id=pl.col("bank_txn_id"),
                        amount="amount",
                        currency="currency",
                        reason="reason",
                    ),
                    invoices.select(
                        queue=pl.lit("invoice"),
                        id=pl.col("match_id"),
                        amount="money_at_stake",
                        currency="currency",
                        reason=pl.concat_str(
                            "invoice_id",
                            pl.lit(" line "),
                            pl.col("line").cast(pl.String),
                            pl.lit(": "),
                            "issues",
                        ),
                    ),
                ]
            ),
            fmt,
        )
        return
    print_rows(
        bank.select("bank_txn_id", "booking_date", "amount", "reference", "reason").head(TABLE_LIMIT),
        fmt,
        title=f"Bank lines not matched ({bank.height})",
    )
    print_rows(
        _invoice_table(queue.head(TABLE_LIMIT)),
        fmt,
        title=f"Invoice lines with an issue ({invoices.height}), most money at stake first",
    )


def _decide(match_id: str, decision: str, ws_path) -> None:
    from ..runs.matching import record_decision
    from .users_cmds import cli_actor

    ws = workspace.open(ws_path)
    rec = record_decision(ws, cli_actor(), match_id.strip(), decision)
    pairs = rec["payload"].get("pairs")
    what = (
        ", ".join(f"{b} ↔ {t} {d}" for b, t, d in pairs)
        if pairs
        else f"{rec['payload'].get('invoice_id')} line {rec['payload'].get('line')}"
    )
    console.print(f"{decision} {rec['match_id']} ({what}) by {rec['actor']}")
    if decision == "rejected" and rec["payload"].get("kept_by_run"):
        console.print(
            f"it was an auto match kept by run {rec['payload']['kept_by_run']}: its bank lines and "
            "documents are free again, and this match is never proposed again"
        )


MatchId = Annotated[str, typer.Argument(help="a match id from `opsfin match bank|invoices`")]


@match_app.command("confirm")
def match_confirm_cmd(match_id: MatchId, ws_path: WorkspaceOpt = None) -> None:
    """Confirm a proposed match (audited); later runs keep it as it is."""
    _decide(match_id, "confirmed", ws_path)


@match_app.command("reject")
def match_reject_cmd(match_id: MatchId, ws_path: WorkspaceOpt = None) -> None:
    """Reject a proposed, kept or confirmed match (audited); later runs never propose it again."""
    _decide(match_id, "rejected", ws_path)


#: the bank's measures of `opsfin eval matching`: (measure, rate, counted, out of, note, digits of the %)
BANK_MEASURES = (
    ("bank: auto pairs precision", "pair_precision", "correct_auto_pairs", "auto_pairs", "auto pairs in the truth", 2),
    ("bank: auto pairs recall", "pair_recall", "correct_auto_pairs", "truth_pairs", "true pairs", 2),
    (
        "bank: matchable lines auto-matched correctly",
        "auto_correct_rate",
        "auto_correct_lines",
        "matchable_lines",
        "(target >= 98%)",
        2,
    ),
    ("bank: wrong auto matches", "wrong_auto_rate", "wrong_auto_lines", "auto_lines", "auto lines (target <= 0.1%)", 3),
)


def _measure(measure: str, rate: float | None, part: int, whole: int, note: str, digits: int) -> dict:
    return {"measure": measure, "value": _pct(rate, digits), "detail": f"{part}/{whole} {note}"}


def _kind_rows(bank: dict) -> list[dict]:
    """The bank lines per kind of the demo's truth (docs/matching.md, "The demo's bank lines")."""
    return [
        {
            "kind": k["kind"],
            "lines": k["lines"],
            "auto": k["auto"],
            "sugg.": k["suggested"],
            "sugg. right": k["suggested_correct"],
            "exc.": k["exception"],
            "auto prec.": _pct(k["auto_precision"], 1),
            "recall": _pct(k["recall"], 1),
        }
        for k in bank.get("by_kind", [])
    ]


def _shares_title(shares: dict | None) -> str:
    if not shares:
        return "Bank lines by kind"
    parts = ", ".join(f"{name} {_pct(shares[name])}" for name in ("auto", "suggested", "exception"))
    return f"Bank lines by kind ({parts})"


@eval_app.command("matching")
def eval_matching_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """Bank auto matches and invoice statuses scored against truth/ (targets of docs/matching.md)."""
    from ..runs.matching import run_evaluation

    result = run_evaluation(workspace.open(ws_path))
    if fmt == OutputFormat.json:
        print_json(result)
        return
    b, inv = result["bank"], result["invoices"]
    rows = [
        _measure(name, b[rate], b[part], b[whole], note, digits)
        for name, rate, part, whole, note, digits in BANK_MEASURES
    ]
    for k in inv["kinds"]:
        rows.append(
            {
                "measure": f"invoices: recall {k['issue']}",
                "value": _pct(k["recall"]),
                "detail": f"{k['found']}/{k['injected']} found; precision {_pct(k['precision'])} "
                f"of {k['flagged']} flagged (target recall >= 95%)",
            }
        )
    clean_rate, flagged, lines = inv["clean_flag_rate"], inv["clean_flagged"], inv["clean_lines"]
    rows.append(_measure("invoices: clean lines flagged", clean_rate, flagged, lines, "(target <= 2%)", 2))
    if fmt == OutputFormat.csv:
        print_rows(rows, fmt)
        return
    print_rows(rows, fmt, title="Matching quality against truth/")
    print_rows(_kind_rows(b), fmt, title=_shares_title(b.get("shares")))
    unmet = [name for name, t in result["targets"].items() if t["met"] is False]
    console.print("all targets met" if not unmet else f"[red]targets not met: {', '.join(unmet)}[/red]")
