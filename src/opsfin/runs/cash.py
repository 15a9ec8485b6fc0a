"""`opsfin cash predict` on a workspace (docs/cash.md, "Learned payment behaviour"): check the as-of date
against the warehouse's documents, then call the pure payment model (opsfin.cash.payments) on its tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from ..core.periods import parse_day
from ..errors import UserError
from .tables import reading_tables

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

#: the columns of a predicted document, in the order `cash predict` prints them
PREDICTED_COLUMNS = (
    "doc_type",
    "doc_id",
    "party_id",
    "open_amount",
    "due_date",
    "expected_date",
    "p10_date",
    "p90_date",
)
#: the dated rows that bound the data: (table, date column)
_DATED = (
    ("ar_invoices", "invoice_date"),
    ("ap_invoices", "invoice_date"),
    ("ar_receipts", "received_date"),
    ("ap_payments", "paid_date"),
)


@dataclass(frozen=True)
class PaymentPrediction:
    """The documents open at `as_of` with their expected dates (`rows`: PREDICTED_COLUMNS, `currency`,
    `open_amount_base`, `method`)."""

    as_of: dt.date
    rows: pl.DataFrame

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `cash predict`: `{"as_of", "documents": [...]}` with PREDICTED_COLUMNS per document."""
        return {"as_of": self.as_of, "documents": self.rows.select(PREDICTED_COLUMNS).to_dicts()}


def predict_payments(ws: WorkspaceFolder, as_of: str | dt.date) -> PaymentPrediction:
    """The documents open at the end of `as_of` with their expected payment dates. A UserError for a bad
    date, a warehouse without invoices, or a date before its first invoice or after its last dated row."""
    from ..cash.payments import predict_payment_dates

    day = parse_day(as_of, "--as-of")
    assert day is not None
    with reading_tables(ws) as t:
        check_as_of(data_span(t), day)
        # the command shows amounts in the documents' currencies: a missing exchange rate stops nothing
        rows = predict_payment_dates(t, day, strict_rates=False)
    order = [*PREDICTED_COLUMNS, *(c for c in rows.columns if c not in PREDICTED_COLUMNS)]
    return PaymentPrediction(day, rows.select(order))


def data_span(t: Any) -> tuple[dt.date, dt.date] | None:
    """The first invoice date and the last date of any invoice, receipt or payment; None without invoices."""
    firsts, lasts = [], []
    for name, column in _DATED:
        rel = t(name)
        row = rel.aggregate(first=rel[column].min(), last=rel[column].max()).to_pyarrow().to_pylist()[0]
        if row["last"] is not None:
            lasts.append(row["last"])
            if name.endswith("invoices"):
                firsts.append(row["first"])
    return (min(firsts), max(lasts)) if firsts else None


def check_as_of(span: tuple[dt.date, dt.date] | None, day: dt.date) -> None:
    """A UserError when there is nothing to predict from, or `day` lies outside the data."""
    if span is None:
        raise UserError("no AR or AP invoices in the warehouse: nothing to predict (load ar_invoices or ap_invoices)")
    first, last = span
    if day < first:
        raise UserError("{param} " + f"{day}: before the first invoice ({first})", param="as_of", value=str(day))
    if day > last:
        raise UserError(
            "{param} "
            + f"{day}: after the warehouse's last invoice, receipt or payment ({last}); what was paid since is "
            "not loaded",
            param="as_of",
            value=str(day),
        )
