"""Column rules, generic from the declarations: nullability, allowed values, ranges, patterns.

Ingest validation enforces them; this reports rows that got in anyway (loaded by other means,
or before a rule was added)."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from ..canonical import SYSTEM_TABLES, TABLES, Column, Table
from ..kpis.engine import Tables
from .findings import MAX_EXAMPLES, Finding, fmt_key, rows

COLUMN_VALUES = "column_values"

# a rule's condition: true for a violating row, given the column
Violation = Callable[[ir.Value], ir.BooleanValue]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _bound(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def column_rules(c: Column) -> list[tuple[str, Violation, bool]]:
    """(rule description, condition true for a violating row, show the values?) per rule."""
    rules: list[tuple[str, Violation, bool]] = []
    if not c.nullable:
        rules.append(("is null but may not be", lambda v: v.isnull(), False))
    if c.allowed is not None:
        allowed = list(c.allowed)
        rules.append((f"not one of {', '.join(c.allowed)}", lambda v: ~v.isin(allowed), True))
    if c.minimum is not None:
        low = _bound(c.minimum)
        rules.append((f"below the minimum {_num(c.minimum)}", lambda v: v < low, True))
    if c.maximum is not None:
        high = _bound(c.maximum)
        rules.append((f"above the maximum {_num(c.maximum)}", lambda v: v > high, True))
    if c.pattern is not None:
        whole = f"^(?:{c.pattern})$"  # the whole value matches, as a full match would
        rules.append((f"does not match {c.pattern}", lambda v: ~v.re_search(whole), True))
    return rules


def _rules_of(table: Table) -> list[tuple[Column, str, Violation, bool]]:
    return [(c, desc, cond, show) for c in table.columns for desc, cond, show in column_rules(c)]


def _violations(t: Tables, tables: list[Table]) -> dict[int, list[int]]:
    """Per table (by index in `tables`), the number of rows violating each of its rules, in one query
    (a query per table costs more than its scan)."""
    parts = []
    for i, table in enumerate(tables):
        tbl = t(table.name)
        counts = [tbl.count(where=cond(tbl[c.name])) for c, _, cond, _ in _rules_of(table)]
        parts.append(tbl.aggregate(_i=ibis.literal(i), _n=ibis.array(counts)))
    return {int(i): [int(n or 0) for n in ns] for i, ns in rows(ibis.union(*parts, distinct=False))}


def _table_findings(t: Tables, table: Table, counts: list[int]) -> list[Finding]:
    findings = []
    tbl = t(table.name)
    pk = list(table.primary_key)
    for (c, desc, cond, show), n in zip(_rules_of(table), counts, strict=True):
        if not n:
            continue
        bad = tbl.filter(cond(tbl[c.name])).select(*pk, _value=tbl[c.name])
        found = rows(bad.order_by(pk).limit(MAX_EXAMPLES))
        keys = [fmt_key(r[:-1]) for r in found]
        values = sorted({repr(r[-1]) if isinstance(r[-1], str) else str(r[-1]) for r in found})
        shown = f" (values {', '.join(values)})" if show else ""
        findings.append(
            Finding(
                COLUMN_VALUES,
                "stop",
                table.name,
                "; ".join(keys),
                f"{n} rows of {table.name}: {c.name} {desc}{shown}, e.g. rows {', '.join(keys)}",
            )
        )
    return findings


def check_column_values(t: Tables, base_currency: str) -> list[Finding]:
    """Every row of every table satisfies its columns' declared nullability, allowed values,
    minimum, maximum and pattern (stop). One finding per table, column and rule."""
    del base_currency
    tables = [table for table in TABLES + SYSTEM_TABLES if _rules_of(table)]
    if not tables:
        return []
    counts = _violations(t, tables)
    return [f for i, table in enumerate(tables) if any(counts[i]) for f in _table_findings(t, table, counts[i])]
