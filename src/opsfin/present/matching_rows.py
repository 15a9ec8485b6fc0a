"""The row shapes of the matching results, as the CLI's `--format json` and the REST API both give them
(docs/matching.md): one definition, so the two front ends cannot drift apart."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..matching.invoices import LINE_DETAILS, LINE_HEAD

#: one row per (bank line, document) of a bank reconciliation
BANK_KEYS = ("bank_txn_id", "doc_type", "doc_id", "rule", "score", "status", "match_id", "run_id")
#: the `details` of one supplier invoice line of the three-way match
DETAIL_KEYS = ("match_id", *LINE_DETAILS)
#: the columns of `opsfin match invoices --format csv`: the line and its verdict, then the figures a reviewer checks
INVOICE_CSV_KEYS = (
    *LINE_HEAD,
    "supplier_id",
    "po_id",
    "qty",
    "received_qty",
    "unit_price",
    "po_unit_price",
    "amount",
    "money_at_stake",
    "currency",
    "decision",
)


def bank_match_rows(matches: pl.DataFrame) -> list[dict[str, Any]]:
    """The bank matches as rows of `BANK_KEYS`."""
    return matches.select(*BANK_KEYS).to_dicts()


def invoice_lines_json(lines: pl.DataFrame) -> list[dict[str, Any]]:
    """Each invoice line as `{invoice_id, line, status, issues, details: {DETAIL_KEYS…}}`."""
    return [
        {
            "invoice_id": r["invoice_id"],
            "line": r["line"],
            "status": r["status"],
            "issues": r["issues"],
            "details": {k: r[k] for k in DETAIL_KEYS},
        }
        for r in lines.to_dicts()
    ]
