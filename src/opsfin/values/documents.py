"""Values of bank statements and e-invoices (camt.053, MT940, UBL), parsed by the one value
parser (`values.parser`): the same digits, the same scale checks, the same refusals as tabular ingest.

Each function raises `Invalid` (or its `NotANumber` / `TooLarge`) with a reason; the
readers prefix it with the element or line (docs/readers.md).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from .parser import Invalid, NotANumber, TooLarge, decimal_of_text, exact_decimal, show

__all__ = [
    "Invalid",
    "NotANumber",
    "TooLarge",
    "document_date",
    "document_decimal",
    "document_whole",
    "show",
]

_DOC_DATE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)


def document_decimal(text: str | None, column_type: str | None = None, *, comma: bool = False) -> Decimal:
    """A number as a bank or e-invoice document writes it ("1234.56"; SWIFT: "1234,56"), exact.

    With `column_type` ("DECIMAL(18,2)") it is checked like any ingested value: more decimals
    than the scale, or too many digits, is refused (never rounded). Raises `NotANumber`,
    `TooLarge` or `Invalid`."""
    s = (text or "").strip()
    if comma:
        if "." in s:
            raise NotANumber(f"{show(text)} is not a number")
        s = s.replace(",", ".")
        s = "0" + s if s.startswith(".") else s
        s = s + "0" if s.endswith(".") else s
    number = decimal_of_text(s)
    if number is None:
        raise NotANumber(f"{show(text)} is not a number")
    if column_type is not None:
        return exact_decimal(number, column_type, show(text))
    if abs(number.adjusted()) > 30:
        raise TooLarge(f"{show(text)} is out of range")
    return number


def document_date(text: str) -> dt.date:
    """A document date: "YYYY-MM-DD", or an ISO 8601 date-time (zone allowed) whose date as
    written is taken. Anything else, a trailing NUL included, is refused."""
    m = _DOC_DATE.fullmatch(text)
    try:
        if m is None:
            raise ValueError
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        raise Invalid(f"{show(text)} is not a date") from None


def document_whole(text: str, largest: int) -> int:
    """A count written with the digits 0-9 only, from 0 to `largest`."""
    if not (text.isascii() and text.isdigit()):
        raise NotANumber(f"{show(text)} is not a whole number")
    if len(text) > len(str(largest)) or int(text) > largest:
        raise TooLarge(f"{show(text)} is larger than {largest}")
    return int(text)
