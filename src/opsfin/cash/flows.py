"""One cash flow of the forecast, as a row (docs/cash.md, "The daily 13-week cash forecast")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl

MONEY = pl.Decimal(18, 2)
FLOW_SCHEMA: dict[str, Any] = {
    "kind": pl.String,
    "direction": pl.String,  # "in" | "out"
    "ref": pl.String,  # the document, or what the flow stands for
    "party_id": pl.String,
    "date": pl.Date,
    "early_date": pl.Date,
    "late_date": pl.Date,
    "amount": MONEY,  # positive for an inflow and an outflow alike; a credit note is negative
    "amount_low": MONEY,
    "amount_high": MONEY,
}


def flow(
    kind: str,
    direction: str,
    ref: str,
    day: dt.date,
    amount: Decimal,
    *,
    party_id: str | None = None,
    early: dt.date | None = None,
    late: dt.date | None = None,
    low: Decimal | None = None,
    high: Decimal | None = None,
) -> dict[str, Any]:
    """A `FLOW_SCHEMA` row; the early and late dates default to `day`, the low and high amounts to `amount`."""
    return {
        "kind": kind,
        "direction": direction,
        "ref": ref,
        "party_id": party_id,
        "date": day,
        "early_date": early or day,
        "late_date": late or day,
        "amount": amount,
        "amount_low": amount if low is None else low,
        "amount_high": amount if high is None else high,
    }
