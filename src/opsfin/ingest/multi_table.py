"""Several tables from one tabular source: a mapping with `tables:` (docs/ingest.md, "Several tables
from one file").

Each entry of `tables:` maps the same source rows into one canonical table as a one-table mapping
would (its `rename` and `constants`, the mapping's shared text forms), and may add:
- `when: {SourceColumn: empty | not_empty}`: only the rows that pass feed the table;
- `derive: {column: rule}`: a value computed from source columns, either a text template
  (`"R-{invoiceNumber}"`, null when a column it names is empty) or `{days_between: [From, To]}`
  (whole days from one date to the other, the dates read in the mapping's date form);
- `recode: {column: {source text: value}}`: texts translated before the column's own check;
- `distinct: true`: master rows; the accepted rows collapse to one per primary key, each column
  taking its most frequent value (ties: the earliest row's).

Every row of every table is accepted or quarantined on its own, so per table
`rows_accepted + rows_quarantined == rows_read`, where the rows read are the rows that pass the
table's filter (for a `distinct` table: the rows kept after collapsing, plus the rows refused).
Pure functions: source rows in, checked batches out.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ..canonical import MODEL_TABLE_NAMES, TABLE_BY_NAME, Table
from ..canonical.types import col
from ..errors import UserError
from .mapping import DaysBetween, Mapping, TableMapping, checked_constants, plan_columns
from .source_rows import SourceData, raw_record
from .validate import Candidate, Invalid, TableBatch, check_row, value_checker

Deriver = Callable[[Sequence[Any]], Any]


def table_batches(data: SourceData, mapping: Mapping, origin: str = "mapping") -> tuple[list[TableBatch], list[str]]:
    """One checked batch per entry of `mapping.tables`, all from `data`; and the source columns that feed none."""
    used: set[str] = set()
    batches: list[TableBatch] = []
    for i, entry in enumerate(mapping.tables):
        where = f"{origin}: key 'tables.{i}"
        decl = _target(entry, batches, where)
        batch, feeding = _table_batch(data, mapping, entry, decl, f"{origin} (tables.{i})")
        batches.append(batch)
        used |= feeding
    _check_formats(mapping, batches, origin)
    return batches, [c for c in data.columns if c.strip() and c not in used]


def _check_formats(mapping: Mapping, batches: list[TableBatch], origin: str) -> None:
    """A per-column date or timestamp format must name a column of one of the tables."""
    for key, formats in (("date_formats", mapping.date_formats), ("timestamp_formats", mapping.timestamp_formats)):
        for name in formats:
            if not any(name in b.table.column_names for b in batches):
                raise UserError(f"{origin}: key '{key}.{name}': none of the tables has a column {name!r}")


def _target(entry: TableMapping, earlier: list[TableBatch], where: str) -> Table:
    if entry.table not in MODEL_TABLE_NAMES:
        raise UserError(
            f"{where}.table': unknown table {entry.table!r}; the canonical tables are: {', '.join(MODEL_TABLE_NAMES)}"
        )
    if any(b.table.name == entry.table for b in earlier):
        raise UserError(f"{where}.table': {entry.table} is filled by an earlier entry; merge the two")
    return TABLE_BY_NAME[entry.table]


def _table_batch(
    data: SourceData, mapping: Mapping, entry: TableMapping, decl: Table, origin: str
) -> tuple[TableBatch, set[str]]:
    """The rows of one table, checked; and the source columns they read."""
    _check_names(entry, decl, data.columns, origin)
    one = _one_table_mapping(mapping, entry, decl)
    plan = plan_columns(decl, [*data.columns, *entry.derive], one, data.source, origin)
    constants = checked_constants(plan, one, origin)
    checkers = {c.name: value_checker(c, one) for c in decl.columns if c.name not in plan.constants}
    derivers = {name: _deriver(name, rule, data.columns, one, origin) for name, rule in entry.derive.items()}
    index = list(plan.source_index.items())
    nulls = frozenset(one.null_values)
    tests = [(data.columns.index(c), test == "empty") for c, test in entry.when.items()]
    rows: list[Candidate] = []
    for row in data.rows:
        raw = raw_record(data.columns, row)
        if row.problem:
            cand = Candidate(row.number, {}, raw)
            cand.refuse(None, row.problem)
            rows.append(cand)
            continue
        if any(_missing(row.values[pos], nulls) != empty for pos, empty in tests):
            continue
        values, refused = list(row.values), {}
        for name, derive in derivers.items():
            try:
                values.append(derive(row.values))
            except Invalid as exc:
                values.append(None)
                refused[name] = str(exc)
        mapped = {name: _recoded(values[pos], entry.recode.get(name)) for name, pos in index}
        cand = check_row(checkers, mapped, row.number, raw)
        if refused:
            cand.problems = [p for p in cand.problems if p.column not in refused]
            for name, reason in refused.items():
                cand.refuse(name, reason)
        cand.typed.update(constants)
        rows.append(cand)
    if entry.distinct:
        rows = _one_per_key(rows, decl.primary_key)
    width = len(data.columns)
    feeding = {data.columns[pos] for pos in plan.source_index.values() if pos < width}
    feeding |= set(entry.when) | {c for rule in entry.derive.values() for c in _sources_of(rule)}
    return TableBatch(decl, rows), feeding


def _check_names(entry: TableMapping, decl: Table, columns: Sequence[str], origin: str) -> None:
    """`when` names source columns; `derive` and `recode` name columns of the table."""
    have = ", ".join(columns) or "none"
    for name in entry.when:
        if name not in columns:
            raise UserError(f"{origin}: key 'when.{name}': the source has no column {name!r} (its columns: {have})")
    for key, names in (("derive", entry.derive), ("recode", entry.recode)):
        for name in names:
            if name not in decl.column_names:
                raise UserError(
                    f"{origin}: key '{key}.{name}': {name!r} is not a column of {decl.name} "
                    f"(its columns: {', '.join(decl.column_names)})"
                )


def _one_table_mapping(mapping: Mapping, entry: TableMapping, decl: Table) -> Mapping:
    """The entry as a one-table mapping; per-column formats only for the columns this table has."""
    one = mapping.for_table(entry)
    names = set(decl.column_names)
    return one.model_copy(
        update={
            "date_formats": {k: v for k, v in one.date_formats.items() if k in names},
            "timestamp_formats": {k: v for k, v in one.timestamp_formats.items() if k in names},
        }
    )


def _sources_of(rule: str | DaysBetween) -> list[str]:
    if isinstance(rule, DaysBetween):
        return list(rule.days_between)
    return [field for _, field, _, _ in string.Formatter().parse(rule) if field is not None]


def _deriver(name: str, rule: str | DaysBetween, columns: Sequence[str], mapping: Mapping, origin: str) -> Deriver:
    """The function source row values -> the derived raw value (text, or None); `Invalid` for a bad input."""
    positions = []
    for field in _sources_of(rule):
        if field not in columns:
            raise UserError(
                f"{origin}: key 'derive.{name}': the source has no column {field!r} (its columns: {', '.join(columns)})"
            )
        positions.append((field, columns.index(field)))
    nulls = frozenset(mapping.null_values)
    if isinstance(rule, DaysBetween):
        (first, a), (second, b) = positions
        start = value_checker(col(first, "DATE", null=True), mapping)
        end = value_checker(col(second, "DATE", null=True), mapping)

        def days(values: Sequence[Any]) -> str | None:
            try:
                since, until = start(values[a]), end(values[b])
            except Invalid as exc:
                raise Invalid(f"column '{name}': days from {first} to {second}: {exc}") from None
            return None if since is None or until is None else str((until - since).days)

        return days

    def text(values: Sequence[Any]) -> str | None:
        found = {field: values[pos] for field, pos in positions}
        if any(_missing(v, nulls) for v in found.values()):
            return None
        return rule.format_map({k: v.strip() if isinstance(v, str) else v for k, v in found.items()})

    return text


def _missing(value: Any, nulls: frozenset[str]) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in nulls)


def _recoded(value: Any, table: dict[str, Any] | None) -> Any:
    if table is None or not isinstance(value, str):
        return value
    return table.get(value.strip(), value)


def _one_per_key(rows: list[Candidate], key: tuple[str, ...]) -> list[Candidate]:
    """Accepted rows with the same key become one row (each column: its most frequent value, ties: the
    earliest); refused rows stay as they are; the order is the order of first appearance."""
    groups: dict[tuple, list[Candidate]] = {}
    order: list[Candidate | tuple] = []
    for cand in rows:
        values = tuple(cand.typed.get(c) for c in key)
        if cand.problems or None in values:
            order.append(cand)
            continue
        if values not in groups:
            groups[values] = []
            order.append(values)
        groups[values].append(cand)
    return [_most_frequent(groups[item]) if isinstance(item, tuple) else item for item in order]


def _most_frequent(group: list[Candidate]) -> Candidate:
    first = group[0]
    if len(group) == 1:
        return first
    typed = {name: Counter(c.typed.get(name) for c in group).most_common(1)[0][0] for name in first.typed}
    return Candidate(first.number, typed, first.raw)
