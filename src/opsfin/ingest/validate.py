"""Load checks: one row against its columns, and what needs more than one row. Pure functions.

- `check_row(checkers, values, ...)` runs the value parser (`opsfin.values.parser.value_checker`, one checker
  per column) over one row and collects a `Problem` per refused column.
- `validate_load(batches, lookup)` checks what needs more than one row: primary keys unique in
  the file and new to the warehouse, foreign keys present in the warehouse or accepted in the
  same load, GL rows outside closed periods, and every GL journal balanced (one refused row
  refuses its whole journal). The warehouse is seen only through a `WarehouseLookup`.

The value parser itself (decimals with scale checks, integers, dates, timestamps, booleans,
ids) lives in `opsfin.values`; its public names are importable from here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ..canonical import Table
from ..values.parser import FALSE_TEXTS, TRUE_TEXTS, Checker, Invalid, value_checker
from ..values.parser import show as _show

__all__ = [
    "FALSE_TEXTS",
    "TRUE_TEXTS",
    "Candidate",
    "Checker",
    "Invalid",
    "Problem",
    "TableBatch",
    "WarehouseLookup",
    "check_row",
    "describe_key",
    "validate_load",
    "value_checker",
]


# ------------------------------------------------------------------ rows and loads
@dataclass
class Problem:
    column: str | None
    reason: str


@dataclass
class Candidate:
    """One incoming row: where it came from, its values so far, and what is wrong with it."""

    number: int  # source row number
    typed: dict[str, Any]  # canonical column -> canonical value (only the columns that parsed)
    raw: dict[str, Any]  # the record as read, for quarantine
    problems: list[Problem] = field(default_factory=list)
    location: str | None = None  # documents: where in the file ("Stmt[1]/Ntry[2]")

    @property
    def label(self) -> str:
        return self.location or f"row {self.number}"

    def refuse(self, column: str | None, reason: str) -> None:
        self.problems.append(Problem(column, reason))


def check_row(
    checkers: dict[str, Checker],
    values: dict[str, Any],
    number: int,
    raw: dict[str, Any],
    location: str | None = None,
) -> Candidate:
    """Parse and check every column of one row. Missing columns are None (so: null)."""
    cand = Candidate(number, {}, raw, location=location)
    for name, check in checkers.items():
        try:
            cand.typed[name] = check(values.get(name))
        except Invalid as exc:
            cand.refuse(name, str(exc))
    return cand


@dataclass
class TableBatch:
    table: Table
    rows: list[Candidate]

    @property
    def accepted(self) -> list[Candidate]:
        return [c for c in self.rows if not c.problems]

    @property
    def quarantined(self) -> list[Candidate]:
        return [c for c in self.rows if c.problems]


class WarehouseLookup(Protocol):
    def existing_keys(self, table: Table, columns: tuple[str, ...], keys: set[tuple]) -> dict[tuple, str | None]:
        """Those of `keys` (values of `columns`) present in `table`, each with the load that brought it."""

    def closed_periods(self) -> set[dt.date]:
        """First days of the closed months."""


def describe_key(columns: Iterable[str], key: tuple) -> str:
    return ", ".join(f"{c} {_show(v)}" for c, v in zip(columns, key, strict=True))


def _key(cand: Candidate, columns: tuple[str, ...]) -> tuple | None:
    """The values of `columns` as a key; None when any of them is null (or did not parse)."""
    if len(columns) == 1:
        value = cand.typed.get(columns[0])
        return None if value is None else (value,)
    key = tuple(cand.typed.get(c) for c in columns)
    return None if None in key else key


def _load_order(batches: list[TableBatch]) -> list[TableBatch]:
    by_name = {b.table.name: b for b in batches}
    done: list[TableBatch] = []

    def visit(batch: TableBatch, path: tuple[str, ...]) -> None:
        if batch in done or batch.table.name in path:
            return
        for fk in batch.table.foreign_keys:
            if fk.ref_table in by_name and fk.ref_table != batch.table.name:
                visit(by_name[fk.ref_table], path + (batch.table.name,))
        done.append(batch)

    for b in batches:
        visit(b, ())
    return done


def validate_load(batches: list[TableBatch], lookup: WarehouseLookup, noun: str = "file") -> list[TableBatch]:
    """Run the cross-row checks over every table of one load, parents before children.

    Rows already carrying problems (from `check_row`) stay refused. Returns the batches in
    load order; each row ends up accepted (no problems) or quarantined (one or more)."""
    ordered = _load_order(batches)
    in_load = {b.table.name: b for b in ordered}
    for batch in ordered:
        table = batch.table
        _unique_in_file(batch, noun)
        _new_to_warehouse(batch, lookup)
        for fk in table.foreign_keys:
            _references_exist(batch, fk.columns, fk.ref_table, fk.ref_columns, in_load, lookup)
        if table.name == "gl_entries":
            _outside_closed_periods(batch, lookup.closed_periods())
            _journals_balance(batch)
    return ordered


def _unique_in_file(batch: TableBatch, noun: str) -> None:
    pk = batch.table.primary_key
    first: dict[tuple, Candidate] = {}
    for cand in batch.accepted:
        key = _key(cand, pk)
        if key is None:
            continue
        if key in first:
            cand.refuse(
                pk[0] if len(pk) == 1 else None,
                f"{describe_key(pk, key)} duplicates {first[key].label} of this {noun}",
            )
        else:
            first[key] = cand


def _new_to_warehouse(batch: TableBatch, lookup: WarehouseLookup) -> None:
    pk = batch.table.primary_key
    alive = batch.accepted
    found = lookup.existing_keys(batch.table, pk, {k for c in alive if (k := _key(c, pk)) is not None})
    for cand in alive:
        key = _key(cand, pk)
        if key in found:
            by = f" (load {found[key]})" if found[key] else ""
            cand.refuse(
                pk[0] if len(pk) == 1 else None,
                f"{describe_key(pk, key)} is already in {batch.table.name}{by}",
            )


def _references_exist(
    batch: TableBatch,
    columns: tuple[str, ...],
    ref_table: str,
    ref_columns: tuple[str, ...],
    in_load: dict[str, TableBatch],
    lookup: WarehouseLookup,
) -> None:
    from ..canonical import table as table_decl

    alive = batch.accepted
    wanted = {k for c in alive if (k := _key(c, columns)) is not None}
    if not wanted:
        return
    parent = in_load.get(ref_table)
    self_ref = parent is batch
    here = {k for c in parent.accepted if (k := _key(c, ref_columns)) is not None} if parent else set()
    ref_decl = parent.table if parent is not None else table_decl(ref_table)
    found = set(lookup.existing_keys(ref_decl, ref_columns, wanted - here))
    refused = {}
    if parent is not None and not self_ref:
        refused = {k: c for c in parent.quarantined if (k := _key(c, ref_columns)) is not None}
    column = columns[0] if len(columns) == 1 else None
    while True:
        missing = [c for c in alive if (k := _key(c, columns)) is not None and k not in here and k not in found]
        if not missing:
            return
        for cand in missing:
            key = _key(cand, columns)
            assert key is not None
            if key in refused:
                bad = refused[key]
                cand.refuse(
                    column,
                    f"{describe_key(columns, key)} refers to {ref_table} {bad.label} of this load, "
                    f"which is quarantined: {bad.problems[0].reason}",
                )
            else:
                cand.refuse(column, f"{describe_key(columns, key)} is not in {ref_table}; load it first")
        if not self_ref:
            return
        alive = batch.accepted  # a refused row may have been the parent of another row of this table
        here = {k for c in alive if (k := _key(c, ref_columns)) is not None}


def _outside_closed_periods(batch: TableBatch, closed: set[dt.date]) -> None:
    if not closed:
        return
    for cand in batch.accepted:
        day = cand.typed.get("posting_date")
        if day is not None and day.replace(day=1) in closed:
            cand.refuse(
                "posting_date",
                f"posting_date {day.isoformat()} is in the closed period "
                f"{day:%Y-%m}; nothing posts into a closed period",
            )


def _journals_balance(batch: TableBatch) -> None:
    """Each journal is accepted whole or not at all, and only if its amounts sum to zero."""
    journals: dict[str, list[Candidate]] = {}
    for cand in batch.rows:
        jid = cand.typed.get("journal_id")
        if jid is not None:
            journals.setdefault(jid, []).append(cand)
    for jid, rows in journals.items():
        bad = [c for c in rows if c.problems]
        good = [c for c in rows if not c.problems]
        if not good:
            continue
        total = sum((c.typed["amount"] for c in good), Decimal("0.00"))
        if bad:
            reason = (
                f"journal {jid!r} is refused as a whole: {len(bad)} of its {len(rows)} rows "
                f"({', '.join(c.label for c in bad[:3])}{', ...' if len(bad) > 3 else ''}) were refused, "
                f"and its other rows sum to {total}, not 0"
            )
        elif total != 0:
            reason = f"journal {jid!r} does not balance: its {len(rows)} rows sum to {total}, not 0"
        else:
            continue
        for cand in good:
            cand.refuse("journal_id", reason)
