"""Column rules, generic from the declarations: nullability, allowed values, ranges, patterns.

Ingest validation enforces them; this reports rows that got in anyway (loaded by other means,
or before a rule was added)."""

from __future__ import annotations

from ..canonical import SYSTEM_TABLES, TABLES, Column, Table
from .findings import MAX_EXAMPLES, Con, Finding, fmt_key, ident, literal

COLUMN_VALUES = "column_values"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def column_rules(c: Column) -> list[tuple[str, str, bool]]:
    """(rule description, SQL condition true for a violating row, show the values?) per rule."""
    q = ident(c.name)
    rules = []
    if not c.nullable:
        rules.append(("is null but may not be", f"{q} IS NULL", False))
    if c.allowed is not None:
        allowed = ", ".join(literal(v) for v in c.allowed)
        rules.append((f"not one of {', '.join(c.allowed)}", f"{q} NOT IN ({allowed})", True))
    if c.minimum is not None:
        rules.append((f"below the minimum {_num(c.minimum)}", f"{q} < {_num(c.minimum)}", True))
    if c.maximum is not None:
        rules.append((f"above the maximum {_num(c.maximum)}", f"{q} > {_num(c.maximum)}", True))
    if c.pattern is not None:
        rules.append(
            (
                f"does not match {c.pattern}",
                f"NOT regexp_full_match({q}, {literal(c.pattern)})",
                True,
            )
        )
    return rules


def _check_table(con: Con, t: Table) -> list[Finding]:
    rules = [(c, desc, cond, show) for c in t.columns for desc, cond, show in column_rules(c)]
    if not rules:
        return []
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in rules) + f" FROM {ident(t.name)}"
    ).fetchone()
    findings = []
    pk = ", ".join(ident(k) for k in t.primary_key)
    for (c, desc, cond, show), n in zip(rules, counts or (), strict=True):
        if not n:
            continue
        rows = con.execute(
            f"SELECT {pk}, {ident(c.name)} FROM {ident(t.name)} WHERE {cond} ORDER BY {pk} LIMIT {MAX_EXAMPLES}"
        ).fetchall()
        keys = [fmt_key(r[:-1]) for r in rows]
        values = sorted({repr(r[-1]) if isinstance(r[-1], str) else str(r[-1]) for r in rows})
        shown = f" (values {', '.join(values)})" if show else ""
        findings.append(
            Finding(
                COLUMN_VALUES,
                "stop",
                t.name,
                "; ".join(keys),
                f"{n} rows of {t.name}: {c.name} {desc}{shown}, e.g. rows {', '.join(keys)}",
            )
        )
    return findings


def check_column_values(con: Con, base_currency: str) -> list[Finding]:
    """Every row of every table satisfies its columns' declared nullability, allowed values,
    minimum, maximum and pattern (stop). One finding per table, column and rule."""
    del base_currency
    return [f for t in TABLES + SYSTEM_TABLES for f in _check_table(con, t)]
