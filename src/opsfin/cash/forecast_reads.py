"""What the cash forecast reads from the warehouse tables, never anything dated after the as-of day
(docs/cash.md, "The daily 13-week cash forecast").

- `bank_balance`: the bank balance at the end of a day, in base currency.
- `cash_history`: the GL's cash lines by kind (payroll, tax, fixed costs, other), the run-rate items.
- `invoicing`: gross invoicing per customer and supplier over the trailing days, and its VAT factor.
- `planned_sales`: a plan version's volume_plan revenue per month; `planned_capital_spend`: its budget
  lines on fixed-asset accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import ibis
import polars as pl
from ibis.common.exceptions import TableNotFound

from ..core.money import round_cents
from ..errors import UserError
from ..kpis.sources import fx_to_base

MONEY_SUM_T = "decimal(38, 2)"
#: a cash journal's kind, by the roles of its other lines; receipts and payments of documents (ar, ap) and
#: owners' capital (equity) are not run-rate items
DOCUMENT_ROLES = ("ar", "ap", "equity")
ROLE_KINDS = (("payroll_liability", "payroll"), ("tax", "tax"))


def _frame(expr: Any) -> pl.DataFrame:
    out = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(out, pl.DataFrame)
    return out


def bank_balance(t: Any, day: dt.date) -> Decimal:
    """Σ over bank accounts of the latest statement's closing balance on or before `day`, plus the account's
    bank lines booked after that statement up to `day`, converted to base currency at the latest rate on or
    before `day` (half-even to the cent per account). A UserError when no account has a statement by then."""
    st = t("bank_statements")
    st = st.filter(st.statement_date <= day)
    last = st.group_by("bank_account").aggregate(_last=st.statement_date.max())
    j = st.join(last, (st.bank_account == last.bank_account) & (st.statement_date == last._last))
    heads = _frame(j.select(st.bank_account, st.currency, st.closing_balance, last._last))
    if heads.is_empty():
        raise UserError(f"no bank statement on or before {day}: the opening balance is unknown")
    tx = t("bank_transactions")
    tx = tx.filter((tx.booking_date <= day) & (tx.booking_date >= heads["_last"].min()))
    lines = _frame(tx.select("bank_account", "booking_date", amount=tx.amount.cast(MONEY_SUM_T)))
    total = Decimal(0)
    for account, currency, closing, last_day in heads.iter_rows():
        later = lines.filter((pl.col("bank_account") == account) & (pl.col("booking_date") > last_day))
        balance = Decimal(closing) + sum(later["amount"].to_list(), Decimal(0))
        total += round_cents(balance * _rate(t, currency, day))
    return round_cents(total)


def _rate(t: Any, currency: str, day: dt.date) -> Decimal:
    base = getattr(t, "base_currency", "EUR")
    if currency == base:
        return Decimal(1)
    probe = ibis.memtable({"ccy": [currency], "day": [day]})
    rate = _frame(fx_to_base(t, probe, "ccy", "day", base).select("_rate"))["_rate"][0]
    if rate is None:
        raise UserError(f"no fx_rates row for {currency} on or before {day}: the bank balance cannot be converted")
    return Decimal(rate)


def cash_history(t: Any, first: dt.date, last: dt.date) -> pl.DataFrame:
    """`posting_date, kind, amount`: the GL's cash movement per journal posted in [first, last] (+ in, − out),
    with the journal's kind from its other lines: `payroll` (payroll liabilities), `tax`, `fixed_costs` (an
    expense), `other` (the rest); the receipts and payments of documents and owners' capital left out."""
    g = t("gl_entries")
    g = g.filter((g.posting_date >= first) & (g.posting_date <= last))
    a = t("accounts").select(_a="account_id", role="role", type="type")
    j = g.join(a, g.account_id == a._a)
    cash = j.filter(j.role == "cash")
    cash = cash.group_by(["journal_id", "posting_date"]).aggregate(amount=cash.amount.cast(MONEY_SUM_T).sum())
    rest = j.filter(j.role != "cash")
    flags = {f"_{role}": (rest.role == role).any() for role in (*DOCUMENT_ROLES, *(r for r, _ in ROLE_KINDS))}
    flags["_expense"] = (rest.type == "expense").any()
    other = rest.group_by("journal_id").aggregate(**flags).rename(_j="journal_id")
    rows = _frame(cash.join(other, cash.journal_id == other._j))
    kind = pl.lit("other")
    kind = pl.when(pl.col("_expense")).then(pl.lit("fixed_costs")).otherwise(kind)
    for role, name in reversed(ROLE_KINDS):
        kind = pl.when(pl.col(f"_{role}")).then(pl.lit(name)).otherwise(kind)
    documents = pl.any_horizontal(*(pl.col(f"_{r}") for r in DOCUMENT_ROLES))
    return (
        rows.filter(~documents & (pl.col("amount") != 0))
        .select(pl.col("posting_date").cast(pl.Date), kind.alias("kind"), pl.col("amount").cast(pl.Decimal(18, 2)))
        .sort("posting_date", "kind")
    )


def invoicing(t: Any, first: dt.date, last: dt.date) -> pl.DataFrame:
    """`party_type` ("customer" | "supplier"), `party_id`, `gross`, `net`: Σ invoice totals and totals less
    VAT, in base currency at each invoice's date, per party, of invoices dated in [first, last]."""
    base = getattr(t, "base_currency", "EUR")
    parts = []
    for name, party, party_type in (
        ("ar_invoices", "customer_id", "customer"),
        ("ap_invoices", "supplier_id", "supplier"),
    ):
        inv = t(name)
        inv = inv.filter((inv.invoice_date >= first) & (inv.invoice_date <= last))
        inv = fx_to_base(t, inv, "currency", "invoice_date", base)
        rate = inv._rate.fill_null(0).cast("float64")  # weights and ratios: floats are enough
        total, tax = inv.total.cast("float64"), inv.tax_amount.cast("float64")
        parts.append(
            inv.group_by(inv[party].name(party))
            .aggregate(gross=(total * rate).sum(), net=((total - tax) * rate).sum())
            .select(party_type=ibis.literal(party_type), party_id=party, gross="gross", net="net")
        )
    return _frame(ibis.union(*parts))


def planned_sales(t: Any, version: str, first: dt.date, last: dt.date) -> pl.DataFrame:
    """`period, revenue`: `version`'s planned revenue per month from `first`'s month to `last`'s (base
    currency, net of VAT): its stored plan's `revenue` lines (`plan_pnl`, a built or rolled plan) when it has
    them, else Σ qty × unit_price of its volume_plan, half-even to the cent per month. A UserError when the
    version has neither."""
    lo = first.replace(day=1)
    if has_table(t, "plan_pnl"):
        pnl = t("plan_pnl")
        pnl = pnl.filter((pnl.version == version) & (pnl.line == "revenue"))
        if _count(pnl):
            pnl = pnl.filter((pnl.period >= lo) & (pnl.period <= last))
            agg = pnl.group_by(period=pnl.period.cast("date")).aggregate(revenue=pnl.amount.cast(MONEY_SUM_T).sum())
            return _frame(agg).with_columns(pl.col("revenue").cast(pl.Decimal(18, 2))).sort("period")
    vp = t("volume_plan")
    vp = vp.filter(vp.version == version)
    if not _count(vp):
        raise UserError("{param} " + f"{version!r} has no plan_pnl or volume_plan rows", param="version", value=version)
    vp = vp.filter((vp.period >= lo) & (vp.period <= last))
    revenue = (vp.qty.cast("decimal(18, 4)") * vp.unit_price.cast("decimal(18, 4)")).cast("decimal(38, 8)")
    rows = _frame(vp.group_by(period=vp.period.cast("date")).aggregate(revenue=revenue.sum()))
    cents = [round_cents(Decimal(v)) for v in rows["revenue"].to_list()]
    return rows.with_columns(revenue=pl.Series(cents, dtype=pl.Decimal(18, 2))).sort("period")


def has_table(t: Any, name: str) -> bool:
    """Whether the warehouse has table `name` (a warehouse made before it was added may not)."""
    try:
        t(name)
    except TableNotFound:
        return False
    return True


def _count(expr: Any) -> int:
    return int(expr.count().to_pyarrow().as_py())


def planned_capital_spend(t: Any, version: str, first: dt.date, last: dt.date) -> pl.DataFrame:
    """`period, amount`: `version`'s budget lines per month on asset accounts of role `other` (fixed assets),
    the capital spend it plans, from `first`'s month to `last`'s."""
    bl = t("budget_lines")
    a = t("accounts").select(_a="account_id", role="role", type="type")
    j = bl.join(a, bl.account_id == a._a)
    j = j.filter((j.version == version) & (j.type == "asset") & (j.role == "other"))
    j = j.filter((j.period >= first.replace(day=1)) & (j.period <= last))
    agg = j.group_by(period=j.period.cast("date")).aggregate(amount=j.amount.cast(MONEY_SUM_T).sum())
    return _frame(agg).sort("period").with_columns(pl.col("amount").cast(pl.Decimal(18, 2)))
