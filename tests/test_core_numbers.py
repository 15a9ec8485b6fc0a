"""core/numbers.py: which kind a KPI catalog unit is, and how each kind of value is written (in a column
and in a sentence). Every expected text is worked out by hand in the comments; the common cases of each
kind are in test_present.py, the edges (units spelled differently, non-numbers, infinities, zero and tiny
rates) here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opsfin.core.numbers import format_number, format_with_unit, kind_of_unit


@pytest.mark.parametrize(
    ("unit", "kind"),
    [
        ("ratio", "ratio"),
        ("percent", "ratio"),
        ("integer", "count"),
        (" days ", "days"),  # kinds and aliases
        ("units", "quantity"),
        ("unit", "quantity"),
        ("Pieces", "quantity"),
        ("lines", "quantity"),
        ("tickets", "quantity"),
        ("kWh", "kwh"),  # not the kind's own spelling: found lower-cased
        ("h", "hours"),
        ("Hours", "hours"),
        ("min", "minutes"),
        ("Minutes", "minutes"),
        ("units/h", "rate"),
        ("kWh/unit", "rate"),
        ("score (0-100)", "score"),
        ("Score", "score"),
        ("EUR", "number"),
        ("", "number"),
        (None, "number"),  # no better-known unit
    ],
)
def test_kind_of_each_catalog_unit(unit, kind):
    assert kind_of_unit(unit) == kind


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (True, "count", "yes"),
        (False, "text", "no"),  # a flag, not the integer 1 or 0
        (dt.time(9, 5), "text", "09:05"),
        ("abc", "money", "abc"),
        ("n/a", "text", "n/a"),  # not a number: as it is, whatever the kind
        (7, "text", "7"),  # a number of no numeric kind: as it is
        (float("inf"), "ratio", "∞"),
        (float("-inf"), "money", "-∞"),
        (Decimal("NaN"), "money", "NaN"),
        (Decimal("-Infinity"), "money", "-Infinity"),
        (1234.5, "score", "1234.50"),  # a score has no thousands separator
        (0, "rate", "0"),
        # 0.00001234: log10 = -4.9, floor -5, so 3 - 1 + 5 = 7 places for 3 digits, capped at 6 → 0.000012
        (0.00001234, "rate", "0.000012"),
        (0.5213, "rate", "0.521"),  # log10 floor -1: 3 - 1 + 1 = 3 places
        (1234.4, "rate", "1,234"),  # log10 floor 3: 3 - 1 - 3 < 0 → 0 places
    ],
)
def test_format_number_edges(value, kind, text):
    assert format_number(value, kind) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.5, "score", "0.5 score"),  # the column's 0.50 without its trailing zero
        (0.25, "score", "0.25 score"),
        (12, "units/h", "12 units/h"),  # 12.0 (3 significant digits) → 12: the zero and then the point go
        (1234.4, "units/h", "1,234 units/h"),  # no point: nothing dropped
        (3, "tickets", "3 tickets"),
    ],
)
def test_a_sentence_drops_the_zeros_a_column_keeps(value, unit, text):
    assert format_with_unit(value, unit) == text
