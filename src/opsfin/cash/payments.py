"""When each open document will be paid (docs/cash.md, "Learned payment behaviour").

AR: a LightGBM model with quantile objectives (P10, P50, P90) of the days still to wait until an invoice
open at a date is settled, learned from snapshots of the past (`payment_features`). AP: the company's own
paying behaviour, the supplier's days past due (pooled by terms where its history is thin). Nothing dated
after the as-of date is read, in training or in features."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from .documents import AP, AR, open_documents
from .payment_features import SettledHistory, ap_history, ar_history
from .payment_model import PaymentModel, PaymentModelConfig, fit_payment_model, learned_ar_dates, learned_ar_lags
from .payment_rules import lateness_dates, lateness_lags

__all__ = ["PaymentModelConfig", "payment_lags", "predict_payment_dates"]

PREDICTION_COLUMNS = ("expected_date", "p10_date", "p90_date")
LAG_SCHEMA: dict[str, Any] = {
    "party_type": pl.String,
    "party_id": pl.String,
    "p10_days": pl.Int32,
    "p50_days": pl.Int32,
    "p90_days": pl.Int32,
}


def predict_payment_dates(
    tables: Any, as_of: dt.date, config: PaymentModelConfig | None = None, *, strict_rates: bool = True
) -> pl.DataFrame:
    """`open_documents(tables, as_of)` with `expected_date`, `p10_date` and `p90_date` added: when each
    open AR invoice will be received and each open AP invoice paid, every date after `as_of`, with
    p10_date ≤ expected_date ≤ p90_date. Adds `method` ("learned" | "fallback: <reason>") per row.
    Nothing dated after `as_of` is read. `strict_rates` as in `open_documents`."""
    config = config or PaymentModelConfig()
    docs = open_documents(tables, as_of, strict_rates=strict_rates)
    ar_docs = docs.filter(pl.col("doc_type") == AR)
    ap_docs = docs.filter(pl.col("doc_type") == AP)
    ar = _ar_dates(ar_history(tables, as_of), ar_docs, as_of, config)
    ap_hist = ap_history(tables, as_of)
    ap = lateness_dates(ap_hist, ap_docs, as_of, config.min_party_history, "supplier", config.held_grace_days)
    out = pl.concat([ar, ap], how="vertical_relaxed") if ar.height or ap.height else _empty(docs)
    return out.sort(["doc_type", "due_date", "doc_id"])


def payment_lags(tables: Any, as_of: dt.date, config: PaymentModelConfig | None = None) -> pl.DataFrame:
    """`party_type` ("customer" | "supplier"), `party_id`, `p10_days`, `p50_days`, `p90_days`: days from
    invoice date to payment for an invoice issued at `as_of` on the party's terms, per customer (learned,
    pooled where thin) and per supplier (the company's own paying behaviour). For future sales and
    purchases of a plan. Every customer and supplier appears once; 0 ≤ p10 ≤ p50 ≤ p90."""
    config = config or PaymentModelConfig()
    history = ar_history(tables, as_of)
    model, _ = _learned(history, config)
    if model is not None:
        customers = learned_ar_lags(model, as_of)
    else:
        customers = lateness_lags(history, config.min_party_history, "customer")
    suppliers = lateness_lags(ap_history(tables, as_of), config.min_party_history, "supplier")
    return pl.concat([customers, suppliers]).cast(LAG_SCHEMA).sort(["party_type", "party_id"])  # type: ignore[arg-type]


def _ar_dates(history: SettledHistory, docs: pl.DataFrame, as_of: dt.date, config: PaymentModelConfig) -> pl.DataFrame:
    model, reason = _learned(history, config)
    if model is not None:
        return learned_ar_dates(model, docs, as_of)
    out = lateness_dates(history, docs, as_of, config.min_party_history, "customer")
    return out.with_columns(method=pl.lit(f"fallback: {reason}"))


def _learned(history: SettledHistory, config: PaymentModelConfig) -> tuple[PaymentModel | None, str]:
    """The fitted model, or None and why not: too few settled invoices, snapshots or training rows to learn
    from (then paying on the due date plus the customer's median lateness is the better-founded guess).

    The fit is deterministic, so the last one is kept and reused when the same history (compared in full)
    and config come again: the cash forecast asks for dates and lags at one as-of date, one fit serves both."""
    for kept_history, kept_config, result in _LAST_FIT:
        if kept_config == config and _same_history(kept_history, history):
            return result
    settled = history.settled_count()
    if settled < config.min_settled:
        result = None, f"{settled} settled customer invoices, fewer than {config.min_settled} to learn from"
    else:
        result = fit_payment_model(history, config)
    _LAST_FIT[:] = [(history, config, result)]
    return result


_LAST_FIT: list[tuple[SettledHistory, PaymentModelConfig, tuple[PaymentModel | None, str]]] = []


def _same_history(a: SettledHistory, b: SettledHistory) -> bool:
    return a.as_of == b.as_of and a.docs.equals(b.docs) and a.parties.equals(b.parties)


def _empty(docs: pl.DataFrame) -> pl.DataFrame:
    return docs.with_columns(
        *(pl.lit(None, dtype=pl.Date).alias(c) for c in PREDICTION_COLUMNS), method=pl.lit(None, dtype=pl.String)
    )
