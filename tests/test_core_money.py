"""core/money: half-even rounding in Python, SQL and Ibis; the one cent splitter and its tie rule;
timesheet pay. Expected values are worked by hand in the comments."""

from __future__ import annotations

import ast
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import ibis
import pytest
from hypothesis import given
from hypothesis import strategies as st

import opsfin.core.money
from opsfin.core.money import (
    half_even,
    half_even_div,
    half_even_div_sql,
    half_even_ibis,
    round_cents,
    round_per_unit,
    round_shares,
    split_cents,
    split_units,
    timesheet_pay,
)
from opsfin.demo.costing import timesheet_cost

D = Decimal

# value (exact decimal) → half-even to the cent: ties go to the even cent, whatever the sign
HALF_EVEN_CASES = [
    ("0.125", "0.12"),
    ("0.135", "0.14"),
    ("-0.125", "-0.12"),
    ("2.675", "2.68"),
    ("-2.675", "-2.68"),
    ("0.005", "0.00"),
    ("-0.015", "-0.02"),
    ("1.2351", "1.24"),
    ("-1.2349", "-1.23"),
    ("0", "0.00"),
]


# ------------------------------------------------------------------------------------------ rounding
@pytest.mark.parametrize(("value", "want"), HALF_EVEN_CASES)
def test_round_cents_python(value, want):
    assert round_cents(D(value)) == D(want)
    assert round_cents(Fraction(D(value))) == D(want)


def test_round_cents_reads_floats_as_decimals():
    # 2.675 as a binary double is 2.67499999…; read through repr it is the decimal 2.675 → 2.68
    assert round_cents(2.675) == D("2.68")
    assert round_per_unit(D("1.00005")) == D("1.0000") and round_per_unit(D("1.00015")) == D("1.0002")
    assert round_per_unit(Fraction(1, 3)) == D("0.3333")


def test_half_even_integers():
    assert [half_even(Fraction(n, 2)) for n in (-5, -3, -1, 1, 3, 5)] == [-2, -2, 0, 0, 2, 2]
    assert half_even_div(1250, 100) == 12 and half_even_div(1350, 100) == 14 and half_even_div(-1250, 100) == -12
    assert half_even_div(1251, 100) == 13 and half_even_div(-1251, 100) == -13


@pytest.mark.parametrize(("value", "want"), HALF_EVEN_CASES)
def test_sql_and_python_agree(value, want):
    # work in 1e-4 units: 0.125 → 1250, to cents is ÷ 100
    units = int(D(value).scaleb(4))
    got_sql = (
        duckdb.connect()
        .execute(f"SELECT {half_even_div_sql('n', 100)} FROM (SELECT CAST({units} AS HUGEINT) AS n)")
        .fetchone()[0]
    )
    assert D(int(got_sql)).scaleb(-2) == D(half_even_div(units, 100)).scaleb(-2) == D(want)


def test_ibis_matches_python():
    values = [v for v, _ in HALF_EVEN_CASES]
    t = ibis.memtable({"x": values}).mutate(x=ibis._.x.cast("decimal(18,4)"))
    expr = t.mutate(y=half_even_ibis(t.x, 2).cast("decimal(18,2)"), z=half_even_ibis(t.x, 1).cast("decimal(18,1)"))
    rows = ibis.duckdb.connect().execute(expr)
    assert [D(str(y)) for y in rows["y"]] == [D(w) for _, w in HALF_EVEN_CASES]
    # to one decimal: no halves among these, so the nearest tenth
    assert [D(str(z)) for z in rows["z"]] == [
        D(w) for w in ("0.1", "0.1", "-0.1", "2.7", "-2.7", "0.0", "0.0", "1.2", "-1.2", "0.0")
    ]


# ------------------------------------------------------------------------------------------ the splitter
def test_split_hand_worked():
    # 100.00 over 1:1:1: 33.33 each and one cent left; equal remainders and weights → the first key
    assert split_cents(D("100.00"), {"a": 1, "b": 1, "c": 1}) == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    # in the given order, not by name
    assert split_cents(D("100.00"), [("c", 1), ("b", 1), ("a", 1)]) == {
        "c": D("33.34"),
        "b": D("33.33"),
        "a": D("33.33"),
    }
    # a negative amount splits like its absolute value
    assert split_cents(D("-100.00"), {"a": 1, "b": 1, "c": 1}) == {"a": D("-33.34"), "b": D("-33.33"), "c": D("-33.33")}
    # 0.05 over 1:3 → exact 1.25 and 3.75 cents: floors 1 + 3, one cent to the larger remainder (0.75) → 1, 4
    assert split_units(5, {"x": 1, "y": 3}) == {"x": 1, "y": 4}
    # 10 cents over 1:3 → 2.5 and 7.5: equal remainders 0.5, the larger share (7.5) wins → 2, 8
    assert split_units(10, [("x", 1), ("y", 3)]) == {"x": 2, "y": 8}
    # zero weights get 0; floats are read as decimals (0.1 + 0.2 → 0.3 exactly): 1.00 over 0.1:0.2:0 → 33, 67
    assert split_cents(D("1.00"), {"a": 0.1, "b": 0.2, "z": 0}) == {"a": D("0.33"), "b": D("0.67"), "z": D("0")}
    assert split_cents(D("0.00"), {"a": 1, "b": 2}) == {"a": D(0), "b": D(0)}


def test_split_refuses_bad_weights():
    with pytest.raises(ValueError, match="negative"):
        split_units(10, {"a": -1, "b": 2})
    with pytest.raises(ValueError, match="sum to 0"):
        split_units(10, {"a": 0, "b": 0})


def test_round_shares_hand_worked():
    # signed shares that already add up: 5 = 10.5 − 5.5 → floors 10, −6 (sum 4); the last cent: remainders
    # tie at 0.5, the larger share (10.5) takes it → 11, −6
    assert round_shares(5, [("a", Fraction(21, 2)), ("b", Fraction(-11, 2))]) == {"a": 11, "b": -6}
    assert round_shares(-5, [("a", Fraction(-21, 2)), ("b", Fraction(11, 2))]) == {"a": -11, "b": 6}
    # shares above the total: 3 for shares 2.5 + 1.5 = 4 → floors 2 + 1 = 3 already; nothing moves
    assert round_shares(3, [("a", Fraction(5, 2)), ("b", Fraction(3, 2))]) == {"a": 2, "b": 1}
    # shares below the total by 1: 5 for 2.5 + 1.5 → floors 3, two missing → both remainders 0.5; first the
    # larger share a, then b → 3, 2
    assert round_shares(5, [("a", Fraction(5, 2)), ("b", Fraction(3, 2))]) == {"a": 3, "b": 2}
    # a surplus is taken back from the smallest remainders: 0 for 1.9 + 0.2 → floors 1 + 0 = 1, one too many;
    # the smallest remainder is b's (0.2 against 0.9), so b gives it back → 1, −1
    assert round_shares(0, [("a", Fraction(19, 10)), ("b", Fraction(2, 10))]) == {"a": 1, "b": -1}


weights_st = st.lists(st.integers(0, 10**6), min_size=1, max_size=10).filter(lambda w: sum(w) > 0)


@given(st.integers(-(10**12), 10**12), weights_st)
def test_split_invariants(total, weights):
    parts = split_units(total, list(enumerate(weights)))
    w_sum = sum(weights)
    assert sum(parts.values()) == total  # parts add up exactly
    for k, w in enumerate(weights):
        exact = Fraction(total * w, w_sum)
        assert abs(parts[k] - exact) < 1  # within a cent of the exact share
        if w == 0:
            assert parts[k] == 0
    assert split_units(-total, list(enumerate(weights))) == {k: -v for k, v in parts.items()}  # sign symmetry


@given(st.integers(0, 10**9), weights_st)
def test_split_ties_follow_the_rule(total, weights):
    """Among the parts rounded down, none has a larger remainder than a part rounded up, nor the same
    remainder with a larger share, nor the same remainder and share and an earlier key."""
    parts = split_units(total, list(enumerate(weights)))
    w_sum = sum(weights)
    shares = [Fraction(total * w, w_sum) for w in weights]

    def rank(i: int) -> tuple:
        s = shares[i]
        return (s - (s.numerator // s.denominator), s, -i)

    up = [i for i in range(len(weights)) if parts[i] > shares[i]]
    down = [i for i in range(len(weights)) if parts[i] < shares[i]]
    if up and down:
        assert min(rank(i) for i in up) > max(rank(i) for i in down)


@given(st.integers(-(10**9), 10**9), st.permutations([3, 1, 4, 1, 5, 9, 2, 6]))
def test_split_order_invariance_of_distinct_shares(total, weights):
    """With no ties the key order does not matter: each key's part depends only on its weight."""
    distinct = list(dict.fromkeys(weights))  # 3, 1, 4, 5, 9, 2, 6 in some order: distinct weights
    forward = split_units(total, [(w, w) for w in distinct])
    backward = split_units(total, [(w, w) for w in reversed(distinct)])
    # two different weights can still tie on remainder; then the larger share wins in both orders
    assert forward == backward


# ------------------------------------------------------------------------------------------ timesheet pay
def test_timesheet_pay_hand_worked():
    # 7.9 h × 20.00 = 158.00; 1.3 h × 20.00 × 1.5 = 39.00; 197.00 (not 8.0 h and 1.25 h: no quarter-hours)
    assert timesheet_pay(7.9, 1.3, D("20.00"), 1.5) == D("197.00")
    # 7.95 h × 18.4567 = 146.730765 → 146.73; 0.1 h × 18.4567 × 1.25 = 2.3070875; 149.0378525 → 149.04
    assert timesheet_pay(7.95, 0.1, D("18.4567"), 1.25) == D("149.04")
    # a half cent rounds to even, once per row: 0.5 h × 0.0100 = 0.005 → 0.00; 1.5 h × 0.0100 = 0.015 → 0.02
    assert timesheet_pay(0.5, 0, D("0.0100"), 1.5) == D("0.00")
    assert timesheet_pay(1.5, 0, D("0.0100"), 1.5) == D("0.02")
    assert timesheet_pay(None, 2, D("10"), None) == D("20.00")


@given(st.integers(0, 96), st.integers(0, 48), st.integers(1, 2_000_000), st.integers(4, 12))
def test_demo_integer_pay_agrees(regular_qh, overtime_qh, rate_1e4, multiplier_x4):
    """The demo books quarter-hours as integers; its pay must be the same rule on the same hours."""
    cents = timesheet_cost(regular_qh, overtime_qh, rate_1e4, multiplier_x4)
    want = timesheet_pay(
        Fraction(regular_qh, 4), Fraction(overtime_qh, 4), Fraction(rate_1e4, 10_000), Fraction(multiplier_x4, 4)
    )
    assert D(cents).scaleb(-2) == want


def test_core_money_imports_nothing_from_the_rest_of_opsfin():
    tree = ast.parse(Path(opsfin.core.money.__file__).read_text(encoding="utf-8"))
    relative = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0]
    absolute = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    absolute += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]
    assert relative == [] and not [m for m in absolute if m and m.startswith("opsfin")]


def test_ibis_rounds_to_cents_by_default():
    # 0.125 is a half cent: to the even cent 0.12; 0.135 → 0.14 (were it 3 places, both would stay)
    t = ibis.memtable({"x": [D("0.125"), D("0.135")]}).mutate(x=ibis._.x.cast("decimal(18,4)"))
    rows = ibis.duckdb.connect().execute(t.mutate(y=half_even_ibis(t.x).cast("decimal(18,3)")))
    assert [D(str(y)) for y in rows["y"]] == [D("0.12"), D("0.14")]
