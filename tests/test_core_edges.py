"""Edges of core/periods.py and core/money.py that the main core tests leave open (found by mutation
testing, docs/testing.md): the first and last months, a one-day range, quarters, exact conversions and
the wording of the errors a user reads. Every expected value is worked out from the calendar or by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from opsfin.core.money import round_shares, split_units, timesheet_pay, to_decimal
from opsfin.core.periods import calendar, parse_day, parse_month, parse_period, period_start
from opsfin.errors import UserError

D = dt.date


@pytest.mark.parametrize(
    ("text", "first"), [("2024-01", D(2024, 1, 1)), ("2024-12", D(2024, 12, 1)), ("0001-05", D(1, 5, 1))]
)
def test_the_first_and_last_months_and_the_first_year_parse(text, first):
    assert parse_month(text) == first


@pytest.mark.parametrize("text", ["2024-00", "2024-13", "0000-05"])
def test_months_out_of_range_are_user_errors_naming_the_value(text):
    with pytest.raises(UserError) as caught:
        parse_month(text)
    assert str(caught.value) == f"period '{text}': give a month as YYYY-MM, e.g. 2024-03"
    with pytest.raises(UserError) as as_option:
        parse_month(text, "--from")
    assert (as_option.value.param, as_option.value.value) == ("start", text)
    assert str(as_option.value) == f"--from '{text}': give a month as YYYY-MM, e.g. 2024-03"


def test_a_period_is_its_month_from_first_to_last_day():
    assert parse_period("2024-02") == (D(2024, 2, 1), D(2024, 2, 29))
    with pytest.raises(UserError, match=r"^period '2024-2x': give a month as YYYY-MM"):
        parse_period("2024-2x")


def test_a_bad_day_names_the_option_and_the_format():
    with pytest.raises(UserError) as caught:
        parse_day("2024-13-01", "day")
    assert str(caught.value) == "day: '2024-13-01' is not a date (use YYYY-MM-DD)"
    with pytest.raises(UserError) as as_option:
        parse_day("x", "--as-of")
    assert (as_option.value.param, as_option.value.hint) == ("as_of", "use YYYY-MM-DD")


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (D(2024, 1, 15), D(2024, 1, 1)),
        (D(2024, 3, 31), D(2024, 1, 1)),
        (D(2024, 4, 1), D(2024, 4, 1)),
        (D(2024, 12, 31), D(2024, 10, 1)),
    ],
)
def test_quarters_start_in_january_april_july_october(day, quarter):
    assert period_start(day, "quarter") == quarter


def test_a_one_day_range_is_one_clipped_period():
    (march,) = calendar(D(2024, 3, 1), D(2024, 3, 1), "month")
    assert (march.start, march.first, march.last) == (D(2024, 3, 1), D(2024, 3, 1), D(2024, 3, 1))
    assert calendar(D(2024, 3, 2), D(2024, 3, 1), "month") == []


def test_to_decimal_is_exact_for_every_kind_of_number():
    assert to_decimal(None) == Decimal(0)
    assert to_decimal(3) == Decimal(3)
    assert to_decimal(Fraction(1, 4)) == Decimal("0.25")
    assert to_decimal(Fraction(-7, 8)) == Decimal("-0.875")
    assert to_decimal(7.9) == Decimal("7.9")


def test_shares_and_weights_that_cannot_be_placed_say_why():
    with pytest.raises(ValueError, match="^cannot place 5 on no shares$"):
        round_shares(5, [])
    assert round_shares(0, []) == {}
    with pytest.raises(ValueError, match="^split weights must not be negative$"):
        split_units(100, {"a": 1, "b": -1})
    with pytest.raises(ValueError, match="^split weights sum to 0$"):
        split_units(100, {"a": 0, "b": 0})


def test_overtime_is_paid_at_the_plain_rate_without_a_multiplier():
    # 8 h + 2 h overtime at 20.00, no multiplier given: 160.00 + 40.00
    assert timesheet_pay(8, 2, Decimal("20.00")) == Decimal("200.00")
