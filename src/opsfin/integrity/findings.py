"""What a check returns: findings, reported as data rather than raised (Beancount style)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

import ibis.expr.types as ir

from ..core.money import half_even_div_sql  # noqa: F401  (tests import it from here)
from ..core.numbers import plain_text
from ..core.periods import month_end
from ..kpis.engine import Tables

Severity = Literal["stop", "warn", "info"]
SEVERITIES: tuple[Severity, ...] = ("stop", "warn", "info")

# A check that could list millions of rows lists this many, then one summary finding.
MAX_FINDINGS_PER_CHECK = 100
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Finding:
    """One problem found in the warehouse.

    `check` names the check, `table` the table the problem is best looked at in, `key` the row(s)
    or scope concerned, `amount` the money involved (difference, imbalance) when there is one."""

    check: str
    severity: Severity
    table: str
    key: str
    message: str
    amount: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["amount"] = None if self.amount is None else str(self.amount)
        return d


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


def summary_line(findings: Sequence[Finding]) -> str:
    c = count_by_severity(findings)
    return ", ".join(f"{c[s]} {s}" for s in SEVERITIES)


def cap(findings: list[Finding], what: str) -> list[Finding]:
    """Keep the first MAX_FINDINGS_PER_CHECK findings, then say how many more there were."""
    if len(findings) <= MAX_FINDINGS_PER_CHECK:
        return findings
    kept = findings[:MAX_FINDINGS_PER_CHECK]
    first = findings[0]
    more = len(findings) - len(kept)
    return kept + [Finding(first.check, first.severity, first.table, "…", f"… and {more} more {what} not listed")]


# ------------------------------------------------------------------ reading results
def rows(expr: ir.Table) -> list[tuple]:
    """The rows of an Ibis expression as tuples, in its column order (Decimals, dates and datetimes as
    Python values)."""
    table = expr.to_pyarrow()
    return list(zip(*(col.to_pylist() for col in table.columns), strict=True)) if table.num_rows else []


def latest_rates(t: Tables, rel: ir.Table, currency: str, day: str) -> ir.Table:
    """`_ccy, _day, _rate` for each (currency, day) of `rel`: the rate of the latest fx_rates row dated on
    or before the day (the greatest rate of that date, should the warehouse hold two). None are
    returned for a pair without such a row."""
    fx = t("fx_rates")
    fx = fx.group_by(_fc="currency", _rd="rate_date").aggregate(_rate=fx.rate_to_base.max().cast("decimal(18, 8)"))
    keys = rel.select(_kc=rel[currency], _kd=rel[day]).distinct()
    cand = keys.join(fx, (keys._kc == fx._fc) & (fx._rd <= keys._kd))
    latest = cand.group_by(["_kc", "_kd"]).aggregate(_last=cand._rd.max())
    j = latest.join(fx, (latest._kc == fx._fc) & (latest._last == fx._rd))
    return j.select(_ccy=j._kc, _day=j._kd, _rate=j._rate)


def one(expr: ir.Table) -> tuple:
    """The single row of an aggregate expression."""
    return rows(expr)[0]


def fmt_key(values: Sequence[Any]) -> str:
    """A (possibly composite) key as text: values joined by '/'."""
    return "/".join(plain_text(v, none="NULL") for v in values)


def dec(value: Any) -> Decimal:
    """A DECIMAL or integer result as Decimal (NULL → 0)."""
    return Decimal(0) if value is None else Decimal(value)


def cents_to_decimal(cents: int | None) -> Decimal:
    return Decimal(int(cents or 0)).scaleb(-2)


# ------------------------------------------------------------------ dates
def gl_month_ends(t: Tables) -> list[dt.date]:
    """Every month end from the first to the last month that has GL rows (none if no GL rows)."""
    g = t("gl_entries")
    lo, hi = one(g.aggregate(lo=g.posting_date.min(), hi=g.posting_date.max()))
    if lo is None:
        return []
    out: list[dt.date] = []
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.append(month_end(dt.date(y, m, 1)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
