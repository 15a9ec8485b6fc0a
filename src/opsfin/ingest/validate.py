"""Validation of incoming rows against the canonical model. Pure functions: no I/O.

Two levels:
- `value_checker(column, mapping)` turns one raw value into its canonical type (Decimal at the
  column's exact scale, date, timestamp, time, int, float, bool, text) and checks nullability,
  allowed values, minimum/maximum and pattern. A bad value raises `Invalid` with a reason a
  person understands: "column 'credit_limit': 'abc' is not a decimal number".
- `validate_load(batches, lookup)` checks what needs more than one row: primary keys unique in
  the file and new to the warehouse, foreign keys present in the warehouse or accepted in the
  same load, GL rows outside closed periods, and every GL journal balanced (one refused row
  refuses its whole journal). The warehouse is seen only through a `WarehouseLookup`.

Money never passes through float: text is parsed straight to Decimal; a float that a source
stores (Excel, Parquet DOUBLE) is read at its shortest exact form, else at 15 significant digits.
More decimals than the column's scale are refused, never rounded.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from typing import Any, Protocol

from ..canonical import Column, Table
from .mapping import Mapping

TRUE_TEXTS = frozenset({"true", "1", "yes"})
FALSE_TEXTS = frozenset({"false", "0", "no"})
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_INT_RANGE = {"INTEGER": 2**31, "BIGINT": 2**63}
_CTX = Context(prec=60)
_FRIENDLY_PATTERNS = {r"^[A-Z]{3}$": "is not a three-letter ISO currency code (like EUR)"}


class Invalid(ValueError):
    """A value that cannot be accepted; `str(exc)` is the reason."""


Checker = Callable[[Any], Any]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return format(value, ".15g")
    return str(value)


# ------------------------------------------------------------------ parsing one value
def _number_text(text: str, m: Mapping) -> str:
    """Number text in Python form ("1.234,5" -> "1234.5"); "?" when the separators do not fit."""
    sep = m.thousands_separator
    if sep and sep in text:
        whole = text.split(m.decimal_separator)[0].lstrip("+-")
        groups = whole.split(sep)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            return "?"  # thousands separators must split the integer part into groups of three
        text = text.replace(sep, "")
    if m.decimal_separator == ",":
        if "." in text:
            return "?"  # a dot is neither the decimal nor the declared thousands separator
        text = text.replace(",", ".")
    return text


def _number_hint(text: str, m: Mapping) -> str:
    if "," in text and m.decimal_separator == "." and not m.thousands_separator:
        return " (for 1.234,56 or 1,234.56 set decimal_separator/thousands_separator in a mapping)"
    return ""


def _to_decimal(value: Any, column: Column, m: Mapping) -> Decimal:
    scale = column.decimal_scale or 0
    precision = int(column.type.split("(")[1].split(",")[0])
    quantum = Decimal(1).scaleb(-scale)
    if isinstance(value, bool):
        raise Invalid(f"{_show(value)} is a true/false value, not a decimal number")
    if isinstance(value, str):
        text = _number_text(value, m)
        if not _NUMBER.fullmatch(text):
            raise Invalid(f"{_show(value)} is not a decimal number{_number_hint(value, m)}")
        number = Decimal(text)
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise Invalid(f"{value} is not a finite number")
        number = value
    elif isinstance(value, float):
        if math.isinf(value):
            raise Invalid(f"{value} is not a finite number")
        number = Decimal(repr(value))
        if _quantize(number, quantum) != number:
            number = Decimal(format(value, ".15g"))
    else:
        raise Invalid(f"{_show(value)} is not a decimal number")
    exact = _quantize(number, quantum)
    if exact is None:
        raise Invalid(f"{_show(value)} is too large for {column.type}")
    if exact != number:
        raise Invalid(f"{_show(value)} has more than {scale} decimals ({column.type}); "
                      "it is refused rather than rounded")
    if abs(exact) >= Decimal(10) ** (precision - scale):
        raise Invalid(f"{_show(value)} is too large for {column.type}")
    return exact


def _quantize(number: Decimal, quantum: Decimal) -> Decimal | None:
    try:
        return number.quantize(quantum, context=_CTX)
    except InvalidOperation:
        return None


def _to_int(value: Any, column: Column, m: Mapping) -> int:
    if isinstance(value, bool):
        raise Invalid(f"{_show(value)} is a true/false value, not a whole number")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str):
        text = _number_text(value, m)
        if _WHOLE.fullmatch(text):
            result = int(text)
        elif _NUMBER.fullmatch(text) and Decimal(text) == Decimal(text).to_integral_value():
            result = int(Decimal(text))
        else:
            raise Invalid(f"{_show(value)} is not a whole number")
    elif isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        result = int(value)
    else:
        raise Invalid(f"{_show(value)} is not a whole number")
    limit = _INT_RANGE.get(column.type, 2**63)
    if not -limit <= result < limit:
        raise Invalid(f"{_show(value)} is too large for {column.type}")
    return result


def _to_float(value: Any, column: Column, m: Mapping) -> float:
    if isinstance(value, bool):
        raise Invalid(f"{_show(value)} is a true/false value, not a number")
    if isinstance(value, str):
        text = _number_text(value, m)
        if not _NUMBER.fullmatch(text):
            raise Invalid(f"{_show(value)} is not a number{_number_hint(value, m)}")
        result = float(text)
    elif isinstance(value, int | float | Decimal):
        result = float(value)
    else:
        raise Invalid(f"{_show(value)} is not a number")
    if not math.isfinite(result):
        raise Invalid(f"{_show(value)} is not a finite number")
    return result


def _to_bool(value: Any, column: Column, m: Mapping) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.lower()
        if low in TRUE_TEXTS:
            return True
        if low in FALSE_TEXTS:
            return False
    raise Invalid(f"{_show(value)} is not true/false (use true/false, 1/0 or yes/no)")


def _to_date(value: Any, column: Column, m: Mapping) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise Invalid(f"{_show(value)} has a time of day; a date is expected")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise Invalid(f"{_show(value)} is not a date")
    fmt = m.date_format_for(column.name)
    try:
        if fmt:
            return dt.datetime.strptime(value, fmt).date()
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        expected = f"the form {fmt}" if fmt else "YYYY-MM-DD; set date_format in a mapping for others"
        raise Invalid(f"{_show(value)} is not a date ({expected})") from None
    if stamp.time() != dt.time(0) or stamp.tzinfo is not None:
        raise Invalid(f"{_show(value)} has a time of day; a date is expected")
    return stamp.date()


def _to_timestamp(value: Any, column: Column, m: Mapping) -> dt.datetime:
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, str):
        fmt = m.timestamp_format_for(column.name)
        try:
            result = dt.datetime.strptime(value, fmt) if fmt else dt.datetime.fromisoformat(value)
        except ValueError:
            expected = f"the form {fmt}" if fmt else "YYYY-MM-DD HH:MM:SS; set timestamp_format in a mapping"
            raise Invalid(f"{_show(value)} is not a timestamp ({expected})") from None
    else:
        raise Invalid(f"{_show(value)} is not a timestamp")
    if result.tzinfo is not None:
        raise Invalid(f"{_show(value)} has a time zone; timestamps are naive local time")
    return result


def _to_time(value: Any, column: Column, m: Mapping) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
        return (dt.datetime.min + value).time()
    if isinstance(value, str):
        formats = [m.time_format] if m.time_format else ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]
        for fmt in formats:
            try:
                return dt.datetime.strptime(value, fmt).time()
            except ValueError:
                continue
        expected = f"the form {m.time_format}" if m.time_format else "HH:MM or HH:MM:SS"
        raise Invalid(f"{_show(value)} is not a time of day ({expected})")
    raise Invalid(f"{_show(value)} is not a time of day")


def _to_text(value: Any, column: Column, m: Mapping) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise Invalid(f"{_show(value)} is a {type(value).__name__}, not text")


_CONVERTERS: dict[str, Callable[[Any, Column, Mapping], Any]] = {
    "VARCHAR": _to_text, "DATE": _to_date, "TIMESTAMP": _to_timestamp, "TIME": _to_time,
    "DOUBLE": _to_float, "INTEGER": _to_int, "BIGINT": _to_int, "BOOLEAN": _to_bool,
}


def _is_missing(value: Any, nulls: frozenset[str]) -> bool:
    """None, a null text of the mapping, or a NaN (how Parquet/Excel/pandas write "no value")."""
    if value is None:
        return True
    if isinstance(value, str):
        return value in nulls
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, Decimal) and value.is_nan()


def value_checker(column: Column, mapping: Mapping | None = None) -> Checker:
    """A function raw value -> canonical value (None for an allowed null); raises `Invalid`."""
    m = mapping or Mapping()
    convert = _to_decimal if column.decimal_scale is not None else _CONVERTERS[column.type]
    nulls = frozenset(m.null_values)
    allowed = frozenset(column.allowed) if column.allowed else None
    pattern = re.compile(column.pattern) if column.pattern else None
    low, high = column.minimum, column.maximum
    if column.decimal_scale is not None:
        low = Decimal(str(low)) if low is not None else None
        high = Decimal(str(high)) if high is not None else None
    prefix = f"column '{column.name}': "

    def check(raw: Any) -> Any:
        value = raw.strip() if isinstance(raw, str) else raw
        if _is_missing(value, nulls):
            if column.nullable:
                return None
            raise Invalid(f"{prefix}a value is required but the {'cell' if raw is not None else 'value'} is empty")
        try:
            result = convert(value, column, m)
        except Invalid as exc:
            raise Invalid(prefix + str(exc)) from None
        except (ValueError, TypeError, ArithmeticError, OverflowError):
            raise Invalid(f"{prefix}{_show(value)} cannot be read as {column.type}") from None
        if allowed is not None and result not in allowed:
            hint = next((f" (did you mean {a!r}?)" for a in column.allowed or () if a.lower() == str(result).lower()), "")
            raise Invalid(f"{prefix}{_show(result)} is not one of {', '.join(column.allowed or ())}{hint}")
        if low is not None and result < low:
            raise Invalid(f"{prefix}{_show(result)} is below the minimum {column.minimum:g}")
        if high is not None and result > high:
            raise Invalid(f"{prefix}{_show(result)} is above the maximum {column.maximum:g}")
        if pattern is not None and not pattern.search(result):
            what = _FRIENDLY_PATTERNS.get(column.pattern or "", f"does not match the pattern {column.pattern}")
            raise Invalid(f"{prefix}{_show(result)} {what}")
        return result

    return check


# ------------------------------------------------------------------ rows and loads
@dataclass
class Problem:
    column: str | None
    reason: str


@dataclass
class Candidate:
    """One incoming row: where it came from, its values so far, and what is wrong with it."""

    number: int                      # source row number
    typed: dict[str, Any]            # canonical column -> canonical value (only the columns that parsed)
    raw: dict[str, Any]              # the record as read, for quarantine
    problems: list[Problem] = field(default_factory=list)
    location: str | None = None      # documents: where in the file ("Stmt[1]/Ntry[2]")

    @property
    def label(self) -> str:
        return self.location or f"row {self.number}"

    def refuse(self, column: str | None, reason: str) -> None:
        self.problems.append(Problem(column, reason))


def check_row(checkers: dict[str, Checker], values: dict[str, Any], number: int, raw: dict[str, Any],
              location: str | None = None) -> Candidate:
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
            cand.refuse(pk[0] if len(pk) == 1 else None,
                        f"{describe_key(pk, key)} duplicates {first[key].label} of this {noun}")
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
            cand.refuse(pk[0] if len(pk) == 1 else None,
                        f"{describe_key(pk, key)} is already in {batch.table.name}{by}")


def _references_exist(batch: TableBatch, columns: tuple[str, ...], ref_table: str, ref_columns: tuple[str, ...],
                      in_load: dict[str, TableBatch], lookup: WarehouseLookup) -> None:
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
                cand.refuse(column, f"{describe_key(columns, key)} refers to {ref_table} {bad.label} of this load, "
                                    f"which is quarantined: {bad.problems[0].reason}")
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
            cand.refuse("posting_date", f"posting_date {day.isoformat()} is in the closed period "
                                        f"{day:%Y-%m}; nothing posts into a closed period")


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
            reason = (f"journal {jid!r} is refused as a whole: {len(bad)} of its {len(rows)} rows "
                      f"({', '.join(c.label for c in bad[:3])}{', ...' if len(bad) > 3 else ''}) were refused, "
                      f"and its other rows sum to {total}, not 0")
        elif total != 0:
            reason = f"journal {jid!r} does not balance: its {len(rows)} rows sum to {total}, not 0"
        else:
            continue
        for cand in good:
            cand.refuse("journal_id", reason)
