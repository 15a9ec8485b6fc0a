"""Month-end balances and the cash flow of a plan (docs/planning.md, "Operations and balances").

Roles of `plan_balances` (amounts in base currency, net of VAT: VAT passes through to the tax office):
- `ar`: receivables at month end. Each customer's DSO is measured over the `dso_months` before the plan as
  the KPI does it, average month-end open AR ÷ invoiced × days (both in the invoices' currency, so the ratio
  needs no rate). The plan's revenue (Σ the `revenue` lines of the P&L; the GL's `revenue` role for the
  months before the plan) is split over the customers by their share of the net invoiced amount in those
  months, and each customer's share is still open for its last DSO days ("count-back": the whole month when
  DSO ≥ its days, then the month before…). A company without invoice history uses its customers' average
  payment terms.
- `inventory`: Σ over sites of the operations plan's month-end inventory at standard.
- `ap`: payables at month end: the supplier invoices open when the plan starts (net of VAT, at their
  booking-date rate) until their due date, and the count-back of the plan's receipts (operations.py) over
  each supplier's `payment_terms_days`: goods are invoiced as they arrive through the month and paid on
  their terms.
- `cash_in` = revenue − Δar (collections); `net_cash_flow` = operating income + Δap − Δar − Δinventory (the
  indirect method: operating income is taken as cash, depreciation included); `cash_out` = cash_in −
  net_cash_flow. The Δ of the first month is against the balances when the plan starts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import ibis
import polars as pl

from ..core.money import round_cents, to_decimal
from ..core.periods import add_months, month_end
from .operations import OperationsPlan, base_currency_of, reader
from .operations_config import BalancesConfig
from .production import Read, days_in

MONEY = pl.Decimal(18, 2)
ROLES = ("ar", "inventory", "ap", "cash_in", "cash_out", "net_cash_flow")
EXACT = "decimal(38, 10)"  # one decimal type for products of amounts and rates (Ibis mixes no two)
HISTORY_MONTHS = 12  # revenue months read before the plan for the count-back (DSO up to a year)


def plan_balances(
    tables: Mapping[str, Any] | Any,
    pnl: pl.DataFrame,
    operations: OperationsPlan,
    months: list[dt.date],
    config: BalancesConfig,
    payment_days: Callable[[dt.date, str | None], Decimal] | None = None,
) -> pl.DataFrame:
    """The plan_balances rows (period, role, amount) of `months`, in ROLES order per month. `payment_days`
    (month, customer → days): days a customer's DSO is longer at that month end (a scenario's shock)."""
    if not months:
        return pl.DataFrame(schema={"period": pl.Date, "role": pl.Utf8, "amount": MONEY})
    t, months = reader(tables), sorted(months)
    start = months[0]
    revenue = _line(pnl, "revenue")
    income = _line(pnl, "operating_income")
    history = {**revenue_history(t, start), **revenue}
    named = customers_dso(t, start, config.dso_months, base_currency_of(tables))
    customers = [(w, d) for _, w, d in named]
    before = add_months(start, -1)
    ar = {m: receivables(history, customers, m) for m in [before, *months]}
    if payment_days is not None:
        for m in months:
            later = [(w, d + payment_days(m, c)) for c, w, d in named]
            ar[m] = receivables(history, later, m)
    inventory = {m: Decimal(0) for m in months}
    for r in operations.inventory.iter_rows(named=True):
        if r["period"] in inventory:
            inventory[r["period"]] += to_decimal(r["amount"])
    inventory[before] = sum((to_decimal(a) for a in operations.opening_inventory["amount"].to_list()), Decimal(0))
    ap = payables(t, operations.receipts, start, months, base_currency_of(tables))
    # balances are rounded first and the flows follow from them, so the identities hold to the cent
    ar, ap = {m: round_cents(v) for m, v in ar.items()}, {m: round_cents(v) for m, v in ap.items()}
    inventory = {m: round_cents(v) for m, v in inventory.items()}
    rows = []
    for prev, month in zip([before, *months], months, strict=False):
        d_ar, d_ap, d_inv = ar[month] - ar[prev], ap[month] - ap[prev], inventory[month] - inventory[prev]
        cash_in = round_cents(revenue.get(month, Decimal(0))) - d_ar
        net = round_cents(income.get(month, Decimal(0))) + d_ap - d_ar - d_inv
        values = (ar[month], inventory[month], ap[month], cash_in, cash_in - net, net)
        rows += [(month, role, round_cents(v)) for role, v in zip(ROLES, values, strict=True)]
    return pl.DataFrame(rows, schema={"period": pl.Date, "role": pl.Utf8, "amount": MONEY}, orient="row")


def _line(pnl: pl.DataFrame, line: str) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for r in pnl.filter(pl.col("line") == line).iter_rows(named=True):
        out[r["period"]] += to_decimal(r["amount"])
    return dict(out)


def revenue_history(t: Read, start: dt.date) -> dict[dt.date, Decimal]:
    """The GL's revenue (−Σ amount of the `revenue` role) per month in the HISTORY_MONTHS before `start`."""
    g, a = t("gl_entries"), t("accounts")
    g = g.filter((g.posting_date >= add_months(start, -HISTORY_MONTHS)) & (g.posting_date < start))
    j = g.join(a.filter(a.role == "revenue").select("account_id"), "account_id")
    month = j.posting_date.truncate("M").cast("date")
    rows = j.group_by(period=month).aggregate(amount=j.amount.cast("decimal(38, 2)").sum()).to_pyarrow().to_pylist()
    return {r["period"]: -to_decimal(r["amount"]) for r in rows}


def customer_dso(t: Read, start: dt.date, months: int, base_currency: str) -> list[tuple[Decimal, Decimal]]:
    """[(weight, DSO days)] per customer invoiced in the `months` before `start` (module docstring)."""
    return [(w, d) for _, w, d in customers_dso(t, start, months, base_currency)]


def customers_dso(
    t: Read, start: dt.date, months: int, base_currency: str
) -> list[tuple[str | None, Decimal, Decimal]]:
    """[(customer, weight, DSO days)] as `customer_dso`; customer None for the payment-terms fallback."""
    lo = add_months(start, -months)
    ends = [month_end(add_months(lo, i)) for i in range(months)]
    inv = t("ar_invoices").select("invoice_id", "customer_id", "invoice_date", "currency", "total", "tax_amount")
    al = t("ar_receipt_allocations").join(t("ar_receipts").select("receipt_id", "received_date"), "receipt_id")
    al = al.join(inv.select("invoice_id", "customer_id"), "invoice_id")
    e = ibis.memtable({"e": ends}, schema={"e": "date"})
    billed = inv.cross_join(e).filter(lambda x: x.invoice_date <= x.e)
    billed = billed.group_by("customer_id").aggregate(amount=billed.total.cast("decimal(38, 2)").sum())
    paid = al.cross_join(e).filter(lambda x: x.received_date <= x.e)
    paid = paid.group_by("customer_id").aggregate(amount=paid.amount.cast("decimal(38, 2)").sum())
    open_sum = {r["customer_id"]: to_decimal(r["amount"]) for r in billed.to_pyarrow().to_pylist()}
    for r in paid.to_pyarrow().to_pylist():
        open_sum[r["customer_id"]] = open_sum.get(r["customer_id"], Decimal(0)) - to_decimal(r["amount"])
    window = inv.filter((inv.invoice_date >= lo) & (inv.invoice_date < start))
    invoiced = {r["customer_id"]: r for r in _invoiced(t, window, base_currency)}
    net_total = sum((r["net_base"] for r in invoiced.values()), Decimal(0))
    days = Decimal((start - lo).days)
    out = []
    for customer, r in sorted(invoiced.items()):
        if r["gross"] and net_total:
            dso = open_sum.get(customer, Decimal(0)) / len(ends) / r["gross"] * days
            out.append((customer, r["net_base"] / net_total, max(Decimal(0), dso)))
    if not out:
        c = t("customers")
        terms = c.payment_terms_days.mean().to_pyarrow().as_py()
        out = [(None, Decimal(1), to_decimal(terms or 0))]
    return out


def _invoiced(t: Read, window: Any, base_currency: str) -> list[dict[str, Any]]:
    """Per customer: gross invoiced in the invoices' currency and net invoiced in base currency."""
    from ..kpis.sources import fx_to_base

    w = fx_to_base(t, window, "currency", "invoice_date", base_currency)
    rate = ibis.coalesce(w._rate.cast(EXACT), ibis.literal(Decimal(1), type=EXACT))
    total = w.total.cast(EXACT)
    net = (total - w.tax_amount.cast(EXACT)) * rate
    rows = w.group_by("customer_id").aggregate(gross=total.sum(), net_base=net.sum()).to_pyarrow().to_pylist()
    return [{**r, "gross": to_decimal(r["gross"]), "net_base": to_decimal(r["net_base"])} for r in rows]


def receivables(
    revenue: Mapping[dt.date, Decimal], customers: list[tuple[Decimal, Decimal]], month: dt.date
) -> Decimal:
    """AR at the end of `month`: each customer's share of the revenue of its last DSO days."""
    return sum((weight * count_back(revenue, dso, month) for weight, dso in customers), Decimal(0))


def count_back(revenue: Mapping[dt.date, Decimal], days: Decimal, month: dt.date) -> Decimal:
    """The revenue of the last `days` days up to the end of `month`, each month's revenue spread evenly over
    its days (45 days at the end of March: all of March and 14/29 of a leap-year February)."""
    total, left, m = Decimal(0), days, month
    for _ in range(HISTORY_MONTHS + 1):
        if left <= 0:
            break
        d = Decimal(days_in(m))
        take = min(left, d)
        total += revenue.get(m, Decimal(0)) * take / d
        left -= take
        m = add_months(m, -1)
    return total


def payables(
    t: Read, receipts: pl.DataFrame, start: dt.date, months: list[dt.date], base_currency: str
) -> dict[dt.date, Decimal]:
    """AP at each month end of the plan and the month before it (module docstring)."""
    items = open_supplier_invoices(t, start, base_currency)
    terms = {r["supplier_id"]: int(r["payment_terms_days"]) for r in t("suppliers").to_pyarrow().to_pylist()}
    received: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in receipts.iter_rows(named=True):
        received[terms.get(r["supplier_id"], 0)][r["period"]] += to_decimal(r["amount"])
    out = {}
    for month in [add_months(start, -1), *months]:
        end = month_end(month)
        still_open = sum((a for due, a in items if end < due), Decimal(0))
        out[month] = still_open + sum(
            (count_back(by_month, Decimal(days), month) for days, by_month in received.items()), Decimal(0)
        )
    return out


def open_supplier_invoices(t: Read, start: dt.date, base_currency: str) -> list[tuple[dt.date, Decimal]]:
    """[(due date, open amount net of VAT in base currency)] of the supplier invoices open when the plan
    starts (their total less the payments allocated before it)."""
    from ..kpis.sources import fx_to_base

    inv = t("ap_invoices")
    inv = inv.filter(inv.invoice_date < start)
    pa = t("ap_payment_allocations").join(t("ap_payments").select("payment_id", "paid_date"), "payment_id")
    pa = pa.filter(pa.paid_date < start)
    paid = pa.group_by("invoice_id").aggregate(paid=pa.amount.cast("decimal(38, 2)").sum())
    j = inv.left_join(paid, inv.invoice_id == paid.invoice_id)
    j = fx_to_base(t, j, "currency", "invoice_date", base_currency)
    rows = j.select("invoice_date", "due_date", "total", "tax_amount", "paid", "_rate").to_pyarrow().to_pylist()
    out = []
    for r in rows:
        total, open_amount = to_decimal(r["total"]), to_decimal(r["total"]) - to_decimal(r["paid"])
        if not total or not open_amount:
            continue
        net_share = (total - to_decimal(r["tax_amount"])) / total
        rate = to_decimal(r["_rate"]) if r["_rate"] is not None else Decimal(1)
        out.append((r["due_date"], open_amount * net_share * rate))
    return out
