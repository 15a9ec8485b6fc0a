"""Keys, generic from the declarations: foreign keys have parents, primary keys are unique.

DuckDB constraints are not declared (they would make bulk loads slow), so this is where keys
are verified after the fact; ingest validation enforces them on the way in."""

from __future__ import annotations

import functools
import operator

import ibis
import ibis.expr.types as ir

from ..canonical import SYSTEM_TABLES, TABLES, ForeignKey, Table
from ..kpis.engine import Tables
from .findings import MAX_EXAMPLES, Finding, fmt_key, rows

ORPHAN_FK = "orphan_fk"
DUPLICATE_PK = "duplicate_pk"


def _orphans(t: Tables, table: Table, f: ForeignKey) -> ir.Table:
    """The FK values of the rows of `table` whose non-null `f` columns have no parent row."""
    child = t(table.name).select(*f.columns)
    child = child.filter(functools.reduce(operator.and_, [child[c].notnull() for c in f.columns]))
    parent = t(f.ref_table).view()
    match = [child[c] == parent[r] for c, r in zip(f.columns, f.ref_columns, strict=True)]
    return child.anti_join(parent, match).select(*f.columns)


def check_orphans(t: Tables, base_currency: str) -> list[Finding]:
    """For every foreign key declared in canonical.TABLES: rows whose non-null FK values have no
    parent row (stop). One finding per foreign key, with up to 5 example missing values."""
    del base_currency
    fks = [(table, f) for table in TABLES for f in table.foreign_keys]
    if not fks:
        return []
    counts = _counts(
        [o.aggregate(_i=ibis.literal(i), _n=o.count()) for i, o in enumerate(_orphans(t, tb, f) for tb, f in fks)]
    )
    findings = []
    for i, (table, f) in enumerate(fks):
        n = counts[i]
        if not n:
            continue
        distinct = _orphans(t, table, f).distinct()
        distinct = distinct.mutate(_distinct=distinct.count().over(ibis.window()))
        found = rows(distinct.order_by(list(f.columns)).limit(MAX_EXAMPLES))
        examples = [fmt_key(r[:-1]) for r in found]
        cols = ", ".join(f.columns)
        refs = f"{f.ref_table}({', '.join(f.ref_columns)})"
        findings.append(
            Finding(
                ORPHAN_FK,
                "stop",
                table.name,
                "; ".join(examples),
                f"{n} rows of {table.name} have ({cols}) values missing from {refs}: "
                f"{found[0][-1]} distinct, e.g. {', '.join(examples)}",
            )
        )
    return findings


def _duplicates(t: Tables, table: Table) -> ir.Table:
    """The primary key values of `table` that occur more than once, with `_n`, their number of rows."""
    tbl = t(table.name)
    dups = tbl.group_by(list(table.primary_key)).aggregate(_n=tbl.count())
    return dups.filter(dups._n > 1)


def check_primary_keys(t: Tables, base_currency: str) -> list[Finding]:
    """Primary keys are unique in every table, system tables included (stop). One finding per
    table, with up to 5 example duplicated keys."""
    del base_currency
    tables = TABLES + SYSTEM_TABLES
    parts = []
    for i, table in enumerate(tables):
        dups = _duplicates(t, table)
        parts.append(dups.aggregate(_i=ibis.literal(i), _n=dups.count()))
    n_keys_of = _counts(parts)
    findings = []
    for i, table in enumerate(tables):
        if not n_keys_of[i]:
            continue
        pk = list(table.primary_key)
        dups = _duplicates(t, table)
        dups = dups.mutate(_keys=dups.count().over(ibis.window()), _rows=dups._n.sum().over(ibis.window()))
        found = rows(dups.select(*pk, "_keys", "_rows").order_by(pk).limit(MAX_EXAMPLES))
        examples = [fmt_key(r[:-2]) for r in found]
        n_keys, n_rows = found[0][-2:]
        findings.append(
            Finding(
                DUPLICATE_PK,
                "stop",
                table.name,
                "; ".join(examples),
                f"{n_keys} values of the primary key ({', '.join(table.primary_key)}) of {table.name} occur more "
                f"than once ({int(n_rows)} rows), e.g. {', '.join(examples)}",
            )
        )
    return findings


def _counts(parts: list[ir.Table]) -> dict[int, int]:
    """`_i → _n` of one-row aggregates, read in one query (a query per table costs more than its scan)."""
    return {int(i): int(n) for i, n in rows(ibis.union(*parts, distinct=False))}
