"""Bank statements: each adds up, and each opens where the previous one closed."""

from __future__ import annotations

from .findings import Con, Finding, cap, dec

BANK_STATEMENT_BALANCE = "bank_statement_balance"
BANK_STATEMENT_CHAIN = "bank_statement_chain"


def check_bank_statements(con: Con, base_currency: str) -> list[Finding]:
    """closing_balance = opening_balance + Σ amount of the statement's bank_transactions (stop);
    of consecutive statements of one bank_account (by statement_date, statement_id), each
    opening_balance = the previous closing_balance (warn)."""
    del base_currency  # statements are in their own currency
    rows = con.execute("""
        SELECT s.statement_id, s.bank_account, s.statement_date, s.opening_balance, s.closing_balance,
               coalesce(t.total, 0) AS lines_total, coalesce(t.n, 0) AS n_lines,
               s.closing_balance - (s.opening_balance + coalesce(t.total, 0)) AS diff
        FROM bank_statements s
        LEFT JOIN (SELECT statement_id, sum(amount) AS total, count(*) AS n
                   FROM bank_transactions WHERE statement_id IS NOT NULL GROUP BY statement_id) t
               ON t.statement_id = s.statement_id
        WHERE s.closing_balance <> s.opening_balance + coalesce(t.total, 0)
        ORDER BY s.bank_account, s.statement_date, s.statement_id
    """).fetchall()
    balance = cap(
        [
            Finding(
                BANK_STATEMENT_BALANCE,
                "stop",
                "bank_statements",
                sid,
                f"statement {sid} of {acct} ({day}): opening {dec(op)} + {n} lines {dec(tot)} = "
                f"{dec(op) + dec(tot)}, but closing is {dec(cl)} (difference {dec(diff)})",
                dec(diff),
            )
            for sid, acct, day, op, cl, tot, n, diff in rows
        ],
        "statements that do not add up",
    )

    rows = con.execute("""
        SELECT statement_id, bank_account, statement_date, opening_balance, prev_id, prev_closing
        FROM (
            SELECT *, lag(statement_id) OVER w AS prev_id, lag(closing_balance) OVER w AS prev_closing
            FROM bank_statements
            WINDOW w AS (PARTITION BY bank_account ORDER BY statement_date, statement_id)
        )
        WHERE prev_id IS NOT NULL AND opening_balance <> prev_closing
        ORDER BY bank_account, statement_date, statement_id
    """).fetchall()
    chain = cap(
        [
            Finding(
                BANK_STATEMENT_CHAIN,
                "warn",
                "bank_statements",
                sid,
                f"statement {sid} of {acct} ({day}) opens at {dec(op)}, but the previous statement "
                f"{prev} closed at {dec(prev_cl)} (gap {dec(op) - dec(prev_cl)})",
                dec(op) - dec(prev_cl),
            )
            for sid, acct, day, op, prev, prev_cl in rows
        ],
        "statements that do not follow on",
    )
    return balance + chain
