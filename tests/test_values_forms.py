"""The one value parser (src/opsfin/values/) reads a source's text forms through `SourceForms`: with no
mapping it reads them as the empty ingest mapping does, and a mapping's forms change what it reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opsfin.canonical.types import Column
from opsfin.ingest.mapping import Mapping
from opsfin.values.parser import ISO_FORMS, Invalid, value_checker

AMOUNT = Column("amount", "DECIMAL(18,2)", nullable=True)
DAY = Column("day", "DATE", nullable=True)
STAMP = Column("at", "TIMESTAMP", nullable=True)
CLOCK = Column("clock", "TIME", nullable=True)


def outcome(column: Column, raw, forms) -> object:
    try:
        return value_checker(column, forms)(raw)
    except Invalid as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        (AMOUNT, "", None),  # "" is the one null text
        (AMOUNT, "n/a", "refused: column 'amount': 'n/a' is not a decimal number"),
        (AMOUNT, "1234.5", Decimal("1234.50")),
        (
            AMOUNT,
            "1.234,5",
            "refused: column 'amount': '1.234,5' is not a decimal number"
            " (for 1.234,56 or 1,234.56 set decimal_separator/thousands_separator in a mapping)",
        ),
        (DAY, "2024-03-01", dt.date(2024, 3, 1)),
        (STAMP, "2024-03-01 10:05:00", dt.datetime(2024, 3, 1, 10, 5)),
        (CLOCK, "10:05", dt.time(10, 5)),
    ],
)
def test_no_mapping_reads_like_the_empty_mapping(column, raw, expected):
    assert outcome(column, raw, None) == expected
    assert outcome(column, raw, ISO_FORMS) == expected
    assert outcome(column, raw, Mapping()) == expected


def test_a_mappings_forms_are_read():
    german = Mapping(
        decimal_separator=",",
        thousands_separator=".",
        null_values=["-"],
        date_format="%d.%m.%Y",
        time_format="%H.%M",
    )
    assert outcome(AMOUNT, "1.234,5", german) == Decimal("1234.50")
    assert outcome(AMOUNT, "-", german) is None
    assert outcome(DAY, "01.03.2024", german) == dt.date(2024, 3, 1)
    assert outcome(CLOCK, "10.05", german) == dt.time(10, 5)
    per_column = Mapping(date_formats={"day": "%m/%d/%Y"}, timestamp_formats={"at": "%d/%m/%Y %H:%M"})
    assert outcome(DAY, "03/01/2024", per_column) == dt.date(2024, 3, 1)
    assert outcome(STAMP, "01/03/2024 10:05", per_column) == dt.datetime(2024, 3, 1, 10, 5)
