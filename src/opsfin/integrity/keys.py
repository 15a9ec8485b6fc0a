"""Keys, generic from the declarations: foreign keys have parents, primary keys are unique.

DuckDB constraints are not declared (they would make bulk loads slow), so this is where keys
are verified after the fact; ingest validation enforces them on the way in."""

from __future__ import annotations

from ..canonical import SYSTEM_TABLES, TABLES, ForeignKey, Table
from .findings import MAX_EXAMPLES, Con, Finding, fmt_key, ident

ORPHAN_FK = "orphan_fk"
DUPLICATE_PK = "duplicate_pk"


def _orphans_sql(t: Table, f: ForeignKey) -> str:
    cols = [f"c.{ident(c)}" for c in f.columns]
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    match = " AND ".join(f"p.{ident(r)} = c.{ident(c)}" for c, r in zip(f.columns, f.ref_columns, strict=True))
    return (
        f"SELECT {', '.join(cols)} FROM {ident(t.name)} c WHERE {not_null} "
        f"AND NOT EXISTS (SELECT 1 FROM {ident(f.ref_table)} p WHERE {match})"
    )


def check_orphans(con: Con, base_currency: str) -> list[Finding]:
    """For every foreign key declared in canonical.TABLES: rows whose non-null FK values have no
    parent row (stop). One finding per foreign key, with up to 5 example missing values."""
    del base_currency
    findings = []
    for t in TABLES:
        for f in t.foreign_keys:
            sql = _orphans_sql(t, f)
            (n,) = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()  # type: ignore[misc]
            if not n:
                continue
            (n_distinct,) = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM ({sql}))").fetchone()  # type: ignore[misc]
            examples = [
                fmt_key(r)
                for r in con.execute(f"SELECT DISTINCT * FROM ({sql}) ORDER BY ALL LIMIT {MAX_EXAMPLES}").fetchall()
            ]
            cols = ", ".join(f.columns)
            refs = f"{f.ref_table}({', '.join(f.ref_columns)})"
            findings.append(
                Finding(
                    ORPHAN_FK,
                    "stop",
                    t.name,
                    "; ".join(examples),
                    f"{n} rows of {t.name} have ({cols}) values missing from {refs}: "
                    f"{n_distinct} distinct, e.g. {', '.join(examples)}",
                )
            )
    return findings


def check_primary_keys(con: Con, base_currency: str) -> list[Finding]:
    """Primary keys are unique in every table, system tables included (stop). One finding per
    table, with up to 5 example duplicated keys."""
    del base_currency
    findings = []
    for t in TABLES + SYSTEM_TABLES:
        pk = ", ".join(ident(c) for c in t.primary_key)
        dups = f"SELECT {pk}, count(*) AS n FROM {ident(t.name)} GROUP BY {pk} HAVING count(*) > 1"
        n_keys, n_rows = con.execute(f"SELECT count(*), sum(n) FROM ({dups})").fetchone()  # type: ignore[misc]
        if not n_keys:
            continue
        examples = [fmt_key(r[:-1]) for r in con.execute(f"{dups} ORDER BY {pk} LIMIT {MAX_EXAMPLES}").fetchall()]
        findings.append(
            Finding(
                DUPLICATE_PK,
                "stop",
                t.name,
                "; ".join(examples),
                f"{n_keys} values of the primary key ({', '.join(t.primary_key)}) of {t.name} occur more "
                f"than once ({int(n_rows)} rows), e.g. {', '.join(examples)}",
            )
        )
    return findings
