"""The payment behaviour the cash forecast builds on (docs/cash.md, "Learned payment behaviour"): the open
documents with their expected dates and the payment lags of invoices not yet issued, learned by
`opsfin.cash.payments`; and the pay-on-due baseline the backtest compares them with (due dates, tomorrow
when overdue, and lags equal to each party's payment terms)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from .documents import open_documents
from .payments import payment_lags, predict_payment_dates

ON_DUE = "pay on due"


def expected_documents(t: Any, as_of: dt.date) -> pl.DataFrame:
    """The open documents at `as_of` with their learned `expected_date`, `p10_date`, `p90_date`."""
    return predict_payment_dates(t, as_of)


def expected_lags(t: Any, as_of: dt.date) -> pl.DataFrame:
    """`party_type` ("customer" | "supplier"), `party_id`, `p10_days`, `p50_days`, `p90_days`: learned days
    from invoice to payment for an invoice issued now."""
    return payment_lags(t, as_of)


def documents_on_due_dates(t: Any, as_of: dt.date) -> pl.DataFrame:
    """The open documents at `as_of`, each expected on its due date (tomorrow when overdue), no spread."""
    tomorrow = as_of + dt.timedelta(days=1)
    due = pl.max_horizontal(pl.col("due_date"), pl.lit(tomorrow))
    docs = open_documents(t, as_of)
    return docs.with_columns(expected_date=due, p10_date=due, p90_date=due, method=pl.lit(ON_DUE))


def lags_on_terms(t: Any, as_of: dt.date | None = None) -> pl.DataFrame:
    """Every customer's and supplier's lag = its `payment_terms_days` (P10 = P50 = P90)."""
    parts = []
    for name, key, party_type in (("customers", "customer_id", "customer"), ("suppliers", "supplier_id", "supplier")):
        rows = pl.from_arrow(t(name).select(key, "payment_terms_days").to_pyarrow())
        assert isinstance(rows, pl.DataFrame)
        days = pl.col("payment_terms_days").cast(pl.Int32)
        parts.append(
            rows.select(
                party_type=pl.lit(party_type), party_id=pl.col(key), p10_days=days, p50_days=days, p90_days=days
            )
        )
    return pl.concat(parts)


@dataclass(frozen=True)
class PaymentBehaviour:
    """Where a forecast's document dates and lags come from: `documents(t, as_of)` rows as
    `predict_payment_dates` gives them, `lags(t, as_of)` rows as `payment_lags` gives them."""

    name: str
    documents: Callable[[Any, dt.date], pl.DataFrame]
    lags: Callable[[Any, dt.date], pl.DataFrame]


LEARNED = PaymentBehaviour("learned", expected_documents, expected_lags)
PAY_ON_DUE = PaymentBehaviour(ON_DUE, documents_on_due_dates, lags_on_terms)
