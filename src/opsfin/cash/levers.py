"""Working-capital levers and early-payment discounts (docs/cash.md, "Working-capital levers").

The current DSO, DIO and DPO are the KPI engine's (`opsfin.kpis.working_capital`, docs/kpis.md) over the
trailing window, read as Σ numerator ÷ Σ denominator of its periods; revenue and COGS per day are the
window's. A lever of Δ days releases Δ × revenue (DSO) or COGS (DIO, DPO) per day; its annual financing
value is that cash × the rate. A discount d within `discount_days` of terms `t` costs, when not taken, the
implied annual rate d ÷ (1 − d) × 365 ÷ (t − discount_days): taking it beats the cost of funds when that
rate is above it (2/10 net 30: 2/98 × 365/20 = 37.24 %)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents
from ..errors import UserError
from ..kpis.working_capital import working_capital

DAYS_A_YEAR = Decimal(365)
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LeverChange:
    """A lever's move: `days` (−5), or `percent` of the current days (−10 for −10 %)."""

    days: Decimal | None = None
    percent: Decimal | None = None

    def target(self, current: Decimal) -> Decimal:
        if self.percent is not None:
            return current * (1 + self.percent / 100)
        return current + (self.days or Decimal(0))


def parse_change(text: str, option: str) -> LeverChange:
    """`-5`, `+10` (days) or `-10%` (of the current days); a UserError naming the option otherwise."""
    value = text.strip().replace("−", "-")
    try:
        number = _finite(value[:-1] if value.endswith("%") else value)
        return LeverChange(percent=number) if value.endswith("%") else LeverChange(days=number)
    except ArithmeticError:
        raise UserError(
            "{param} " + f"{text!r}: use days (-5, +10) or a percent (-10%)", param=option, value=text
        ) from None


def _finite(text: str) -> Decimal:
    """A Decimal of `text`; an ArithmeticError for what is not a finite number (`Infinity`, `NaN`, `abc`)."""
    number = Decimal(text)
    if not number.is_finite():
        raise ArithmeticError(text)
    return number


def parse_rate(text: str) -> Decimal:
    """`6%` or `0.06` → 0.06; a UserError otherwise."""
    value = text.strip()
    try:
        rate = _finite(value[:-1]) / 100 if value.endswith("%") else _finite(value)
    except ArithmeticError:
        raise UserError(
            "{param} " + f"{text!r}: use a percent (6%) or a fraction (0.06)", param="rate", value=text
        ) from None
    if not 0 <= rate < 1:
        raise UserError("{param} " + f"{text!r}: a yearly rate from 0% to 100%", param="rate", value=text)
    return rate


def current_days(t: Any, first: dt.date, last: dt.date) -> dict[str, Decimal]:
    """`dso`, `dio`, `dpo` over [first, last] by the KPI engine, and `revenue_per_day`, `cogs_per_day`."""
    rows = working_capital(t, ["dso", "dio", "dpo"], "month", first, last)
    if rows.is_empty():
        raise UserError(f"no ledger postings from {first} to {last}: nothing to measure the working capital on")
    days = Decimal((last - first).days + 1)
    out: dict[str, Decimal] = {}
    for kpi in ("dso", "dio", "dpo"):
        part = rows.filter(pl.col("kpi") == kpi)
        numerator = Decimal(repr(part["numerator"].sum()))
        denominator = Decimal(repr(part["denominator"].sum()))
        out[kpi] = numerator / denominator if denominator else Decimal(0)
        out["revenue_per_day" if kpi == "dso" else "cogs_per_day"] = denominator / days
    return out


def lever_rows(
    current: dict[str, Decimal], changes: dict[str, LeverChange], rate: Decimal, context: dict[str, Decimal]
) -> list[dict[str, Any]]:
    """One row per lever: the current and target days, the cash released (+) or tied up (−), its annual
    financing value at `rate`, the balance it moves and what it takes, in words and numbers (`context`:
    `overdue_ar`, the open receivables past due; `customer_terms` and `supplier_terms`, the payment terms
    weighted by invoicing)."""
    rows = []
    for lever, per_day_key, sign in (
        ("dso", "revenue_per_day", -1),
        ("dio", "cogs_per_day", -1),
        ("dpo", "cogs_per_day", 1),
    ):
        if lever not in changes:
            continue
        now = current[lever]
        target = max(Decimal(0), changes[lever].target(now))
        per_day = current[per_day_key]
        released = round_cents(sign * (target - now) * per_day)
        row = {
            "lever": lever,
            "current_days": now.quantize(Decimal("0.1")),
            "target_days": target.quantize(Decimal("0.1")),
            "cash_released": released,
            "annual_value": round_cents(released * rate),
            "balance_now": round_cents(now * per_day),
            "balance_target": round_cents(target * per_day),
        }
        rows.append(row | {"what_it_takes": _what_it_takes(lever, row, target - now, context)})
    return rows


def _what_it_takes(lever: str, row: dict[str, Any], change: Decimal, context: dict[str, Decimal]) -> str:
    days = f"{abs(change):.1f}"
    if lever == "dso":
        terms = context.get("customer_terms", Decimal(0))
        return (
            f"collect {days} days {'sooner' if change < 0 else 'later'}: receivables from {row['balance_now']} to "
            f"{row['balance_target']}; customer terms from {terms:.0f} to {terms + change:.0f} days (weighted by "
            f"invoicing), or collect that much of the {context.get('overdue_ar', Decimal(0))} overdue"
        )
    if lever == "dio":
        return (
            f"hold {row['target_days']} days of cost of sales in stock instead of {row['current_days']}: "
            f"inventory from {row['balance_now']} to {row['balance_target']} (raw, work in progress and finished "
            f"goods), by lower reorder points, smaller lots and fewer slow movers"
        )
    terms = context.get("supplier_terms", Decimal(0))
    return (
        f"pay suppliers {days} days {'later' if change > 0 else 'sooner'}: payables from {row['balance_now']} to "
        f"{row['balance_target']}; supplier terms from {terms:.0f} to {terms + change:.0f} days (weighted by "
        f"purchases), negotiated, not taken by paying late"
    )


def implied_annual_rate(discount_pct: Decimal, discount_days: int, terms_days: int) -> Decimal | None:
    """d ÷ (1 − d) × 365 ÷ (terms − discount days), to 4 places (0.3724 for 2/10 net 30); None when the
    discount window is not shorter than the terms."""
    if terms_days <= discount_days:
        return None
    d = discount_pct / 100
    return (d / (1 - d) * DAYS_A_YEAR / (terms_days - discount_days)).quantize(RATE_PLACES)


def discount_rows(suppliers: pl.DataFrame, annual_purchases: dict[str, Decimal], rate: Decimal) -> list[dict[str, Any]]:
    """Per supplier with a discount (`supplier_id, name, payment_terms_days, discount_pct, discount_days`):
    its implied annual rate, whether to take the discount at the cost of funds `rate`, and the net gain a
    year of taking it on its trailing purchases: purchases × d − purchases × (1 − d) × rate × (terms −
    discount days) ÷ 365 (the discount less the interest on paying earlier)."""
    rows = []
    offers = suppliers.filter(pl.col("discount_pct").is_not_null() & pl.col("discount_days").is_not_null())
    for r in offers.sort("supplier_id").to_dicts():
        pct, days, terms = Decimal(r["discount_pct"]), int(r["discount_days"]), int(r["payment_terms_days"])
        implied = implied_annual_rate(pct, days, terms)
        purchases = annual_purchases.get(r["supplier_id"], Decimal(0))
        d = pct / 100
        gain = purchases * d - purchases * (1 - d) * rate * max(terms - days, 0) / DAYS_A_YEAR
        rows.append(
            {
                "supplier_id": r["supplier_id"],
                "name": r["name"],
                "terms": f"{pct.normalize():f}/{days} net {terms}",
                "implied_annual_rate": implied,
                "take_discount": implied is not None and implied > rate,
                "annual_purchases": round_cents(purchases),
                "annual_gain_if_taken": round_cents(gain),
            }
        )
    return rows
