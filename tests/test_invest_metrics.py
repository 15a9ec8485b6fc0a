"""NPV, every IRR, MIRR, payback and PI against published answers, hand-worked cases, numpy-financial and
the roots of the NPV polynomial."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opsfin.invest.metrics import (
    NO_CROSSING,
    NO_SIGN_CHANGE,
    every_irr,
    mirr,
    npv,
    payback_years,
    profitability_index,
    worth,
    year_fractions,
)

D = Decimal
# the XNPV / XIRR example of the spreadsheet documentation: XNPV at 9 % = 2,086.65, XIRR = 0.373362535
EXCEL_DATED = [
    (dt.date(2008, 1, 1), D(-10000)),
    (dt.date(2008, 3, 1), D(2750)),
    (dt.date(2008, 10, 30), D(4250)),
    (dt.date(2009, 2, 15), D(3250)),
    (dt.date(2009, 4, 1), D(2750)),
]
# the MIRR example of the spreadsheet documentation
EXCEL_MIRR = [-120000, 39000, 30000, 21000, 37000, 46000]


def test_xnpv_and_xirr_match_the_published_example():
    figures = worth(EXCEL_DATED, 0.09)
    assert figures.npv == D("2086.65")
    assert figures.irr == [pytest.approx(0.373362535, abs=1e-8)]
    assert figures.reason is None


def test_year_fractions_are_actual_over_365():
    assert year_fractions([dt.date(2008, 1, 1), dt.date(2008, 3, 1), dt.date(2009, 1, 1)]) == [0, 60 / 365, 366 / 365]


def test_periodic_npv_matches_the_published_example():
    # NPV(10 %, −10,000 at the end of year 1, then 3,000, 4,200, 6,800) = 1,188.44
    assert npv(0.10, [1, 2, 3, 4], [-10000, 3000, 4200, 6800]) == pytest.approx(1188.44, abs=0.005)


def test_two_irrs_of_the_textbook_mine():
    # Brealey–Myers: −1,600 now, +10,000 in a year, −10,000 in two: NPV is zero at 25 % and at 400 %
    roots, reason = every_irr([0, 1, 2], [-1600, 10000, -10000])
    assert roots == [pytest.approx(0.25, abs=1e-10), pytest.approx(4.0, abs=1e-10)]
    assert reason is None


@pytest.mark.parametrize(
    ("values", "finance", "reinvest", "expected"),
    [
        (EXCEL_MIRR, 0.10, 0.12, 0.1261),
        (EXCEL_MIRR[:4], 0.10, 0.12, -0.0480),
        (EXCEL_MIRR, 0.10, 0.14, 0.1348),
    ],
)
def test_mirr_matches_the_published_examples(values, finance, reinvest, expected):
    assert mirr(list(range(len(values))), values, finance, reinvest) == pytest.approx(expected, abs=5e-5)


def test_no_irr_says_why():
    assert every_irr([0, 1], [100, 200]) == ([], NO_SIGN_CHANGE)
    # −100 + 300x − 250x² (x = 1 / (1 + r)) has no real root: the NPV stays below zero
    assert every_irr([0, 1, 2], [-100, 300, -250]) == ([], NO_CROSSING)
    assert mirr([0, 1], [100, 200], 0.1, 0.1) is None


def test_payback_by_hand():
    # cumulative −700, −300, +200: paid back at year 3
    assert payback_years([0, 1, 2, 3], [-1000, 300, 400, 500]) == 3
    # discounted at 10 %: 272.73 + 330.58 + 375.66 = 978.97 < 1,000: never
    assert payback_years([0, 1, 2, 3], [-1000, 300, 400, 500], 0.10) is None
    # positive at year 1 but negative again at the end: not paid back
    assert payback_years([0, 1, 2], [-100, 200, -150]) is None
    # the running total dips and recovers: paid back from the last recovery
    assert payback_years([0, 1, 2, 3], [-100, 200, -150, 100]) == 3


def test_payback_months_of_the_dated_example():
    # cumulative −10,000, −7,250, −3,000, +250 on 2009-02-15: 411 days = 13.51 months
    assert worth(EXCEL_DATED, 0.09).payback_months == pytest.approx(411 / 365 * 12, abs=0.005)


def test_profitability_index_by_hand():
    # PV in at 10 %: 600 / 1.1 + 600 / 1.21 = 1,041.32; out 1,000
    assert profitability_index(0.10, [0, 1, 2], [-1000, 600, 600]) == pytest.approx(1.041322, abs=1e-6)
    assert profitability_index(0.10, [0, 1], [10, 20]) is None


amounts = st.lists(st.integers(-1_000_000, 1_000_000), min_size=2, max_size=12)
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@QUICK
@given(amounts, st.floats(-0.5, 1.0))
def test_npv_against_numpy_financial(values, rate):
    expected = npf.npv(rate, values)
    assert npv(rate, list(range(len(values))), values) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@QUICK
@given(amounts, st.floats(0.0, 0.3), st.floats(0.0, 0.3))
def test_mirr_against_numpy_financial(values, finance, reinvest):
    assume(any(v > 0 for v in values) and any(v < 0 for v in values))
    expected = npf.mirr(values, finance, reinvest)
    assert mirr(list(range(len(values))), values, finance, reinvest) == pytest.approx(expected, rel=1e-9)


@QUICK
@given(st.integers(1, 1_000_000), st.lists(st.integers(0, 1_000_000), min_size=1, max_size=10))
def test_conventional_irr_against_numpy_financial(outlay, returns):
    values = [-outlay, *returns]
    assume(any(returns))
    expected = npf.irr(values)
    assume(not np.isnan(expected) and -0.98 < expected < 9.9)
    roots, _ = every_irr(list(range(len(values))), values)
    assert roots == [pytest.approx(expected, rel=1e-7, abs=1e-9)]


def _polynomial_irrs(values: list[int]) -> list[float] | None:
    """The IRRs in (−99 %, 1,000 %) as the real roots x = 1 / (1 + r) of Σ v_t x^t; None when a root is
    double or two roots are too close for a grid to tell apart."""
    roots = np.roots(list(reversed(values)))
    real = sorted(1 / r.real - 1 for r in roots if abs(r.imag) < 1e-9 and r.real > 0)
    inside = [r for r in real if -0.99 < r < 10]
    if any(abs(r + 0.99) < 1e-6 or abs(r - 10) < 1e-6 for r in real):
        return None
    if any((1 + b) / (1 + a) < 1.005 for a, b in zip(inside, inside[1:], strict=False)):
        return None
    return inside


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(st.integers(-1000, 1000), min_size=3, max_size=8))
def test_every_irr_against_polynomial_roots(values):
    assume(values[-1] != 0 and values[0] != 0)
    expected = _polynomial_irrs(values)
    assume(expected is not None)
    roots, reason = every_irr(list(range(len(values))), values)
    assert roots == [pytest.approx(r, rel=1e-6, abs=1e-8) for r in expected]
    assert (reason is None) == bool(roots)
    single = npf.irr(values)
    if not np.isnan(single) and -0.99 < single < 10:  # numpy-financial's one answer is one of ours
        assert any(abs(single - r) < 1e-6 for r in roots)


def test_close_and_several_irrs_by_hand():
    # NPV × (1 + r)² = −1,000 y² + 2,220 y − 1,232 = −1,000 (y − 1.10)(y − 1.12), y = 1 + r
    assert every_irr([0, 1, 2], [-1000, 2220, -1232])[0] == [pytest.approx(0.10), pytest.approx(0.12)]
    # 1,000 (y − 1.1)(y − 1.2)(y − 1.3) = 1,000 y³ − 3,600 y² + 4,310 y − 1,716
    roots, _ = every_irr([0, 1, 2, 3], [1000, -3600, 4310, -1716])
    assert roots == [pytest.approx(0.10), pytest.approx(0.20), pytest.approx(0.30)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(-0.95, 9.0), min_size=1, max_size=5, unique=True))
def test_flows_built_from_chosen_irrs_give_back_every_one(chosen):
    # flows whose NPV × (1 + r)^n is Π (y − (1 + r_i)): their IRRs are exactly the chosen rates
    growth = sorted(1 + r for r in chosen)
    assume(all(b / a > 1.01 for a, b in zip(growth, growth[1:], strict=False)))
    values = list(np.poly(growth))
    roots, reason = every_irr(list(range(len(values))), values)
    assert roots == [pytest.approx(g - 1, rel=1e-6, abs=1e-7) for g in growth]
    assert reason is None
