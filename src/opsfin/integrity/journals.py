"""GL checks: every journal balances; production cost centres are cleared at every month end."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import ibis

from ..canonical import PRODUCTION_COST_ROLES
from ..core.periods import month_end
from ..kpis.engine import Tables
from .findings import MAX_FINDINGS_PER_CHECK, Finding, dec, gl_month_ends, rows

UNBALANCED_JOURNAL = "unbalanced_journal"
PRODUCTION_CC_BALANCE = "production_cc_balance"

MONEY_SUM_T = "decimal(38, 2)"


def check_journals(t: Tables, base_currency: str) -> list[Finding]:
    """Each `gl_entries.journal_id` sums to exactly 0 (stop)."""
    del base_currency  # GL amounts are already in base currency
    g = t("gl_entries")
    journals = g.group_by("journal_id").aggregate(
        imbalance=g.amount.sum().cast(MONEY_SUM_T),
        debits=g.amount.sum(where=g.amount > 0).cast(MONEY_SUM_T),
        credits=g.amount.sum(where=g.amount < 0).cast(MONEY_SUM_T),
        n_lines=g.count(),
        first_date=g.posting_date.min(),
    )
    unbalanced = journals.filter(journals.imbalance != 0)
    everything = ibis.window()
    unbalanced = unbalanced.mutate(
        _n=unbalanced.count().over(everything),
        _total=unbalanced.imbalance.sum().over(everything).cast(MONEY_SUM_T),
    )
    found = rows(unbalanced.order_by("journal_id").limit(MAX_FINDINGS_PER_CHECK))
    listed = [r[:-2] for r in found]
    n, total = found[0][-2:] if found else (0, None)
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
        for jid, imb, dr, cr, n_lines, first_date in listed
    ]
    if n > len(listed):
        findings.append(
            Finding(
                UNBALANCED_JOURNAL,
                "stop",
                "gl_entries",
                "…",
                f"… and {n - len(listed)} more unbalanced journals not listed; all {n} together sum to {dec(total)}",
                dec(total),
            )
        )
    return findings


def check_production_cost_centers(t: Tables, base_currency: str) -> list[Finding]:
    """Roles direct_labor, energy, variable_overhead and fixed_overhead on cost centres of kind
    'production' have a zero balance (cumulative Σ amount up to the date) at every month end (warn)."""
    del base_currency
    month_ends = gl_month_ends(t)
    if not month_ends:
        return []
    g = t("gl_entries")
    a = t("accounts").select(_acc="account_id", role="role")
    c = t("cost_centers").select(_cc="cost_center_id", _kind="kind")
    j = g.join(a, g.account_id == a._acc).join(c, g.cost_center_id == c._cc)
    j = j.filter((j._kind == "production") & j.role.isin(list(PRODUCTION_COST_ROLES)))
    j = j.mutate(_month=j.posting_date.truncate("M").cast("date"))
    expr = j.group_by(["cost_center_id", "role", "_month"]).aggregate(amt=j.amount.sum().cast(MONEY_SUM_T))
    moves: dict[tuple[str, str], dict] = defaultdict(dict)
    for cc, role, month, amt in rows(expr):
        moves[(cc, role)][month_end(month)] = dec(amt)
    findings = []
    for (cc, role), by_month in sorted(moves.items()):
        balance = Decimal(0)
        nonzero: list[tuple] = []
        for day in month_ends:
            balance += by_month.get(day, Decimal(0))
            if balance != 0:
                nonzero.append((day, balance))
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
