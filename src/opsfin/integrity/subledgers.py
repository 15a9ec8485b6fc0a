"""AR and AP subledgers tie to their GL control accounts at every month end.

For a month end t (every month end from the first to the last month with GL rows):

    control_AR(t) =   Σ gl_entries.amount, accounts.role = 'ar', posting_date ≤ t
    control_AP(t) = − Σ gl_entries.amount, accounts.role = 'ap', posting_date ≤ t

    open(t) = Σ over invoices with invoice_date ≤ t of
              round_half_even((total − Σ allocations whose receipt/payment is dated ≤ t)
                              × rate(invoice_date), 2)

rate(d) is the latest `fx_rates.rate_to_base` with rate_date ≤ d for the invoice's currency,
1 for the base currency. So an invoice stays at its booking rate until settled: the GL has to
post settlements (and their FX differences) so that the control account equals the rounded
open amount of each invoice at the invoice-date rate.

Arithmetic is exact: the backend (DuckDB or Spark, through Ibis) builds the grid of invoices × month
ends and sums the open amounts of the base currency; the open amounts of other currencies come back
grouped by (month, open amount, rate), and each product is rounded half to even to the cent in Python
(Decimal), where no backend's ROUND (half away from zero on DuckDB's DECIMAL) is involved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

import ibis
import ibis.expr.types as ir

from ..core.money import round_cents
from ..core.periods import month_end
from ..kpis.engine import Tables
from .findings import Finding, cap, dec, gl_month_ends, latest_rates, rows

SUBLEDGER_AR = "subledger_ar"
SUBLEDGER_AP = "subledger_ap"
FX_RATE_MISSING = "fx_rate_missing"

_LEDGERS = {
    # check, invoices, allocations, settlements, settlement key, settlement date, GL role, control sign
    "ar": (
        SUBLEDGER_AR,
        "ar_invoices",
        "ar_receipt_allocations",
        "ar_receipts",
        "receipt_id",
        "received_date",
        "ar",
        1,
    ),
    "ap": (
        SUBLEDGER_AP,
        "ap_invoices",
        "ap_payment_allocations",
        "ap_payments",
        "payment_id",
        "paid_date",
        "ap",
        -1,
    ),
}


MONEY_SUM_T = "decimal(38, 2)"
RATE_T = "decimal(18, 8)"


def _month(day: ir.Value) -> ir.DateValue:
    return day.truncate("M").cast("date")


def _invoices(t: Tables, invoices: str, base_currency: str, last_t: dt.date) -> ir.Table:
    """Invoices up to the last month end, with their month and their rate at the invoice date (NULL if
    missing)."""
    i = t(invoices)
    i = i.filter(i.invoice_date <= last_t)
    i = i.select("invoice_id", "invoice_date", "currency", total=i.total.cast(MONEY_SUM_T))
    rates = latest_rates(t, i, "currency", "invoice_date")
    j = i.left_join(rates, (i.currency == rates._ccy) & (i.invoice_date == rates._day))
    one = ibis.literal(Decimal(1), type=RATE_T)
    rate = ibis.ifelse(j.currency == base_currency, one, j._rate.cast(RATE_T))
    return j.select("invoice_id", "invoice_date", "currency", "total", _m=_month(j.invoice_date), rate=rate)


def _missing_rates(inv: ir.Table, invoices: str, which: str) -> list[Finding]:
    missing = inv.filter(inv.rate.isnull())
    per_currency = ibis.window(group_by=missing.currency)
    first_ids = ibis.window(group_by=missing.currency, order_by=missing.invoice_id)
    examples = missing.mutate(
        _n=missing.count().over(per_currency),
        _first=missing.invoice_date.min().over(per_currency),
        _rank=ibis.row_number().over(first_ids),
    )
    examples = examples.filter(examples._rank < 5).select("currency", "_n", "_first", "invoice_id")
    by_currency: dict[str, tuple[int, dt.date, list[str]]] = {}
    for currency, n, first, invoice_id in rows(examples.order_by(["currency", "invoice_id"])):
        by_currency.setdefault(currency, (n, first, []))[2].append(invoice_id)
    return [
        Finding(
            FX_RATE_MISSING,
            "stop",
            invoices,
            currency,
            f"{n} {invoices} in {currency} have no fx_rates row on or before their invoice_date "
            f"(first {first}, e.g. {', '.join(ids)}); they are left out of the {which.upper()} "
            "subledger",
        )
        for currency, (n, first, ids) in by_currency.items()
    ]


def open_items(
    t: Tables, inv: ir.Table, ledger: tuple, base_currency: str, month_ends: list[dt.date]
) -> dict[dt.date, Decimal]:
    """The open subledger at each month end, in the base currency (exact, scale 2; absent when none)."""
    _, _, allocations, settlements, key, date, _, _ = ledger
    first_m, last_m = month_ends[0].replace(day=1), month_ends[-1].replace(day=1)
    a, s = t(allocations), t(settlements)
    s = s.select(_key=s[key], _sm=_month(s[date]))
    s = s.filter(s._sm <= last_m)
    # allocations, bucketed on the first month end on or after both the settlement and the invoice
    # (an invoice enters the grid at its own month end), summed per bucket
    iv = inv.select(_iid="invoice_id", _im="_m")
    j = a.join(s, a[key] == s._key)
    j = j.join(iv, j.invoice_id == iv._iid)
    j = j.mutate(_bm=ibis.greatest(j._sm, j._im, ibis.literal(first_m)))
    alloc = j.group_by(_aid="invoice_id", _am="_bm").aggregate(_amt=j.amount.cast(MONEY_SUM_T).sum().cast(MONEY_SUM_T))
    months = ibis.memtable({"m": [d.replace(day=1) for d in month_ends]})
    g = inv.filter(inv.rate.notnull())
    g = g.join(months, g._m <= months.m)
    g = g.left_join(alloc, (g.invoice_id == alloc._aid) & (g.m == alloc._am))
    settled = g._amt.sum().over(ibis.cumulative_window(group_by=g.invoice_id, order_by=g.m))
    g = g.select("m", "currency", "rate", open_amt=(g.total - settled.fill_null(0)).cast(MONEY_SUM_T))
    # per month: the base currency's open amounts summed (rate 1: nothing to round), and the other
    # currencies' grouped by (open amount, rate), each shape rounded once in Python
    own = g.currency == base_currency
    g = g.filter(own | (g.open_amt != 0))
    g = g.mutate(_own=own, _amt=ibis.ifelse(own, None, g.open_amt), _rate=ibis.ifelse(own, None, g.rate))
    shapes = g.group_by(["m", "_own", "_amt", "_rate"]).aggregate(total=g.open_amt.sum().cast(MONEY_SUM_T), n=g.count())
    out: dict[dt.date, Decimal] = {}
    with localcontext(prec=60):
        for m, is_own, open_amt, rate, total, n in rows(shapes):
            value = dec(total) if is_own else round_cents(open_amt * rate) * n
            out[month_end(m)] = out.get(month_end(m), Decimal("0.00")) + value
    return out


def _gl_moves(t: Tables, role: str) -> dict[dt.date, Decimal]:
    """Σ GL amount of the accounts of `role` per month end of posting."""
    g = t("gl_entries")
    a = t("accounts").select(_acc="account_id", _role="role")
    j = g.join(a, g.account_id == a._acc)
    j = j.filter(j._role == role)
    expr = j.group_by(_m=_month(j.posting_date)).aggregate(amt=j.amount.sum().cast(MONEY_SUM_T))
    return {month_end(m): dec(amt) for m, amt in rows(expr)}


def _check_ledger(t: Tables, base_currency: str, which: str) -> list[Finding]:
    ledger = _LEDGERS[which]
    check, invoices, _, _, _, _, role, sign = ledger
    month_ends = gl_month_ends(t)
    if not month_ends:
        return []
    inv = _invoices(t, invoices, base_currency, month_ends[-1])
    findings = _missing_rates(inv, invoices, which)
    sub = open_items(t, inv, ledger, base_currency, month_ends)
    moves = _gl_moves(t, role)

    control = dec(0)
    diffs = []
    for day in month_ends:
        control += dec(moves.get(day))
        ctl = control * sign
        open_amount = sub.get(day, Decimal("0.00"))
        diff = ctl - open_amount
        if abs(diff) >= dec("0.01"):
            diffs.append(
                Finding(
                    check,
                    "stop",
                    invoices,
                    day.isoformat(),
                    f"{which.upper()} control accounts (role {role}) {ctl} vs open {invoices} {open_amount} "
                    f"at {day}: difference {diff}",
                    diff,
                )
            )
    return findings + cap(diffs, f"month ends where the {which.upper()} subledger differs")


def check_ar_subledger(t: Tables, base_currency: str) -> list[Finding]:
    """Open AR invoices equal the AR control accounts at every month end (stop)."""
    return _check_ledger(t, base_currency, "ar")


def check_ap_subledger(t: Tables, base_currency: str) -> list[Finding]:
    """Open AP invoices equal −(the AP control accounts) at every month end (stop)."""
    return _check_ledger(t, base_currency, "ap")
