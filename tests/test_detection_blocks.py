"""Several scans through the detector at once (detect.detect_blocks): blocks of one baseline share one pass over
the periods, each with its own settings and length, and each gets the numbers it gets alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from opsfin.alerts.detect import Block, detect_blocks, detect_matrix
from opsfin.alerts.scan import Settings

S = Settings(grain="month", baseline=6, min_history=4, relearn=12, threshold=5.0)


def step(n: int, at: int, low: float = 100.0, high: float = 150.0) -> np.ndarray:
    """A flat series (±1 around `low`, so its spread is not zero) that steps up to `high` from period `at`."""
    x = low + np.tile([1.0, -1.0], n)[:n]
    x[at:] = high
    return x


def alone(b: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return detect_matrix(b.x, b.w, b.s, b.unit)


def test_each_block_keeps_its_own_settings():
    """Two identical series stepping up 50 % from month 8. Alone, with threshold 5, the step is flagged from
    month 8 (the sd is 2 % of 100, so each month adds cap − slack = 3 to the CUSUM: 3, then 6 > 5 in month 9,
    the alert dated from its start); with threshold 1000 it never is. As one matrix, each keeps its own."""
    x = step(14, 8)[None, :]
    (low, _, _), (high, _, _) = detect_blocks([Block(x, None, S), Block(x, None, replace(S, threshold=1000.0))])
    assert np.nonzero(low[0])[0].tolist() == list(range(8, 14)) and set(low[0, 8:]) == {1}
    assert not high.any()


def test_blocks_of_other_lengths_weights_and_units_get_their_numbers_alone():
    """A 14-month block without weights or unit but min_abs 5 (the step of 50 passes it), and an 18-month
    block of two members with weights and a unit: the second member falls 10 %, under its min_change of 20 %,
    and is never flagged; the first steps up from month 12."""
    a = Block(step(14, 8)[None, :], None, replace(S, min_abs=5.0))
    b_x = np.vstack([step(18, 12), step(18, 10, high=90.0)])
    b = Block(b_x, np.full(b_x.shape, 20.0), replace(S, min_change=0.2), np.ones(b_x.shape))
    got = detect_blocks([a, b])
    assert np.nonzero(got[0][0][0])[0].tolist() == list(range(8, 14))
    assert np.nonzero(got[1][0][0])[0].tolist() == list(range(12, 18)) and not got[1][0][1].any()
    for block, found in zip([a, b], got, strict=True):
        assert found[0].shape == block.x.shape
        for mine, theirs in zip(found, alone(block), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    assert got[0][1][0, 8] == pytest.approx(100.0, abs=1.0)  # the baseline at the step: the old level


def test_blocks_of_another_baseline_run_apart_in_the_order_given():
    blocks = [
        Block(step(14, 8)[None, :], None, S),
        Block(step(20, 12)[None, :], None, replace(S, baseline=10, min_history=6)),
        Block(step(14, 6)[None, :], None, S),
    ]
    for block, found in zip(blocks, detect_blocks(blocks), strict=True):
        for mine, theirs in zip(found, alone(block), strict=True):
            np.testing.assert_array_equal(mine, theirs)
