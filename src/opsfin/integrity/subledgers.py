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

Arithmetic is exact: open amounts (scale 2) and rates (scale 8) are turned into HUGEINT units,
their product is in units of 1e-10, and the division to cents rounds half to even explicitly
(DuckDB's ROUND on DECIMAL rounds half away from zero).
"""

from __future__ import annotations

from ..core.money import half_even_div_sql
from .findings import (
    Con,
    Finding,
    cap,
    cents_to_decimal,
    dec,
    gl_month_ends,
)

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


def _invoices_sql(invoices: str) -> str:
    """Invoices up to the last month end, with their rate at the invoice date (NULL if missing)."""
    return f"""
        SELECT i.invoice_id, i.invoice_date, i.currency, CAST(i.total AS DECIMAL(38,2)) AS total,
               CASE WHEN i.currency = $base THEN CAST(1 AS DECIMAL(18,8))
                    ELSE CAST(r.rate_to_base AS DECIMAL(18,8)) END AS rate
        FROM {invoices} i
        ASOF LEFT JOIN fx_rates r ON r.currency = i.currency AND i.invoice_date >= r.rate_date
        WHERE i.invoice_date <= $last_t
    """


def open_items_sql(invoices: str, allocations: str, settlements: str, key: str, date: str) -> str:
    """SQL giving (t, cents): the open subledger at each month end t, in base-currency cents.

    Parameters: $month_ends (DATE[]), $base (VARCHAR), $first_t, $last_t (DATE)."""
    units = half_even_div_sql("p", 100_000_000)
    return f"""
        WITH me AS (SELECT unnest($month_ends::DATE[]) AS t),
        inv AS ({_invoices_sql(invoices)}),
        -- allocations, bucketed on the first month end on or after both the settlement and the
        -- invoice (an invoice enters the grid at its own month end), summed per bucket
        alloc AS (
            SELECT a.invoice_id,
                   greatest(last_day(s.{date}), last_day(inv.invoice_date), $first_t) AS t,
                   sum(CAST(a.amount AS DECIMAL(38,2))) AS amt
            FROM {allocations} a
            JOIN {settlements} s ON s.{key} = a.{key}
            JOIN inv ON inv.invoice_id = a.invoice_id
            WHERE s.{date} <= $last_t
            GROUP BY ALL
        ),
        grid AS (
            SELECT me.t, inv.rate,
                   inv.total - coalesce(sum(alloc.amt) OVER (
                       PARTITION BY inv.invoice_id ORDER BY me.t ROWS UNBOUNDED PRECEDING), 0) AS open_amt
            FROM inv
            JOIN me ON inv.invoice_date <= me.t
            LEFT JOIN alloc ON alloc.invoice_id = inv.invoice_id AND alloc.t = me.t
            WHERE inv.rate IS NOT NULL
        ),
        units AS (  -- open amount in cents × rate in 1e-8 = base currency in 1e-10
            SELECT t, CAST(open_amt * 100 AS HUGEINT) * CAST(rate * 100000000 AS HUGEINT) AS p
            FROM grid
        )
        SELECT t, sum({units}) AS cents FROM units GROUP BY t ORDER BY t
    """


def _check_ledger(con: Con, base_currency: str, which: str) -> list[Finding]:
    check, invoices, allocations, settlements, key, date, role, sign = _LEDGERS[which]
    month_ends = gl_month_ends(con)
    if not month_ends:
        return []
    params = {
        "month_ends": month_ends,
        "base": base_currency,
        "first_t": month_ends[0],
        "last_t": month_ends[-1],
    }
    findings: list[Finding] = []

    missing = con.execute(
        f"""
        SELECT currency, count(*), min(invoice_date), list(invoice_id ORDER BY invoice_id)[1:5]
        FROM ({_invoices_sql(invoices)}) WHERE rate IS NULL GROUP BY currency ORDER BY currency
    """,
        {"base": base_currency, "last_t": month_ends[-1]},
    ).fetchall()
    for currency, n, first, examples in missing:
        findings.append(
            Finding(
                FX_RATE_MISSING,
                "stop",
                invoices,
                currency,
                f"{n} {invoices} in {currency} have no fx_rates row on or before their invoice_date "
                f"(first {first}, e.g. {', '.join(examples)}); they are left out of the {which.upper()} "
                "subledger",
            )
        )

    sub = {
        t: int(c)
        for t, c in con.execute(open_items_sql(invoices, allocations, settlements, key, date), params).fetchall()
    }
    moves = dict(
        con.execute(
            """
        SELECT last_day(g.posting_date) AS m, sum(g.amount)
        FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
        WHERE a.role = $role GROUP BY m
    """,
            {"role": role},
        ).fetchall()
    )

    control = dec(0)
    diffs = []
    for t in month_ends:
        control += dec(moves.get(t))
        ctl = control * sign
        open_items = cents_to_decimal(sub.get(t))
        diff = ctl - open_items
        if abs(diff) >= dec("0.01"):
            diffs.append(
                Finding(
                    check,
                    "stop",
                    invoices,
                    t.isoformat(),
                    f"{which.upper()} control accounts (role {role}) {ctl} vs open {invoices} {open_items} "
                    f"at {t}: difference {diff}",
                    diff,
                )
            )
    return findings + cap(diffs, f"month ends where the {which.upper()} subledger differs")


def check_ar_subledger(con: Con, base_currency: str) -> list[Finding]:
    """Open AR invoices equal the AR control accounts at every month end (stop)."""
    return _check_ledger(con, base_currency, "ar")


def check_ap_subledger(con: Con, base_currency: str) -> list[Finding]:
    """Open AP invoices equal −(the AP control accounts) at every month end (stop)."""
    return _check_ledger(con, base_currency, "ap")
