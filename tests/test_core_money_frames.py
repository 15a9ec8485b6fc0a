"""core/money_frames: the cent splitter over many pools on one Polars frame gives, pool by pool, the cents of
core/money's rule. Expected values are worked by hand in the comments; the property test compares with
`round_shares` over the exact shares (the rule as written), not with the code under test."""

from __future__ import annotations

from fractions import Fraction

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from opsfin.core.money import round_shares, to_fraction
from opsfin.core.money_frames import split_pools

SCHEMA = {"pool": pl.Int64, "key": pl.Utf8, "w": pl.Float64, "total": pl.Int64}


def split(rows: list[tuple[int, str, float | None, int]]) -> dict[tuple[int, str], int]:
    got = split_pools(pl.DataFrame(rows, schema=SCHEMA, orient="row"), "pool", "w", "total")
    return {(p, k): c for p, k, c in got.select("pool", "key", "cents").iter_rows()}


def test_hand_worked_pools():
    rows = [
        # pool 0: 100 cents over 1:1:1 → 33⅓ each; the 1 cent missing goes to the first key (tie) → 34, 33, 33
        (0, "a", 1.0, 100),
        (0, "b", 1.0, 100),
        (0, "c", 1.0, 100),
        # pool 1: −10 cents over 0.1 : 0.2 (read as decimals, 1:2) → −3⅓, −6⅔ → floors 3, 6; the missing cent
        # goes to the larger remainder (⅔, key e) → −3, −7; d's weight 0 and f's None take no part
        (1, "d", 0.1, -10),
        (1, "e", 0.2, -10),
        (1, "x", 0.0, -10),
        (1, "f", None, -10),
        # pool 2: nothing positive to carry it: no rows
        (2, "g", 0.0, 500),
        # pool 3: 5 cents over 2.5 : 2.5 : 5 → 1.25, 1.25, 2.5 → floors 1, 1, 2; 1 cent missing; remainders
        # .25, .25, .5 → key j (largest remainder) → 1, 1, 3
        (3, "h", 2.5, 5),
        (3, "i", 2.5, 5),
        (3, "j", 5.0, 5),
    ]
    assert split(rows) == {
        (0, "a"): 34,
        (0, "b"): 33,
        (0, "c"): 33,
        (1, "d"): -3,
        (1, "e"): -7,
        (3, "h"): 1,
        (3, "i"): 1,
        (3, "j"): 3,
    }


def test_tie_on_remainder_goes_to_larger_share_then_first_key():
    # 7 cents over 1 : 2 : 1 → 1.75, 3.5, 1.75 → floors 1, 3, 1 (5); 2 missing; remainders .75, .5, .75:
    # the two .75 win (equal shares: the first key, then the next) → 2, 3, 2
    rows = [(0, "k1", 1.0, 7), (0, "k2", 2.0, 7), (0, "k3", 1.0, 7)]
    assert split(rows) == {(0, "k1"): 2, (0, "k2"): 3, (0, "k3"): 2}
    # 1 cent over 1 : 1 (remainders tie, shares tie) → the first key
    assert split([(5, "z", 1.0, 1), (5, "y", 1.0, 1)]) == {(5, "z"): 1, (5, "y"): 0}


def test_too_large_for_int64_falls_back_to_the_exact_rule():
    # 10^15 cents × a weight of 1/3 (its repr has 16 digits) overflows 64 bits: the pool is split one by one,
    # with the same rule: 10^15 over (1/3 : 2/3 read as decimals) and 1 : 1 → halves
    third = 1 / 3
    rows = [(0, "a", third, 10**15), (0, "b", 1 - third, 10**15), (1, "c", 1.0, 3), (1, "d", 1.0, 3)]
    got = split(rows)
    assert got[(0, "a")] + got[(0, "b")] == 10**15
    assert got[(1, "c")] == 2 and got[(1, "d")] == 1


weights = st.one_of(
    st.none(),
    st.sampled_from([0.0, -1.0, 0.1, 0.2, 0.3, 7.9, 1.0, 2.0]),
    st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda w: round(w, 2)),
    # up to 9 decimals are read on the frame, more (0.1 + 0.2, an arbitrary float) one value at a time
    st.tuples(st.floats(min_value=0, max_value=1000, allow_nan=False), st.integers(0, 12)).map(
        lambda wp: round(wp[0], wp[1])
    ),
    st.sampled_from([0.1 + 0.2, 1 / 3, 5.1000000000000005, 1e-9, 123.456789012]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-(10**9), 10**9),
            st.lists(weights, min_size=1, max_size=8),
        ),
        max_size=6,
    )
)
def test_same_cents_as_the_rule_pool_by_pool(pools):
    rows = [(p, f"k{i}", w, total) for p, (total, ws) in enumerate(pools) for i, w in enumerate(ws)]
    expect = {}
    for p, (total, ws) in enumerate(pools):
        positive = [(f"k{i}", to_fraction(w)) for i, w in enumerate(ws) if w is not None and w > 0]
        w_sum = sum((w for _, w in positive), Fraction(0))
        if positive:
            parts = round_shares(total, [(k, total * w / w_sum) for k, w in positive])
            expect.update({(p, k): c for k, c in parts.items()})
    assert split(rows) == expect
