"""The cash flows of the daily forecast, one row each (`FLOW_SCHEMA`), by kind (docs/cash.md):

| kind | direction | from | date (early … late) |
| --- | --- | --- | --- |
| `receivables` | in | open AR invoices | the learned expected date (P10 … P90) |
| `payables` | out | open AP invoices | the company's own paying behaviour per supplier (P10 … P90) |
| `planned_sales` | in | the plan version's volume_plan revenue, spread over each month's weekdays, gross of VAT at the trailing invoices' VAT factor | invoice day + each customer's learned lag, customers weighted by their trailing invoicing |
| `planned_purchases` | out | planned sales × the trailing ratio of supplier invoicing (gross) to sales (net) | invoice day + each supplier's lag, suppliers weighted by their trailing invoicing |
| `payroll`, `tax`, `fixed_costs`, `other` | in or out | the GL's cash lines of the last `run_rate_months` whole months: the mean per day of the month | the same day of each coming month (amounts low … high by the spread of the monthly totals) |
| `capital_spend` | out | the version's budget lines on fixed-asset accounts | spread over the month's weekdays |
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents
from ..core.periods import add_months, month_end, month_start
from .flows import FLOW_SCHEMA, MONEY, flow
from .forecast_inputs import LEARNED, PaymentBehaviour
from .forecast_plan import planned_flows, spread_flows
from .forecast_reads import cash_history, planned_capital_spend

END_OF_MONTH = 31  # the slot of a line posted on its month's last day


@dataclass(frozen=True)
class ForecastConfig:
    """`run_rate_months`: whole months of GL history behind payroll, tax and fixed costs; `trailing_days`:
    days of invoicing that weight customers and suppliers and give the VAT factor; `band_z`: the z-score of
    the run-rate items' P10/P90 amounts (1.2816 for a normal spread)."""

    run_rate_months: int = 6
    trailing_days: int = 90
    band_z: float = 1.2816


def forecast_flows(
    t: Any,
    as_of: dt.date,
    horizon_days: int,
    version: str | None,
    config: ForecastConfig,
    behaviour: PaymentBehaviour = LEARNED,
) -> pl.DataFrame:
    """Every flow of the `horizon_days` days after `as_of` (a flow may fall beyond them: the roll leaves it
    out), the documents' dates and the lags from `behaviour` (the learned model by default)."""
    last = as_of + dt.timedelta(days=horizon_days)
    parts = [document_flows(behaviour.documents(t, as_of), as_of)]
    history = cash_history(t, add_months(as_of, -config.run_rate_months - 1), as_of)
    parts.append(run_rate_flows(history, as_of, last, config))
    if version is not None:
        parts.append(planned_flows(t, as_of, last, version, config.trailing_days, behaviour.lags))
        capital = dict(planned_capital_spend(t, version, as_of, last).iter_rows())
        parts.append(spread_flows(capital, as_of, last, "capital_spend", "out", f"{version} capital spend"))
    return pl.concat([p.cast(FLOW_SCHEMA) for p in parts])  # type: ignore[arg-type]


def document_flows(docs: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """One flow per open document (the `predict_payment_dates` rows): AR in, AP out, at `open_amount_base`,
    dated at `expected_date` (early `p10_date`, late `p90_date`), none before the day after `as_of`."""
    tomorrow = pl.lit(as_of + dt.timedelta(days=1))
    is_ar = pl.col("doc_type") == "ar_invoice"
    amount = pl.col("open_amount_base").cast(MONEY)
    return docs.select(
        kind=pl.when(is_ar).then(pl.lit("receivables")).otherwise(pl.lit("payables")),
        direction=pl.when(is_ar).then(pl.lit("in")).otherwise(pl.lit("out")),
        ref=pl.col("doc_id"),
        party_id=pl.col("party_id"),
        date=pl.max_horizontal("expected_date", tomorrow),
        early_date=pl.max_horizontal("p10_date", tomorrow),
        late_date=pl.max_horizontal("p90_date", tomorrow),
        amount=amount,
        amount_low=amount,
        amount_high=amount,
    )


def run_rate_flows(history: pl.DataFrame, as_of: dt.date, last: dt.date, config: ForecastConfig) -> pl.DataFrame:
    """The run-rate items (`cash_history` rows of the whole months before `as_of`) repeated on their days of
    the month over (as_of, last]: per kind and day of the month the mean amount of the months (a line on a
    month's last day stays on the last day); low and high amounts ± `band_z` × the kind's coefficient of
    variation of its monthly totals."""
    months = _whole_months(as_of, config.run_rate_months, history)
    if not months:
        return pl.DataFrame(schema=FLOW_SCHEMA)
    inside = history.filter(pl.col("posting_date").dt.month_start().is_in(months))
    slots: dict[tuple[str, int], Decimal] = {}
    monthly: dict[str, dict[dt.date, Decimal]] = {}
    for day, kind, amount in inside.select("posting_date", "kind", "amount").iter_rows():
        slot = END_OF_MONTH if day == month_end(day) else day.day
        slots[(kind, slot)] = slots.get((kind, slot), Decimal(0)) + amount
        per_kind = monthly.setdefault(kind, dict.fromkeys(months, Decimal(0)))
        per_kind[month_start(day)] += amount
    spread = {k: _variation(list(v.values())) for k, v in monthly.items()}
    rows = []
    day = as_of + dt.timedelta(days=1)
    while day <= last:
        for (kind, slot), total in sorted(slots.items()):
            if min(slot, month_end(day).day) != day.day:  # slots past a short month's end fall on its last day
                continue
            mean = round_cents(total / len(months))
            if mean:
                rows.append(_run_rate_row(kind, day, mean, spread[kind] * Decimal(repr(config.band_z))))
        day += dt.timedelta(days=1)
    return pl.DataFrame(rows, schema=FLOW_SCHEMA)


def _whole_months(as_of: dt.date, n: int, history: pl.DataFrame) -> list[dt.date]:
    """The last `n` whole months on or before `as_of` that the history reaches (from its first month on)."""
    if history.is_empty():
        return []
    first = month_start(history["posting_date"].min())  # type: ignore[arg-type]
    end = month_start(as_of) if as_of == month_end(as_of) else add_months(as_of, -1)
    return [m for m in (add_months(end, -i) for i in range(n - 1, -1, -1)) if m >= first]


def _variation(totals: list[Decimal]) -> Decimal:
    """The coefficient of variation of monthly totals (sample standard deviation ÷ |mean|; 0 for fewer than 2)."""
    if len(totals) < 2:
        return Decimal(0)
    mean = statistics.fmean(float(x) for x in totals)
    return Decimal(repr(statistics.stdev(float(x) for x in totals) / abs(mean))) if mean else Decimal(0)


def _run_rate_row(kind: str, day: dt.date, signed: Decimal, spread: Decimal) -> dict[str, Any]:
    amount = abs(signed)
    low = round_cents(amount * max(Decimal(0), 1 - spread))
    high = round_cents(amount * (1 + spread))
    return flow(kind, "in" if signed > 0 else "out", f"{kind} run rate", day, amount, low=low, high=high)
