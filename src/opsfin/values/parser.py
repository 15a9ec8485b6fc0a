"""The one value parser: one raw value -> its canonical type, or a reason it is refused. No I/O.

Every path that brings values into the warehouse parses them here: tabular ingest (CSV/TSV,
Parquet, Excel, JSON Lines, SQL) through `value_checker`, and the bank and e-invoice readers
(camt.053, MT940, UBL) through `values.documents`, which is built on the same functions. The rules
are the same everywhere (docs/ingest.md, "Validation rules"):
- numbers are written with the ASCII digits 0-9 only ("١٢" and "²" are not numbers);
- a decimal is parsed straight from its text to `Decimal` (never through float) and is
  refused, never rounded, when it has more decimals than its column's scale or more integer
  digits than its precision;
- a text holding a control character (such as NUL) or a lone surrogate is refused wherever a
  number, date, time or flag is expected, and a lone surrogate is refused in any text.

`value_checker(column, mapping)` raises `Invalid` with a reason a person understands:
"column 'credit_limit': 'abc' is not a decimal number". Money never passes through float: a
float that a source stores (Excel, Parquet DOUBLE) is read at its shortest exact form, else at 15
significant digits.

It sits below ingest and the readers, which both parse with it: it knows a source's text forms only
through `SourceForms` (an ingest `Mapping` is one), never the ingest package itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Context, Decimal, InvalidOperation
from typing import Any, Protocol

from ..canonical import Column

TRUE_TEXTS = frozenset({"true", "1", "yes"})
FALSE_TEXTS = frozenset({"false", "0", "no"})
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INT_RANGE = {"INTEGER": 2**31, "BIGINT": 2**63}
_CTX = Context(prec=60)
_MAX_EXPONENT = 1000  # 1e1000 is no column's value; a bigger exponent is not even computed
_SHOWN_CHARS = 60  # a reason quotes at most this much of a value
_FRIENDLY_PATTERNS = {r"^[A-Z]{3}$": "is not a three-letter ISO currency code (like EUR)"}


class Invalid(ValueError):
    """A value that cannot be accepted; `str(exc)` is the reason."""


class NotANumber(Invalid):
    """The text is not a number at all."""


class TooLarge(Invalid):
    """The number does not fit its column's precision or range."""


Checker = Callable[[Any], Any]


class SourceForms(Protocol):
    """How a source writes its values: separators, the texts that mean "no value", date and time forms.
    An ingest mapping (`opsfin.ingest.mapping.Mapping`) is one; `ISO_FORMS` is the plain default."""

    @property
    def decimal_separator(self) -> str: ...
    @property
    def thousands_separator(self) -> str | None: ...
    @property
    def null_values(self) -> list[str]: ...
    @property
    def time_format(self) -> str | None: ...
    def date_format_for(self, column: str) -> str | None: ...
    def timestamp_format_for(self, column: str) -> str | None: ...


class _IsoForms:
    """The forms of the empty mapping: `.` decimals, no thousands separator, "" is no value, ISO dates."""

    decimal_separator = "."
    thousands_separator = None
    null_values = [""]  # read only, as a mapping's list is
    time_format = None

    def date_format_for(self, column: str) -> str | None:
        return None

    def timestamp_format_for(self, column: str) -> str | None:
        return None


ISO_FORMS: SourceForms = _IsoForms()


def show(value: Any) -> str:
    """A value as a reason quotes it: texts quoted, long ones cut, huge numbers by their size."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return repr(value[:_SHOWN_CHARS]) + f"... ({len(value)} characters)"
        return repr(value)
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a whole number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = str(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + f"... ({len(text)} characters)"


# ------------------------------------------------------------------ characters
def unreadable_character(text: str) -> str | None:
    """Why `text` cannot be a number, date, time or flag (a control character, a lone surrogate,
    a digit outside 0-9), or None when its characters are fine."""
    if text.isascii():
        bad = next((ch for ch in text if ord(ch) < 32 or ord(ch) == 127), None)
        return None if bad is None else f"contains the control character U+{ord(bad):04X}"
    for ch in text:
        kind = unicodedata.category(ch)
        if kind == "Cs":
            return f"contains a lone surrogate (U+{ord(ch):04X}), which is not valid Unicode"
        if kind[0] == "C" and kind != "Cf":
            return f"contains the control character U+{ord(ch):04X}"
        if ch.isdigit() and not ch.isascii():
            return f"contains the digit {ch!r} (U+{ord(ch):04X}); digits must be 0-9"
    return None


def surrogate_in(text: str) -> bool:
    """True when `text` holds a lone surrogate (it cannot be stored as UTF-8)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _plain(value: str) -> str:
    if value.isascii() and _ASCII_CONTROL.search(value) is None:
        return value  # the common case, without a loop over the characters
    reason = unreadable_character(value)
    if reason is not None:
        raise Invalid(f"{show(value)} {reason}")
    return value


# ------------------------------------------------------------------ numbers
def _number_text(text: str, m: SourceForms) -> str:
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


def _number_hint(text: str, m: SourceForms) -> str:
    if "," in text and m.decimal_separator == "." and not m.thousands_separator:
        return " (for 1.234,56 or 1,234.56 set decimal_separator/thousands_separator in a mapping)"
    return ""


def decimal_of_text(text: str) -> Decimal | None:
    """The exact Decimal an ASCII number text ("-12.5", "1e3") writes, or None if it is none."""
    if not _NUMBER.fullmatch(text):
        return None
    number = Decimal(text)
    if number.is_zero():
        return Decimal(0).copy_sign(number)
    if number.adjusted() > _MAX_EXPONENT:  # stands in for a huge number: refused as too large
        return Decimal(f"1e{_MAX_EXPONENT + 1}").copy_sign(number)
    if number.adjusted() < -_MAX_EXPONENT:  # stands in for a tiny one: refused for its decimals
        return Decimal(f"1e-{_MAX_EXPONENT + 1}").copy_sign(number)
    return number


@functools.cache
def _decimal_type(column_type: str) -> tuple[int, int, Decimal, Decimal]:
    """ "DECIMAL(18,2)" -> precision 18, scale 2, the quantum 0.01 and the first number too large."""
    precision, scale = (int(p) for p in column_type[column_type.index("(") + 1 : -1].split(","))
    return precision, scale, Decimal(1).scaleb(-scale), Decimal(10) ** (precision - scale)


def exact_decimal(number: Decimal, column_type: str, shown: str) -> Decimal:
    """`number` at the scale of `column_type` ("DECIMAL(18,2)"), refused (never rounded) when it
    has more decimals than the scale or more integer digits than the precision allows."""
    precision, scale, quantum, limit = _decimal_type(column_type)
    if not number.is_finite():
        raise NotANumber(f"{shown} is not a finite number")
    if number.adjusted() > _MAX_EXPONENT:
        raise TooLarge(f"{shown} is too large for {column_type}")
    if number.adjusted() < -_MAX_EXPONENT:
        number = Decimal(f"1e-{_MAX_EXPONENT + 1}").copy_sign(number)
    try:
        exact = number.quantize(quantum, context=_CTX)
    except InvalidOperation:
        raise TooLarge(f"{shown} is too large for {column_type}") from None
    if exact != number:
        raise Invalid(f"{shown} has more than {scale} decimals ({column_type}); it is refused rather than rounded")
    if abs(exact) >= limit:
        raise TooLarge(f"{shown} is too large for {column_type}")
    return exact


def _text_of_number(value: Any, m: SourceForms, what: str) -> str | None:
    """The number text of a cell bound for a numeric column: a text cell in Python form (the mapping's
    separators read, as `_number_text`), None for a cell already typed; a true/false cell is refused."""
    if isinstance(value, bool):
        raise Invalid(f"{show(value)} is a true/false value, not {what}")
    return _number_text(_plain(value), m) if isinstance(value, str) else None


def _to_decimal(value: Any, column: Column, m: SourceForms) -> Decimal:
    text = _text_of_number(value, m, "a decimal number")
    if text is not None:
        number = decimal_of_text(text)
        if number is None:
            raise NotANumber(f"{show(value)} is not a decimal number{_number_hint(value, m)}")
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NotANumber(f"{value} is not a finite number")
        number = Decimal(repr(value))
        quantum = Decimal(1).scaleb(-(column.decimal_scale or 0))
        if abs(number.adjusted()) < 20 and number.quantize(quantum, context=_CTX) != number:
            number = Decimal(format(value, ".15g"))
    else:
        raise NotANumber(f"{show(value)} is not a decimal number")
    return exact_decimal(number, column.type, show(value))


def _to_int(value: Any, column: Column, m: SourceForms) -> int:
    text = _text_of_number(value, m, "a whole number")
    if text is not None:
        if _WHOLE.fullmatch(text) and len(text) <= 40:
            whole, number = int(text), None  # the common case: plain digits, read without Decimal
        else:
            number = decimal_of_text(text)
            if number is None:
                raise NotANumber(f"{show(value)} is not a whole number")
    elif isinstance(value, int):
        whole, number = value, None
    elif isinstance(value, float) and math.isfinite(value):
        number = Decimal(value)
    elif isinstance(value, Decimal) and value.is_finite():
        number = value
    else:
        raise Invalid(f"{show(value)} is not a whole number")
    limit = _INT_RANGE.get(column.type, 2**63)
    if number is not None:
        if number != number.to_integral_value(context=_CTX):
            raise Invalid(f"{show(value)} is not a whole number")
        if not -limit <= number < limit:
            raise TooLarge(f"{show(value)} is too large for {column.type}")
        return int(number)
    if not -limit <= whole < limit:
        raise TooLarge(f"{show(value)} is too large for {column.type}")
    return whole


def _to_float(value: Any, column: Column, m: SourceForms) -> float:
    text = _text_of_number(value, m, "a number")
    if text is not None:
        if not _NUMBER.fullmatch(text):
            raise NotANumber(f"{show(value)} is not a number{_number_hint(value, m)}")
        result = float(text)  # "1e999999999" is inf at once, and refused below
    elif isinstance(value, int | float | Decimal):
        try:
            result = float(value)
        except OverflowError:
            result = math.inf
    else:
        raise NotANumber(f"{show(value)} is not a number")
    if not math.isfinite(result):
        raise TooLarge(f"{show(value)} is not a finite number")
    return result


def _to_bool(value: Any, column: Column, m: SourceForms) -> bool:
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
    raise Invalid(f"{show(value)} is not true/false (use true/false, 1/0 or yes/no)")


# ------------------------------------------------------------------ dates and times
def _to_date(value: Any, column: Column, m: SourceForms) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise Invalid(f"{show(value)} has a time of day; a date is expected")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise Invalid(f"{show(value)} is not a date")
    fmt = m.date_format_for(column.name)
    _plain(value)
    try:
        if fmt:
            return dt.datetime.strptime(value, fmt).date()
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        expected = f"the form {fmt}" if fmt else "YYYY-MM-DD; set date_format in a mapping for others"
        raise Invalid(f"{show(value)} is not a date ({expected})") from None
    if stamp.time() != dt.time(0) or stamp.tzinfo is not None:
        raise Invalid(f"{show(value)} has a time of day; a date is expected")
    return stamp.date()


def _to_timestamp(value: Any, column: Column, m: SourceForms) -> dt.datetime:
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, str):
        fmt = m.timestamp_format_for(column.name)
        _plain(value)
        try:
            result = dt.datetime.strptime(value, fmt) if fmt else dt.datetime.fromisoformat(value)
        except ValueError:
            expected = f"the form {fmt}" if fmt else "YYYY-MM-DD HH:MM:SS; set timestamp_format in a mapping"
            raise Invalid(f"{show(value)} is not a timestamp ({expected})") from None
    else:
        raise Invalid(f"{show(value)} is not a timestamp")
    if result.tzinfo is not None:
        raise Invalid(f"{show(value)} has a time zone; timestamps are naive local time")
    return result


def _to_time(value: Any, column: Column, m: SourceForms) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
        return (dt.datetime.min + value).time()
    if isinstance(value, str):
        _plain(value)
        formats = [m.time_format] if m.time_format else ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]
        for fmt in formats:
            try:
                return dt.datetime.strptime(value, fmt).time()
            except ValueError:
                continue
        expected = f"the form {m.time_format}" if m.time_format else "HH:MM or HH:MM:SS"
        raise Invalid(f"{show(value)} is not a time of day ({expected})")
    raise Invalid(f"{show(value)} is not a time of day")


def _to_text(value: Any, column: Column, m: SourceForms) -> str:
    if isinstance(value, str):
        if surrogate_in(value):
            raise Invalid(f"{show(value)} {unreadable_character(value)}")
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 200:
            raise Invalid(f"{show(value)} is too long for an id or a text")
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, Decimal):
        if value.is_finite() and abs(value.adjusted()) > 200:
            raise Invalid(f"{show(value)} is too long for an id or a text")
        return format(value, "f")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise Invalid(f"{show(value)} is a {type(value).__name__}, not text")


_CONVERTERS: dict[str, Callable[[Any, Column, SourceForms], Any]] = {
    "VARCHAR": _to_text,
    "DATE": _to_date,
    "TIMESTAMP": _to_timestamp,
    "TIME": _to_time,
    "DOUBLE": _to_float,
    "INTEGER": _to_int,
    "BIGINT": _to_int,
    "BOOLEAN": _to_bool,
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


def value_checker(column: Column, mapping: SourceForms | None = None) -> Checker:
    """A function raw value -> canonical value (None for an allowed null); raises `Invalid`."""
    m = mapping or ISO_FORMS
    convert = _to_decimal if column.decimal_scale is not None else _CONVERTERS[column.type]
    nulls = frozenset(m.null_values)
    allowed = frozenset(column.allowed) if column.allowed else None
    pattern = re.compile(column.pattern) if column.pattern else None
    low: float | Decimal | None = column.minimum
    high: float | Decimal | None = column.maximum
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
            result: Any = convert(value, column, m)
        except Invalid as exc:
            raise type(exc)(prefix + str(exc)) from None
        except (ValueError, TypeError, ArithmeticError, OverflowError):
            raise Invalid(f"{prefix}{show(value)} cannot be read as {column.type}") from None
        if allowed is not None and result not in allowed:
            hint = next(
                (f" (did you mean {a!r}?)" for a in column.allowed or () if a.lower() == str(result).lower()),
                "",
            )
            raise Invalid(f"{prefix}{show(result)} is not one of {', '.join(column.allowed or ())}{hint}")
        if low is not None and result < low:
            raise Invalid(f"{prefix}{show(result)} is below the minimum {column.minimum:g}")
        if high is not None and result > high:
            raise Invalid(f"{prefix}{show(result)} is above the maximum {column.maximum:g}")
        if pattern is not None and not pattern.search(result):
            what = _FRIENDLY_PATTERNS.get(column.pattern or "", f"does not match the pattern {column.pattern}")
            raise Invalid(f"{prefix}{show(result)} {what}")
        return result

    return check
