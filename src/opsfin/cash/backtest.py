"""Backtest of the cash forecast (docs/cash.md, "Backtest: `opsfin eval cash`").

From each origin the forecast reads only what was dated on or before it; it is then compared with what
followed: the bank balance at the end of weeks 1, 4 and 13 (error, and error as a share of the actual
balance), whether the actual balance at each week's end fell inside the P10–P90 band, the days error of
each open document's expected date against the date it was settled in full, beside paying on the due date
(tomorrow when overdue), and the late-paying customers' expected days after due before and after their
behaviour changed."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import polars as pl

from .documents import AP, AR, settled_amounts
from .forecast import cash_forecast
from .forecast_inputs import LEARNED, PAY_ON_DUE, PaymentBehaviour
from .forecast_reads import bank_balance

HORIZON_WEEKS = (1, 4, 13)
PHASES = ("before it paid late", "while it paid late", "after it paid late")


@dataclass(frozen=True)
class Backtest:
    """The measures: `horizons` (closing-balance error per forecast and week), `documents` (days error of the
    first forecast's documents beside pay-on-due), `late_payers`, and per forecast the share of week ends
    inside the band (`coverage`) over `weeks_checked` week ends."""

    origins: list[dt.date]
    horizons: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    late_payers: list[dict[str, Any]]
    coverage: dict[str, float]
    weeks_checked: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "origins": self.origins,
            "horizons": self.horizons,
            "documents": self.documents,
            "late_payers": self.late_payers,
            "band_coverage": {k: round(v, 4) for k, v in self.coverage.items()},
            "band_weeks_checked": self.weeks_checked,
        }


def backtest(
    t: Any,
    origins: list[dt.date],
    weeks: int,
    version_for: Callable[[dt.date], str | None],
    late: list[tuple[str, dt.date, dt.date]],
    behaviours: tuple[PaymentBehaviour, ...] = (LEARNED, PAY_ON_DUE),
) -> Backtest:
    """Forecast from each origin with each payment behaviour and measure (`late`: the late-paying customers,
    from and to when they paid late); documents and late payers are the first behaviour's."""
    errors: dict[tuple[str, int], list[tuple[Decimal, Decimal]]] = {
        (b.name, w): [] for b in behaviours for w in HORIZON_WEEKS if w <= weeks
    }
    inside = dict.fromkeys((b.name for b in behaviours), 0)
    doc_errors: list[dict[str, Any]] = []
    late_rows: list[dict[str, Any]] = []
    settled = _settled_dates(t)
    for origin in origins:
        actual = {w: bank_balance(t, origin + dt.timedelta(days=7 * w)) for w in range(1, weeks + 1)}
        for n, behaviour in enumerate(behaviours):
            fc = cash_forecast(t, origin, weeks, version_for(origin), behaviour=behaviour)
            by_day = {r["date"]: r for r in fc.days.to_dicts()}
            for w, balance in actual.items():
                row = by_day[origin + dt.timedelta(days=7 * w)]
                inside[behaviour.name] += row["closing_p10"] <= balance <= row["closing_p90"]
                if (behaviour.name, w) in errors:
                    errors[(behaviour.name, w)].append((row["closing"] - balance, balance))
            if n == 0:
                docs = fc.flows.filter(pl.col("kind").is_in(["receivables", "payables"]))
                doc_errors += _document_errors(docs, settled, origin)
                late_rows += _late_payer_rows(docs, settled, origin, late)
    checked = len(origins) * weeks
    coverage = {name: count / max(checked, 1) for name, count in inside.items()}
    horizons = [_horizon_row(name, w, e) for (name, w), e in errors.items()]
    return Backtest(origins, horizons, _document_summary(doc_errors), _late_summary(late_rows), coverage, checked)


def _settled_dates(t: Any) -> pl.DataFrame:
    """`kind, doc_id, due_date, settled_date`: every invoice (or credit note) settled in full, with the date of
    its last allocation; `kind` "receivables" or "payables" as the forecast's flows name them."""
    parts = []
    for side, name, kind in ((AR, "ar_invoices", "receivables"), (AP, "ap_invoices", "payables")):
        paid = settled_amounts(t, side, dt.date(9999, 12, 31))
        inv = t(name).select(_i="invoice_id", total="total", due_date="due_date")
        j = inv.join(paid, inv._i == paid.invoice_id)
        j = j.filter(j.settled.abs() >= j.total.abs())
        j = j.select(
            kind=ibis.literal(kind),
            doc_id=j._i,
            due_date=j.due_date.cast("date"),
            settled_date=j.last_settled_date.cast("date"),
        )
        out = pl.from_arrow(j.to_pyarrow())
        assert isinstance(out, pl.DataFrame)
        parts.append(out)
    return pl.concat(parts)


def _document_errors(docs: pl.DataFrame, settled: pl.DataFrame, origin: dt.date) -> list[dict[str, Any]]:
    j = docs.join(settled, left_on=["kind", "ref"], right_on=["kind", "doc_id"])
    tomorrow = origin + dt.timedelta(days=1)
    return [
        {
            "kind": r["kind"],
            "model_days": abs((r["date"] - r["settled_date"]).days),
            "due_days": abs((max(r["due_date"], tomorrow) - r["settled_date"]).days),
        }
        for r in j.select("kind", "date", "due_date", "settled_date").to_dicts()
    ]


def _late_payer_rows(
    docs: pl.DataFrame, settled: pl.DataFrame, origin: dt.date, late: list[tuple[str, dt.date, dt.date]]
) -> list[dict[str, Any]]:
    rows = []
    for customer, start, end in late:
        mine = docs.filter((pl.col("party_id") == customer) & (pl.col("kind") == "receivables"))
        j = mine.join(
            settled.select("kind", "doc_id", "due_date"), left_on=["kind", "ref"], right_on=["kind", "doc_id"]
        )
        for r in j.filter(pl.col("due_date").is_not_null()).to_dicts():
            rows.append(
                {
                    "customer_id": customer,
                    "phase": PHASES[(origin >= start) + (origin > end)],
                    "days_after_due": (r["date"] - r["due_date"]).days,
                }
            )
    return rows


def _horizon_row(forecast: str, week: int, errors: list[tuple[Decimal, Decimal]]) -> dict[str, Any]:
    n = len(errors)
    mae = sum((abs(e) for e, _ in errors), Decimal(0)) / n if n else Decimal(0)
    pct = sum(abs(e) / abs(a) for e, a in errors if a) / n if n else Decimal(0)
    bias = sum((e for e, _ in errors), Decimal(0)) / n if n else Decimal(0)
    return {
        "forecast": forecast,
        "week": week,
        "origins": n,
        "mean_abs_error": mae.quantize(Decimal("0.01")),
        "mean_abs_error_share": round(float(pct), 4),
        "mean_error": bias.quantize(Decimal("0.01")),
    }


def _document_summary(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for kind in ("receivables", "payables"):
        mine = [e for e in errors if e["kind"] == kind]
        if mine:
            model = sum(e["model_days"] for e in mine) / len(mine)
            due = sum(e["due_days"] for e in mine) / len(mine)
            out.append(
                {
                    "kind": kind,
                    "documents": len(mine),
                    "mae_days": round(model, 2),
                    "pay_on_due_mae_days": round(due, 2),
                    "ratio_to_pay_on_due": round(model / due, 3) if due else None,
                }
            )
    return out


def _late_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for customer in sorted({r["customer_id"] for r in rows}):
        for phase in PHASES:
            days = [r["days_after_due"] for r in rows if r["customer_id"] == customer and r["phase"] == phase]
            if days:
                out.append(
                    {
                        "customer_id": customer,
                        "phase": phase,
                        "documents": len(days),
                        "median_expected_days_after_due": statistics.median(days),
                    }
                )
    return out
