"""Bank statements: each adds up, and each opens where the previous one closed."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from ..kpis.engine import Tables
from .findings import Finding, cap, dec, rows

BANK_STATEMENT_BALANCE = "bank_statement_balance"
BANK_STATEMENT_CHAIN = "bank_statement_chain"

MONEY_T = "decimal(18, 2)"
MONEY_SUM_T = "decimal(38, 2)"


def check_bank_statements(t: Tables, base_currency: str) -> list[Finding]:
    """closing_balance = opening_balance + Σ amount of the statement's bank_transactions (stop);
    of consecutive statements of one bank_account (by statement_date, statement_id), each
    opening_balance = the previous closing_balance (warn)."""
    del base_currency  # statements are in their own currency
    s = t("bank_statements")
    s = s.select(
        "statement_id",
        "bank_account",
        "statement_date",
        opening_balance=s.opening_balance.cast(MONEY_T),
        closing_balance=s.closing_balance.cast(MONEY_T),
    )
    return _balance(t, s) + _chain(s)


def _balance(t: Tables, s: ir.Table) -> list[Finding]:
    b = t("bank_transactions")
    b = b.filter(b.statement_id.notnull())
    totals = b.group_by(_sid="statement_id").aggregate(_total=b.amount.sum().cast(MONEY_SUM_T), _n=b.count())
    j = s.left_join(totals, s.statement_id == totals._sid)
    j = j.select(
        "statement_id",
        "bank_account",
        "statement_date",
        "opening_balance",
        "closing_balance",
        lines_total=j._total.fill_null(0).cast(MONEY_SUM_T),
        n_lines=j._n.fill_null(0),
    )
    j = j.filter(j.closing_balance != j.opening_balance + j.lines_total)
    return cap(
        [
            Finding(
                BANK_STATEMENT_BALANCE,
                "stop",
                "bank_statements",
                sid,
                f"statement {sid} of {acct} ({day}): opening {dec(op)} + {n} lines {dec(tot)} = "
                f"{dec(op) + dec(tot)}, but closing is {dec(cl)} (difference {dec(cl) - (dec(op) + dec(tot))})",
                dec(cl) - (dec(op) + dec(tot)),
            )
            for sid, acct, day, op, cl, tot, n in _in_statement_order(j)
        ],
        "statements that do not add up",
    )


def _chain(s: ir.Table) -> list[Finding]:
    w = ibis.window(group_by=s.bank_account, order_by=[s.statement_date, s.statement_id])
    j = s.mutate(prev_id=s.statement_id.lag().over(w), prev_closing=s.closing_balance.lag().over(w))
    j = j.filter(j.prev_id.notnull() & (j.opening_balance != j.prev_closing))
    j = j.select("statement_id", "bank_account", "statement_date", "opening_balance", "prev_id", "prev_closing")
    gaps = [
        Finding(
            BANK_STATEMENT_CHAIN,
            "warn",
            "bank_statements",
            sid,
            f"statement {sid} of {acct} ({day}) opens at {dec(op)}, but the previous statement "
            f"{prev} closed at {dec(prev_cl)} (gap {dec(op) - dec(prev_cl)})",
            dec(op) - dec(prev_cl),
        )
        for sid, acct, day, op, prev, prev_cl in _in_statement_order(j)
    ]
    return cap(gaps, "statements that do not follow on")


def _in_statement_order(j: ir.Table) -> list[tuple]:
    """The rows of `j`, per bank account in statement order (date, then id)."""
    return rows(j.order_by(["bank_account", "statement_date", "statement_id"]))
