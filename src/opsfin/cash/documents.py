"""Open documents as of a date (docs/cash.md, "Learned payment behaviour").

An AR or AP invoice (or credit note) is open at the end of `as_of` when it was issued on or before that
day and the allocations of receipts (AR) or payments (AP) dated on or before it do not settle its total.
Nothing dated after `as_of` is read: a later invoice, receipt, payment or allocation changes nothing.

`open_amount` is the total less those allocations, in the document's currency; `open_amount_base` converts
it at the latest `fx_rates` row dated on or before `as_of` (1 for the base currency), rounded half to even
to the cent once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..core.money import half_even_arrow
from ..errors import UserError
from ..kpis.sources import fx_to_base

MONEY_T = "decimal(18, 2)"
MONEY_SUM_T = "decimal(38, 2)"
RATE_T = "decimal(18, 8)"
AR, AP = "ar_invoice", "ap_invoice"

#: one row per document open at the end of the as-of date
OPEN_DOCUMENT_SCHEMA: dict[str, Any] = {
    "doc_type": pl.String,
    "doc_id": pl.String,
    "party_id": pl.String,
    "doc_date": pl.Date,
    "due_date": pl.Date,
    "currency": pl.String,
    "open_amount": pl.Decimal(18, 2),
    "open_amount_base": pl.Decimal(18, 2),
}

#: (doc_type, invoices, party column, settlements, settlement date column, allocations, settlement key)
_SIDES = (
    (AR, "ar_invoices", "customer_id", "ar_receipts", "received_date", "ar_receipt_allocations", "receipt_id"),
    (AP, "ap_invoices", "supplier_id", "ap_payments", "paid_date", "ap_payment_allocations", "payment_id"),
)


def settled_amounts(t: Any, side: str, as_of: dt.date) -> ir.Table:
    """`invoice_id, settled, last_settled_date`: per invoice of `side` ("ar_invoice" or "ap_invoice"), the
    allocations of receipts or payments dated on or before `as_of`, and the latest of their dates."""
    _, _, _, settlements, date_col, allocations, key = next(s for s in _SIDES if s[0] == side)
    money = t(settlements)
    money = money.filter(money[date_col] <= as_of).select(_k=key, _day=date_col)
    al = t(allocations)
    j = al.join(money, al[key] == money._k)
    return j.group_by("invoice_id").aggregate(
        settled=j.amount.cast(MONEY_SUM_T).sum().cast(MONEY_SUM_T), last_settled_date=j._day.max()
    )


def _open_side(t: Any, side: tuple[str, ...], as_of: dt.date, base_currency: str) -> ir.Table:
    doc_type, invoices, party, *_ = side
    inv = t(invoices)
    inv = inv.filter(inv.invoice_date <= as_of)
    paid = settled_amounts(t, doc_type, as_of).rename(_iid="invoice_id")
    j = inv.left_join(paid, inv.invoice_id == paid._iid)
    total = j.total.cast(MONEY_SUM_T)
    rest = (total - j.settled.fill_null(0).cast(MONEY_SUM_T)).cast(MONEY_SUM_T)
    # open while something of the document's own sign remains: an invoice not yet paid in full, a credit
    # note not yet used up; an overpaid or fully settled one is not open
    still_open = ((total > 0) & (rest > 0)) | ((total < 0) & (rest < 0))
    j = j.filter(still_open).mutate(_rest=rest, _asof=ibis.literal(as_of, type="date"))
    j = fx_to_base(t, j, "currency", "_asof", base_currency)
    return j.select(
        doc_type=ibis.literal(doc_type),
        doc_id=j.invoice_id,
        party_id=j[party],
        doc_date=j.invoice_date.cast("date"),
        due_date=j.due_date.cast("date"),
        currency=j.currency,
        open_amount=j._rest.cast(MONEY_T),
        _rate=j._rate.cast(RATE_T),
    )


def open_documents(tables: Any, as_of: dt.date, *, strict_rates: bool = True) -> pl.DataFrame:
    """One row per AR and AP invoice (or credit note) open at the end of `as_of`: issued on or before it,
    not fully settled by allocations dated on or before it. Nothing dated after `as_of` is read.

    Columns: `doc_type` ("ar_invoice" | "ap_invoice"), `doc_id`, `party_id` (customer or supplier),
    `doc_date`, `due_date`, `currency`, `open_amount` Decimal(18,2) in the document's currency,
    `open_amount_base` Decimal(18,2) at the latest fx_rates row on or before `as_of`. Ordered by
    doc_type, due_date, doc_id. `tables` is the warehouse's `Tables` (a callable name -> Ibis table,
    with `base_currency`). A UserError when a currency has no rate on or before `as_of`; with
    `strict_rates=False`, a null `open_amount_base` instead (for readers that need no base amounts)."""
    base = getattr(tables, "base_currency", "EUR")
    parts = [_open_side(tables, side, as_of, base) for side in _SIDES]
    arrow = ibis.union(*parts).to_pyarrow()
    base_amount = half_even_arrow(pc.multiply(arrow["open_amount"], arrow["_rate"]), 2).cast(pa.decimal128(18, 2))
    rows = pl.from_arrow(arrow.append_column("open_amount_base", base_amount))
    assert isinstance(rows, pl.DataFrame)
    missing = rows.filter(pl.col("_rate").is_null())
    if missing.height and strict_rates:
        first = missing.row(0, named=True)
        raise UserError(
            f"{first['doc_type']} {first['doc_id']}: no fx_rates row for {first['currency']} on or before {as_of}"
        )
    out = rows.drop("_rate").cast(OPEN_DOCUMENT_SCHEMA)  # type: ignore[arg-type]
    return out.sort(["doc_type", "due_date", "doc_id"])
