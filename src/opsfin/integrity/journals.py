"""GL checks: every journal balances; production cost centres are cleared at every month end."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ..canonical import PRODUCTION_COST_ROLES
from .findings import MAX_FINDINGS_PER_CHECK, Con, Finding, dec, gl_month_ends, literal

UNBALANCED_JOURNAL = "unbalanced_journal"
PRODUCTION_CC_BALANCE = "production_cc_balance"


def check_journals(con: Con, base_currency: str) -> list[Finding]:
    """Each `gl_entries.journal_id` sums to exactly 0 (stop)."""
    del base_currency  # GL amounts are already in base currency
    unbalanced = """
        SELECT journal_id, sum(amount) AS imbalance,
               sum(amount) FILTER (WHERE amount > 0) AS debits,
               sum(amount) FILTER (WHERE amount < 0) AS credits,
               count(*) AS n_lines, min(posting_date) AS first_date
        FROM gl_entries GROUP BY journal_id HAVING sum(amount) <> 0
    """
    n, total = con.execute(f"SELECT count(*), sum(imbalance) FROM ({unbalanced})").fetchone()  # type: ignore[misc]
    rows = con.execute(f"{unbalanced} ORDER BY journal_id LIMIT {MAX_FINDINGS_PER_CHECK}").fetchall()
    findings = [
        Finding(
            UNBALANCED_JOURNAL,
            "stop",
            "gl_entries",
            jid,
            f"journal {jid} ({n_lines} lines, posted {first_date}) sums to {dec(imb)} "
            f"(debits {dec(dr)}, credits {dec(cr)})",
            dec(imb),
        )
        for jid, imb, dr, cr, n_lines, first_date in rows
    ]
    if n > len(rows):
        findings.append(
            Finding(
                UNBALANCED_JOURNAL,
                "stop",
                "gl_entries",
                "…",
                f"… and {n - len(rows)} more unbalanced journals not listed; all {n} together sum to {dec(total)}",
                dec(total),
            )
        )
    return findings


def check_production_cost_centers(con: Con, base_currency: str) -> list[Finding]:
    """Roles direct_labor, energy, variable_overhead and fixed_overhead on cost centres of kind
    'production' have a zero balance (cumulative Σ amount up to the date) at every month end (warn)."""
    del base_currency
    month_ends = gl_month_ends(con)
    if not month_ends:
        return []
    roles = ", ".join(literal(r) for r in PRODUCTION_COST_ROLES)
    rows = con.execute(f"""
        SELECT g.cost_center_id, a.role, last_day(g.posting_date) AS m, sum(g.amount) AS amt
        FROM gl_entries g
        JOIN accounts a ON a.account_id = g.account_id
        JOIN cost_centers c ON c.cost_center_id = g.cost_center_id
        WHERE c.kind = 'production' AND a.role IN ({roles})
        GROUP BY ALL
    """).fetchall()
    moves: dict[tuple[str, str], dict] = defaultdict(dict)
    for cc, role, m, amt in rows:
        moves[(cc, role)][m] = dec(amt)
    findings = []
    for (cc, role), by_month in sorted(moves.items()):
        balance = Decimal(0)
        nonzero: list[tuple] = []
        for t in month_ends:
            balance += by_month.get(t, Decimal(0))
            if balance != 0:
                nonzero.append((t, balance))
        if nonzero:
            (t0, b0), (t1, b1) = nonzero[0], nonzero[-1]
            findings.append(
                Finding(
                    PRODUCTION_CC_BALANCE,
                    "warn",
                    "gl_entries",
                    f"{cc}/{role}",
                    f"production cost centre {cc}, role {role}: balance {b0} at {t0}, not cleared to "
                    f"variances; non-zero at {len(nonzero)} of {len(month_ends)} month ends "
                    f"(last {b1} at {t1})",
                    b0,
                )
            )
    return findings
