"""What a check returns: findings, reported as data rather than raised (Beancount style)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

import duckdb

from ..core.money import half_even_div_sql  # noqa: F401  (tests import it from here)
from ..core.numbers import plain_text
from ..core.periods import month_end

Severity = Literal["stop", "warn", "info"]
SEVERITIES: tuple[Severity, ...] = ("stop", "warn", "info")

# A check that could list millions of rows lists this many, then one summary finding.
MAX_FINDINGS_PER_CHECK = 100
MAX_EXAMPLES = 5

Con = duckdb.DuckDBPyConnection


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


# ------------------------------------------------------------------ SQL helpers
def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def fmt_key(values: Sequence[Any]) -> str:
    """A (possibly composite) key as text: values joined by '/'."""
    return "/".join(plain_text(v, none="NULL") for v in values)


def dec(value: Any) -> Decimal:
    """A SQL DECIMAL/HUGEINT result as Decimal (NULL → 0)."""
    return Decimal(0) if value is None else Decimal(value)


def cents_to_decimal(cents: int | None) -> Decimal:
    return Decimal(int(cents or 0)).scaleb(-2)


# ------------------------------------------------------------------ dates
def gl_month_ends(con: Con) -> list[dt.date]:
    """Every month end from the first to the last month that has GL rows (none if no GL rows)."""
    lo, hi = con.execute("SELECT min(posting_date), max(posting_date) FROM gl_entries").fetchone()  # type: ignore[misc]
    if lo is None:
        return []
    out: list[dt.date] = []
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.append(month_end(dt.date(y, m, 1)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
