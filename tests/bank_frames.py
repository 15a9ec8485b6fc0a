"""The columns of the bank reconciliation's two inputs, for tests that build statements and open items by
hand (`reconcile(bank, items, …)`; docs/matching.md): a bank line, and an open document without
`amount_base` or with it (its amount in the base currency, for a document in another currency)."""

from __future__ import annotations

import polars as pl

BANK_SCHEMA = {
    "bank_txn_id": pl.String,
    "booking_date": pl.Date,
    "amount": pl.Decimal(18, 2),
    "currency": pl.String,
    "counterparty": pl.String,
    "reference": pl.String,
    "description": pl.String,
}
ITEM_BASE_SCHEMA = {
    "doc_type": pl.String,
    "doc_id": pl.String,
    "doc_date": pl.Date,
    "amount": pl.Decimal(18, 2),
    "currency": pl.String,
    "amount_base": pl.Decimal(18, 2),
    "counterparty": pl.String,
    "reference": pl.String,
    "description": pl.String,
}
ITEM_SCHEMA = {c: t for c, t in ITEM_BASE_SCHEMA.items() if c != "amount_base"}
