"""Matching: bank reconciliation and three-way invoice matching, with decisions and evaluation.

Pure engines (tables + config -> tables):
- `reconcile(bank, items, config.bank, base_currency, decisions, kept)` -> `BankReconciliation`
  (`bank.py`, rules in `rules.py`, candidates in `candidates.py`, exception reasons in `exceptions.py`);
- `three_way_match(tables, config.invoices, decisions)` -> `InvoiceMatch` (`invoices.py`, `duplicates.py`).

On a workspace (`runs.py`): `run_bank` (never writes: also the preview of a run), `record_bank_run`
(keeps a run's new auto matches), `run_invoices`, `record_decision` (confirm/reject through the app
database), `run_evaluation` (against the demo's truth/, scored by `evaluate.py`). See docs/matching.md."""

from __future__ import annotations

from .bank import BankDecisions, BankReconciliation, kept_frame, reconcile
from .config import MatchingConfig, default_config, load_config, parse_config
from .invoices import InvoiceMatch, InvoiceTables, exception_queue, three_way_match
from .runs import record_bank_run, record_decision, run_bank, run_evaluation, run_invoices

__all__ = [
    "BankDecisions",
    "BankReconciliation",
    "InvoiceMatch",
    "InvoiceTables",
    "MatchingConfig",
    "default_config",
    "exception_queue",
    "kept_frame",
    "load_config",
    "parse_config",
    "reconcile",
    "record_bank_run",
    "record_decision",
    "run_bank",
    "run_evaluation",
    "run_invoices",
    "three_way_match",
]
