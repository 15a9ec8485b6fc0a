"""Matching: bank reconciliation and three-way invoice matching, with decisions and evaluation.

Pure engines (tables + config -> tables):
- `reconcile(bank, items, config.bank, base_currency, decisions, kept)` -> `BankReconciliation`
  (`bank.py`, rules in `rules.py`, candidates in `candidates.py`, exception reasons in `exceptions.py`);
- `three_way_match(tables, config.invoices, decisions)` -> `InvoiceMatch` (`invoices.py`, `duplicates.py`).

Runs, pure (`runs.py`): the context a date range needs, and the new auto matches a run keeps.

On a workspace, the I/O layer `opsfin.runs.matching` reads the tables, the decisions and the kept runs
and calls these: `run_bank` (never writes: also the preview of a run), `record_bank_run` (keeps a run's
new auto matches), `run_invoices`, `record_decision` (confirm/reject through the app database),
`run_evaluation` (against the demo's truth/, scored by `evaluate.py`). See docs/matching.md."""

from __future__ import annotations

from .bank import BankDecisions, BankReconciliation, kept_frame, reconcile
from .config import MatchingConfig, default_config, parse_config
from .invoices import InvoiceMatch, InvoiceTables, exception_queue, three_way_match
from .runs import RunToKeep, context_days, mark_kept, run_to_keep

__all__ = [
    "BankDecisions",
    "BankReconciliation",
    "InvoiceMatch",
    "InvoiceTables",
    "MatchingConfig",
    "RunToKeep",
    "context_days",
    "default_config",
    "exception_queue",
    "kept_frame",
    "mark_kept",
    "parse_config",
    "reconcile",
    "run_to_keep",
    "three_way_match",
]
