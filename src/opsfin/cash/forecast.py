"""The daily 13-week cash forecast (docs/cash.md, "The daily 13-week cash forecast").

`cash_forecast(tables, as_of, weeks, version)` gathers the cash flows (`forecast_flows`) and rolls them into
days: the opening balance is the bank balance at the end of `as_of`; every day after it, for `weeks` × 7
days, closes at the previous close + inflow − outflow. Every flow carries an early and a late date and a
low and a high amount; the band's lower edge (`closing_p10`) takes every inflow at its late date and low
amount and every outflow at its early date and high amount, the upper edge (`closing_p90`) the opposite —
all the documents late (or early) together, a cautious band rather than a quantile of the sum.

Nothing dated after `as_of` is read. Money is Decimal end to end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from .flows import FLOW_SCHEMA
from .forecast_flows import ForecastConfig, forecast_flows
from .forecast_inputs import LEARNED, PaymentBehaviour
from .forecast_reads import bank_balance

ZERO = Decimal("0.00")
MONEY = pl.Decimal(18, 2)
DAY_SCHEMA: dict[str, Any] = {
    "date": pl.Date,
    "inflow": MONEY,
    "outflow": MONEY,
    "closing": MONEY,
    "closing_p10": MONEY,
    "closing_p90": MONEY,
}
BY_KIND_SCHEMA: dict[str, Any] = {"week": pl.Int32, "kind": pl.String, "amount": MONEY}


@dataclass(frozen=True)
class CashForecast:
    """A forecast: its as-of day, the plan version its future sales come from (None without one), the
    opening balance, one row per day (`DAY_SCHEMA`), the signed amount per week and kind (`BY_KIND_SCHEMA`:
    inflows +, outflows −) and the flows themselves (`FLOW_SCHEMA`, the documents behind a day)."""

    as_of: dt.date
    version: str | None
    opening_balance: Decimal
    days: pl.DataFrame
    by_kind: pl.DataFrame
    flows: pl.DataFrame

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: `{as_of, opening_balance, days: [...], by_kind: [...]}` (money as Decimal)."""
        return {
            "as_of": self.as_of,
            "opening_balance": self.opening_balance,
            "days": self.days.to_dicts(),
            "by_kind": self.by_kind.to_dicts(),
        }


def cash_forecast(
    tables: Any,
    as_of: dt.date,
    weeks: int = 13,
    version: str | None = None,
    config: ForecastConfig | None = None,
    behaviour: PaymentBehaviour = LEARNED,
) -> CashForecast:
    """The daily forecast of `weeks` weeks after `as_of`, future sales and purchases from plan `version`'s
    volume_plan (None: none planned). Reads nothing dated after `as_of`."""
    config = config or ForecastConfig()
    opening = bank_balance(tables, as_of)
    flows = forecast_flows(tables, as_of, weeks * 7, version, config, behaviour)
    days, by_kind = roll_days(opening, as_of, weeks * 7, flows)
    return CashForecast(as_of, version, opening, days, by_kind, flows)


def week_of(as_of: dt.date, day: dt.date) -> int:
    """Week 1 holds the 7 days after `as_of`, week 2 the next 7, …"""
    return ((day - as_of).days - 1) // 7 + 1 if day > as_of else 0


def roll_days(
    opening: Decimal, as_of: dt.date, horizon_days: int, flows: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The days (`DAY_SCHEMA`) and the weekly amounts per kind (`BY_KIND_SCHEMA`) of `flows` (`FLOW_SCHEMA`)
    over the `horizon_days` days after `as_of`; a flow dated outside them is left out."""
    dates = [as_of + dt.timedelta(days=i) for i in range(1, horizon_days + 1)]
    flows = _normalised(flows, as_of)
    by_kind = _by_kind(flows, as_of, dates)
    inflow = _per_day(flows, "in", "date", "amount", dates)
    outflow = _per_day(flows, "out", "date", "amount", dates)
    # the band: inflows late and low with outflows early and high, and the opposite
    low_in = _per_day(flows, "in", "late_date", "amount_low", dates)
    low_out = _per_day(flows, "out", "early_date", "amount_high", dates)
    high_in = _per_day(flows, "in", "early_date", "amount_high", dates)
    high_out = _per_day(flows, "out", "late_date", "amount_low", dates)
    rows = []
    closing = low = high = opening
    for d in dates:
        closing += inflow[d] - outflow[d]
        low += low_in[d] - low_out[d]
        high += high_in[d] - high_out[d]
        rows.append(
            {
                "date": d,
                "inflow": inflow[d],
                "outflow": outflow[d],
                "closing": closing,
                "closing_p10": low,
                "closing_p90": high,
            }
        )
    return pl.DataFrame(rows, schema=DAY_SCHEMA), by_kind


def _normalised(flows: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """No date before the day after `as_of` (what is due already is expected tomorrow at the earliest), and
    a negative flow (a credit note) as the positive flow the other way, its low and high amounts swapped, so
    that late inflows and early outflows are always the cautious side: p10 ≤ closing ≤ p90 every day."""
    tomorrow = pl.lit(as_of + dt.timedelta(days=1))
    negative = pl.col("amount") < 0
    other_way = pl.when(pl.col("direction") == "in").then(pl.lit("out")).otherwise(pl.lit("in"))
    flows = flows.with_columns(pl.max_horizontal(c, tomorrow).alias(c) for c in ("date", "early_date", "late_date"))
    return flows.with_columns(
        direction=pl.when(negative).then(other_way).otherwise(pl.col("direction")),
        amount=pl.when(negative).then(-pl.col("amount")).otherwise(pl.col("amount")),
        amount_low=pl.when(negative).then(-pl.col("amount_high")).otherwise(pl.col("amount_low")),
        amount_high=pl.when(negative).then(-pl.col("amount_low")).otherwise(pl.col("amount_high")),
    )


def _per_day(flows: pl.DataFrame, direction: str, date_col: str, amount_col: str, dates: list[dt.date]) -> dict:
    out = dict.fromkeys(dates, ZERO)
    part = flows.filter((pl.col("direction") == direction) & pl.col(date_col).is_in(dates))
    for day, amount in part.group_by(date_col).agg(pl.col(amount_col).sum()).iter_rows():
        out[day] = out[day] + Decimal(amount)
    return out


def _by_kind(flows: pl.DataFrame, as_of: dt.date, dates: list[dt.date]) -> pl.DataFrame:
    """Σ signed amount per week and kind, every week of every kind that has a flow (zeros included)."""
    inside = flows.filter(pl.col("date").is_in(dates))
    kinds = sorted(set(inside["kind"].to_list()))
    totals: dict[tuple[int, str], Decimal] = {}
    for kind, direction, day, amount in inside.select("kind", "direction", "date", "amount").iter_rows():
        key = (week_of(as_of, day), kind)
        totals[key] = totals.get(key, ZERO) + (amount if direction == "in" else -amount)
    weeks = range(1, week_of(as_of, dates[-1]) + 1) if dates else range(0)
    rows = [{"week": w, "kind": k, "amount": totals.get((w, k), ZERO)} for w in weeks for k in kinds]
    return pl.DataFrame(rows, schema=BY_KIND_SCHEMA)


__all__ = ["FLOW_SCHEMA", "CashForecast", "ForecastConfig", "cash_forecast", "roll_days", "week_of"]
