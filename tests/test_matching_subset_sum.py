"""The bounded subset-sum behind batch and partial payments (`opsfin.matching.subset_sum`), on cases worked
out by hand. Amounts are integer cents; answers are indexes into the amounts given."""

from __future__ import annotations

import time

from opsfin.matching.subset_sum import subset_sums

NEVER = 1e18  # a deadline that never comes


def test_stops_at_two_solutions_by_default_and_at_the_limit_given():
    # four 100.00 items against 200.00: six pairs; the search meets (0, 1), then (0, 2), first
    assert subset_sums(200_00, [100_00] * 4, max_items=4, deadline=NEVER).solutions == [
        (0, 1),
        (0, 2),
    ]
    assert subset_sums(200_00, [100_00] * 4, max_items=4, deadline=NEVER, limit=3).solutions == [
        (0, 1),
        (0, 2),
        (0, 3),
    ]
    assert subset_sums(200_00, [100_00] * 4, max_items=4, deadline=NEVER, limit=10).solutions == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 3),
    ]


def test_the_largest_amounts_are_tried_first():
    # 300.00 = 280 + 20 = 270 + 20 + 10. Largest first, 280 is taken, 270 does not fit in the 20 left and
    # is skipped (a smaller one still may fit), 20 closes it: the first solution is (0, 2).
    assert subset_sums(300_00, [280_00, 270_00, 20_00, 10_00], max_items=4, deadline=NEVER, limit=1).solutions == [
        (0, 2)
    ]
    assert subset_sums(300_00, [280_00, 270_00, 20_00, 10_00], max_items=4, deadline=NEVER).solutions == [
        (0, 2),
        (1, 2, 3),
    ]


def test_zeros_and_amounts_of_the_other_sign_are_never_used():
    # 100.00 = 60 + 40; with the zero it would also be 60 + 40 + 0, and with the -40.00 taken at its size
    # 60 + |-40|, and with both signs 60 + 40 + 5 - 5
    assert subset_sums(
        100_00, [60_00, 40_00, 0, -40_00, -5_00, 5_00], max_items=6, deadline=NEVER, limit=10
    ).solutions == [(0, 1)]
    assert subset_sums(
        -100_00, [-60_00, -40_00, 0, 40_00, 5_00, -5_00], max_items=6, deadline=NEVER, limit=10
    ).solutions == [(0, 1)]


def test_one_amount_alone_is_not_a_batch_and_a_zero_target_has_none():
    assert subset_sums(300_00, [300_00, 200_00, 100_00], max_items=3, deadline=NEVER).solutions == [(1, 2)]
    assert subset_sums(300_00, [300_00, 200_00, 100_00], max_items=3, deadline=NEVER, min_items=1).solutions == [
        (0,),
        (1, 2),
    ]
    assert subset_sums(0, [100_00, -100_00], max_items=2, deadline=NEVER).solutions == []


def test_a_finished_search_has_not_timed_out():
    found = subset_sums(350_00, [100_00, 120_00, 130_00, 75_00], max_items=6, deadline=NEVER)
    assert found.solutions == [(0, 1, 2)] and found.timed_out is False
    # the clock is read once every 1024 steps: a search of a few steps finishes even past its deadline
    small = subset_sums(350_00, [100_00, 120_00, 130_00, 75_00], max_items=6, deadline=0.0)
    assert small.solutions == [(0, 1, 2)] and small.timed_out is False


def test_a_long_search_stops_at_its_deadline():
    # 13 ones would be needed but at most 12 may be used: an exhaustive search, cut off by the deadline
    start = time.monotonic()
    stopped = subset_sums(13, [1] * 40, max_items=12, deadline=start + 0.05)
    assert stopped.timed_out is True and stopped.solutions == []
    assert time.monotonic() - start < 5
