"""Running the matching engines on a workspace: read the warehouse, `model/matching.yaml` and the
decisions in the app database, call the pure engines, and record decisions. The CLI, the Python API
(`Workspace.match_bank` / `match_invoices`) and the web all go through these functions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import UserError
from ..kpis.periods import parse_day
from .bank import BankReconciliation, only_lines, reconcile
from .candidates import read_bank_lines, read_open_items
from .config import MatchingConfig, load_config
from .decisions import bank_decisions, decide_bank, decide_invoice, invoice_decisions, kind_of
from .invoices import InvoiceMatch, read_invoice_tables, three_way_match

if TYPE_CHECKING:
    from ..workspace import Workspace


def config_of(ws: Workspace) -> MatchingConfig:
    return load_config(ws.model_dir)


def _widest_window(config: MatchingConfig) -> int:
    rules = config.bank.rules
    return max(max(getattr(rules, n).days_before, getattr(rules, n).days_after) for n in type(rules).model_fields)


def _decision_records(ws: Workspace, kind: str, use_app_db: bool) -> list[dict[str, Any]]:
    """Decisions so far. A workspace whose (default, SQLite) app database was never created has none,
    and reading does not create it."""
    if not use_app_db:
        return []
    from ..appdb import open_app_db
    from ..appdb.db import app_db_url

    url = app_db_url(ws)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return []
    return open_app_db(ws).match_decisions(kind)


def run_bank(ws: Workspace, start: str | dt.date | None = None, end: str | dt.date | None = None,
             use_app_db: bool = True) -> BankReconciliation:
    """Reconcile the bank lines booked in [start, end] against the open items around them.

    With a `start`, the lines booked in the widest rule window before it take part too, as context:
    they claim their documents as they do in a run over the whole history, so a line of the range
    never takes the document of an earlier line (a repeat of a payment made last month, say). Only
    the lines of the range are reported. `use_app_db=False` ignores earlier decisions (what
    `opsfin eval matching` measures)."""
    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise UserError(f"--from {lo} is after --to {hi}")
    config = config_of(ws)
    margin = dt.timedelta(days=_widest_window(config))
    context = lo - margin if lo else None
    with ws.connect(read_only=True) as con:
        bank = read_bank_lines(con, context, hi)
        items = read_open_items(con, ws.settings.base_currency, context - margin if context else None,
                                hi + margin if hi else None)
    decisions = bank_decisions(_decision_records(ws, "bank", use_app_db))
    result = reconcile(bank, items, config.bank, ws.settings.base_currency, decisions)
    if lo is None:
        return result
    return only_lines(result, bank.filter(pl.col("booking_date") >= lo)["bank_txn_id"])


def bank_line_span(ws: Workspace) -> tuple[int, dt.date | None, dt.date | None]:
    """How many bank lines the warehouse holds, and the first and last booking day."""
    with ws.connect(read_only=True) as con:
        n, first, last = con.sql("SELECT count(*), min(booking_date), max(booking_date) FROM bank_transactions"
                                 ).fetchall()[0]
    return int(n), first, last


def run_invoices(ws: Workspace, as_of: str | dt.date | None = None, use_app_db: bool = True) -> InvoiceMatch:
    """Three-way match of every supplier invoice line, against the receipts up to `as_of` (default today)."""
    day = parse_day(as_of, "--as-of") or dt.date.today()
    with ws.connect(read_only=True) as con:
        tables = read_invoice_tables(con, day)
    decisions = invoice_decisions(_decision_records(ws, "invoice", use_app_db))
    return three_way_match(tables, config_of(ws).invoices, decisions)


def record_decision(ws: Workspace, actor: str, match_id: str, decision: str) -> dict:
    """Confirm or reject a bank match (`B…`) or an invoice line (`I…`) as found by a fresh run."""
    from ..appdb import open_app_db

    kind = kind_of(match_id)
    db = open_app_db(ws)
    if kind == "bank":
        return decide_bank(db, actor, match_id, decision, run_bank(ws))
    return decide_invoice(db, actor, match_id, decision, run_invoices(ws))


def run_evaluation(ws: Workspace) -> dict:
    """Both engines, without earlier decisions, scored against the workspace's truth/ (`evaluate.py`)."""
    from .evaluate import load_bank_truth, load_invoice_truth, score_bank, score_invoices, verdict

    bank_truth, invoice_truth = load_bank_truth(ws.truth_dir), load_invoice_truth(ws.truth_dir)
    bank = run_bank(ws, use_app_db=False)
    with ws.connect(read_only=True) as con:
        seen = read_open_items(con, ws.settings.base_currency, None, None).select("doc_type", "doc_id")
    bank_scores = score_bank(bank, bank_truth, seen)
    invoice_scores = score_invoices(run_invoices(ws, use_app_db=False), invoice_truth)
    return {"bank": bank_scores, "invoices": invoice_scores, "targets": verdict(bank_scores, invoice_scores)}
