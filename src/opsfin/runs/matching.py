"""The matching engines on a workspace: read the warehouse, `model/matching.yaml`, the decisions and
the auto matches kept by earlier runs in the app database, call the pure engines (opsfin.matching),
and record decisions and runs. The CLI, the Python API (`Workspace.match_bank` / `match_invoices`) and
the web all go through these functions. `run_bank` never writes (it is also the preview of a run);
`record_bank_run` keeps a run's new auto matches. See docs/matching.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..appdb import open_app_db
from ..appdb.db import app_db_url
from ..core.periods import parse_day, range_error
from ..matching.bank import BankReconciliation, kept_frame, only_lines, reconcile
from ..matching.candidates import read_bank_lines, read_open_items
from ..matching.config import MatchingConfig
from ..matching.decisions import (
    bank_decision,
    bank_decisions,
    invoice_decision,
    invoice_decisions,
    kind_of,
)
from ..matching.invoices import InvoiceMatch, read_invoice_tables, three_way_match
from ..matching.runs import context_days, mark_kept, run_to_keep
from .model import load_matching_config
from .tables import reading_tables

if TYPE_CHECKING:
    from ..appdb import AppDB
    from ..workspace_folder import WorkspaceFolder


def config_of(ws: WorkspaceFolder) -> MatchingConfig:
    return load_matching_config(ws.model_dir)


def existing_app_db(ws: WorkspaceFolder, use_app_db: bool = True) -> AppDB | None:
    """The workspace's app database, or None when it is not to be used or was never created (a default
    SQLite file that does not exist: reading does not create it)."""
    if not use_app_db:
        return None
    url = app_db_url(ws)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return None
    return open_app_db(ws)


def _decision_records(ws: WorkspaceFolder, kind: str, use_app_db: bool) -> list[dict[str, Any]]:
    """Decisions so far (none without an app database)."""
    db = existing_app_db(ws, use_app_db)
    return db.match_decisions(kind) if db is not None else []


@dataclass
class BankRun:
    """A reconciliation on a workspace, before anything is kept."""

    full: BankReconciliation  # every line read, context included
    reported: BankReconciliation  # the lines of the range
    based_on: int | None  # the latest kept run the engine saw
    start: dt.date | None
    end: dt.date | None


def reconcile_workspace(
    ws: WorkspaceFolder,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    use_app_db: bool = True,
) -> BankRun:
    """Read the warehouse, the config, the decisions and the kept runs, and reconcile (writes nothing)."""
    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise range_error(lo, hi)
    config = config_of(ws)
    margin = dt.timedelta(days=context_days(config))
    context = lo - margin if lo else None
    with reading_tables(ws) as t:
        bank = read_bank_lines(t, context, hi)
        items = read_open_items(
            t,
            ws.settings.base_currency,
            context - margin if context else None,
            hi + margin if hi else None,
        )
    db = existing_app_db(ws, use_app_db)
    based_on, kept, records = None, kept_frame(), []
    if db is not None:
        latest = db.latest_match_run()  # read first: a run recorded meanwhile makes recording refuse
        based_on = latest["run_id"] if latest else None
        records = db.match_decisions("bank")
        kept = pl.concat([kept_frame(), *(kept_frame(b) for b in db.kept_match_batches())])
    result = reconcile(bank, items, config.bank, ws.settings.base_currency, bank_decisions(records), kept)
    reported = result if lo is None else only_lines(result, bank.filter(pl.col("booking_date") >= lo)["bank_txn_id"])
    return BankRun(result, reported, based_on, lo, hi)


def run_bank(
    ws: WorkspaceFolder,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    use_app_db: bool = True,
) -> BankReconciliation:
    """Reconcile the bank lines booked in [start, end] against the open items around them. Writes nothing:
    this is also the *preview* of a run (`record_bank_run` keeps its new auto matches).

    Confirmed matches and the auto matches kept by earlier runs stay as they are (unless rejected since).
    With a `start`, the lines booked in the widest rule window before it take part too, as context:
    they claim their documents as they do in a run over the whole history, so a line of the range
    never takes the document of an earlier line (a repeat of a payment made last month, say). Only
    the lines of the range are reported. `use_app_db=False` ignores earlier decisions and kept runs
    (what `opsfin eval matching` measures)."""
    return reconcile_workspace(ws, start, end, use_app_db).reported


def record_bank_run(
    ws: WorkspaceFolder,
    actor: str,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> tuple[dict | None, BankReconciliation]:
    """Run the reconciliation of [start, end] and keep its new auto matches in the app database (creating
    it if needed) as one run, audited once: `(run, result)`, where `run` is `AppDB.record_match_run`'s
    record (None when there was nothing new to keep) and `result` reports the kept matches with their
    `run_id`. A one-to-many match reaching into the context before `start` is kept whole."""
    return keep_auto_matches(ws, actor, reconcile_workspace(ws, start, end, True))


def keep_auto_matches(ws: WorkspaceFolder, actor: str, run: BankRun) -> tuple[dict | None, BankReconciliation]:
    """Keep the new auto matches of `run` (see `record_bank_run`)."""
    kept = run_to_keep(run.full, run.reported)
    if kept is None:
        return None, run.reported
    record = open_app_db(ws).record_match_run(
        actor,
        kept.pairs,
        kept.counts,
        date_from=run.start,
        date_to=run.end,
        through=kept.through,
        based_on=run.based_on,
    )
    return record, mark_kept(run.reported, kept, record["run_id"])


def bank_line_span(ws: WorkspaceFolder) -> tuple[int, dt.date | None, dt.date | None]:
    """How many bank lines the warehouse holds, and the first and last booking day."""
    with ws.connect(read_only=True) as con:
        n, first, last = con.sql(
            "SELECT count(*), min(booking_date), max(booking_date) FROM bank_transactions"
        ).fetchall()[0]
    return int(n), first, last


def run_invoices(ws: WorkspaceFolder, as_of: str | dt.date | None = None, use_app_db: bool = True) -> InvoiceMatch:
    """Three-way match of every supplier invoice line, against the receipts up to `as_of` (default today)."""
    day = parse_day(as_of, "--as-of") or dt.date.today()
    with reading_tables(ws) as t:
        tables = read_invoice_tables(t, day)
    decisions = invoice_decisions(_decision_records(ws, "invoice", use_app_db))
    return three_way_match(tables, config_of(ws).invoices, decisions)


def record_decision(ws: WorkspaceFolder, actor: str, match_id: str, decision: str) -> dict:
    """Confirm or reject a bank match (`B…`) or an invoice line (`I…`) as found by a fresh run."""
    kind = kind_of(match_id)
    db = open_app_db(ws)
    if kind == "bank":
        return decide_bank(db, actor, match_id, decision, run_bank(ws))
    payload = invoice_decision(match_id, decision, run_invoices(ws))
    return db.record_match_decision(actor, "invoice", match_id, decision, payload)


def decide_bank(db: AppDB, actor: str, match_id: str, decision: str, run: BankReconciliation) -> dict:
    """Record a decision on bank match `match_id` of `run`, checked against the decisions so far."""
    payload = bank_decision(db.match_decisions("bank"), match_id, decision, run)
    return db.record_match_decision(actor, "bank", match_id, decision, payload)


def run_evaluation(ws: WorkspaceFolder) -> dict:
    """Both engines, without earlier decisions, scored against the workspace's truth/ (matching/evaluate.py)."""
    from ..matching.evaluate import (
        load_bank_kinds,
        load_bank_truth,
        load_invoice_truth,
        score_bank,
        score_bank_kinds,
        score_invoices,
        shares,
        verdict,
    )

    bank_truth, invoice_truth = load_bank_truth(ws.truth_dir), load_invoice_truth(ws.truth_dir)
    bank = run_bank(ws, use_app_db=False)
    with reading_tables(ws) as t:
        seen = read_open_items(t, ws.settings.base_currency, None, None).select("doc_type", "doc_id")
    bank_scores = score_bank(bank, bank_truth, seen)
    bank_scores["shares"] = shares(bank.summary)
    bank_scores["by_kind"] = score_bank_kinds(bank, bank_truth, load_bank_kinds(ws.truth_dir))
    invoice_scores = score_invoices(run_invoices(ws, use_app_db=False), invoice_truth)
    return {
        "bank": bank_scores,
        "invoices": invoice_scores,
        "targets": verdict(bank_scores, invoice_scores),
    }
