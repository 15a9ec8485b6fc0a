"""core/periods.py: grains, month ends, clipping a range to periods and parsing days and months.

Every expected date and day count below is worked out from the calendar by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from opsfin.core.periods import (
    add_months,
    calendar,
    check_grain,
    iso_week,
    month_end,
    month_start,
    next_period,
    parse_bound,
    parse_day,
    parse_month,
    parse_period,
    period_end,
    period_start,
)
from opsfin.errors import UserError, api_name

D = dt.date


def test_iso_week_of_new_years_eve_week():
    # 2024-12-30 is a Monday; its week's Thursday is 2025-01-02, so the week is 2025's first
    assert period_start(D(2024, 12, 30), "week") == D(2024, 12, 30)
    assert period_start(D(2025, 1, 5), "week") == D(2024, 12, 30)  # the Sunday of the same week
    assert period_end(D(2024, 12, 31), "week") == D(2025, 1, 5)
    assert iso_week(D(2024, 12, 30)) == "2025-W01"
    assert iso_week(D(2024, 12, 29)) == "2024-W52"  # the Sunday before
    assert iso_week(D(2021, 1, 3)) == "2020-W53"  # 2020 had 53 ISO weeks


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (D(2024, 2, 10), D(2024, 2, 29)),  # leap year
        (D(2023, 2, 10), D(2023, 2, 28)),
        (D(1900, 2, 1), D(1900, 2, 28)),  # divisible by 100, not by 400: no leap day
        (D(2000, 2, 1), D(2000, 2, 29)),  # divisible by 400: leap day
        (D(2024, 12, 31), D(2024, 12, 31)),
        (D(2024, 4, 1), D(2024, 4, 30)),
    ],
)
def test_month_end(day, end):
    assert month_end(day) == end
    assert month_start(day) == D(day.year, day.month, 1)


@pytest.mark.parametrize(
    ("day", "grain", "start", "end"),
    [
        (D(2024, 8, 15), "day", D(2024, 8, 15), D(2024, 8, 15)),
        (D(2024, 8, 15), "week", D(2024, 8, 12), D(2024, 8, 18)),  # Thu → Mon 12 … Sun 18
        (D(2024, 8, 15), "month", D(2024, 8, 1), D(2024, 8, 31)),
        (D(2024, 8, 15), "quarter", D(2024, 7, 1), D(2024, 9, 30)),
        (D(2024, 12, 31), "quarter", D(2024, 10, 1), D(2024, 12, 31)),
        (D(2024, 8, 15), "year", D(2024, 1, 1), D(2024, 12, 31)),
    ],
)
def test_period_start_and_end(day, grain, start, end):
    assert period_start(day, grain) == start
    assert period_end(day, grain) == end
    assert next_period(start, grain) == end + dt.timedelta(days=1)


def test_add_months_crosses_years_both_ways():
    assert add_months(D(2024, 11, 30), 3) == D(2025, 2, 1)
    assert add_months(D(2024, 1, 15), -1) == D(2023, 12, 1)
    assert add_months(D(2024, 1, 15), -13) == D(2022, 12, 1)


def test_clipping_by_month_counts_the_days_inside():
    periods = calendar(D(2025, 1, 15), D(2025, 3, 10), "month")
    assert [p.start for p in periods] == [D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)]
    assert [(p.first, p.last) for p in periods] == [
        (D(2025, 1, 15), D(2025, 1, 31)),
        (D(2025, 2, 1), D(2025, 2, 28)),
        (D(2025, 3, 1), D(2025, 3, 10)),
    ]
    assert [p.days for p in periods] == [17, 28, 10]  # 31 − 15 + 1; February 2025; 1…10


def test_clipping_by_quarter_and_week():
    # 2024-02-10 … 2024-05-20: Q1 holds Feb 10–29 (20) + March (31); Q2 holds April (30) + May 1–20 (20)
    assert [(p.start, p.days) for p in calendar(D(2024, 2, 10), D(2024, 5, 20), "quarter")] == [
        (D(2024, 1, 1), 51),
        (D(2024, 4, 1), 50),
    ]
    # Sat 2024-12-28 … Tue 2025-01-07: the week of Mon 12-23 holds Sat+Sun, then a whole week, then Mon+Tue
    assert [(p.start, p.days) for p in calendar(D(2024, 12, 28), D(2025, 1, 7), "week")] == [
        (D(2024, 12, 23), 2),
        (D(2024, 12, 30), 7),
        (D(2025, 1, 6), 2),
    ]


def test_a_range_inside_one_period_and_an_empty_range():
    assert [(p.start, p.days) for p in calendar(D(2024, 3, 5), D(2024, 3, 5), "year")] == [(D(2024, 1, 1), 1)]
    assert calendar(D(2024, 3, 5), D(2024, 3, 4), "day") == []


def test_parsing_days_months_and_bounds():
    assert parse_day("2024-02-29", "--from") == D(2024, 2, 29)
    assert parse_day(None, "--from") is None
    assert parse_day(D(2024, 1, 1), "--from") == D(2024, 1, 1)
    assert parse_month("2024-03") == D(2024, 3, 1)
    assert parse_period("2024-02", "--period") == (D(2024, 2, 1), D(2024, 2, 29))
    assert parse_bound("2024-02", "--to", last=True) == D(2024, 2, 29)
    assert parse_bound("2024-02", "--from") == D(2024, 2, 1)
    assert parse_bound("2024-02-10", "--to", last=True) == D(2024, 2, 10)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: parse_day("2023-02-29", "--from"), ["--from", "'2023-02-29'", "not a date"]),  # no leap day
        (lambda: parse_day("15.03.2024", "--to"), ["--to", "'15.03.2024'"]),
        (lambda: parse_month("2024-13", "--period"), ["--period '2024-13'", "YYYY-MM"]),
        (lambda: parse_month("24-03", "--period"), ["'24-03'", "YYYY-MM"]),
        (lambda: parse_month("0000-01"), ["period '0000-01'"]),  # no year 0
        (lambda: parse_period("2024-3", "--period"), ["'2024-3'"]),
        (lambda: parse_bound("2024-2", "--to", last=True), ["--to", "'2024-2'"]),
        (lambda: check_grain("fortnight"), ["unknown grain 'fortnight'", "day, week, month, quarter, year"]),
        (lambda: period_start(D(2024, 1, 1), "fortnight"), ["'fortnight'"]),
    ],
)
def test_bad_input_is_a_user_error_naming_the_value(call, named):
    with pytest.raises(UserError) as caught:
        call()
    for text in named:
        assert text in str(caught.value)


def test_the_api_names_the_query_parameter_not_the_option():
    with pytest.raises(UserError) as caught:
        parse_day("someday", "--from")
    assert caught.value.phrase(api_name).startswith("from: 'someday'")


def test_a_bound_passes_none_through_and_words_a_bad_month():
    assert parse_bound(None, "--to") is None
    # 2024-13 looks like a month but is none, and is no day either
    with pytest.raises(UserError) as caught:
        parse_bound("2024-13", "--to", last=True)
    assert str(caught.value) == "--to: '2024-13' is not a date; use YYYY-MM-DD or YYYY-MM"
    assert caught.value.value == "2024-13" and caught.value.param == "end"
    with pytest.raises(UserError) as caught:
        parse_period("2024-3", "--period")
    assert str(caught.value) == "--period '2024-3': give a month as YYYY-MM, e.g. 2024-03"
