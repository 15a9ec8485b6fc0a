"""The cent splitter of core/money.py over many pools at once, on a Polars frame (docs/accounting-rules.md).

`split_pools` gives every (pool, key) the cents `money.split_units` would give it, pool by pool — the same
rule: each part starts at its exact share rounded toward zero, the cents still missing go one each to the
largest remainders, ties to the larger share and then to the key that comes first (row order), a negative
total splits like its absolute value, negated. Only keys with a positive weight take part, as in
`costing.order_costs.allocate`: a key with a weight ≤ 0 (or null) gets no row, a pool without a positive
weight gets none at all.

It is exact, not approximate: weights are read as `money` reads them (floats through their shortest decimal
form), brought to one common denominator as whole numbers, and each share's floor and remainder are integer
divisions. When a product of a total and a weight would not fit 64-bit integers, the pools are split one by one
by `money.split_units` instead (same result, slower)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from .money import exact_ratio, split_units

LIMIT = 2**62  # |total| × weight and Σ weights must stay below it (Int64 with room to spare)
PLACES = 9  # float weights with up to this many decimals are read on the frame


def _whole_weights(weights: pl.Series) -> tuple[pl.Series, bool]:
    """The weights as whole numbers over one common denominator (Int64), and whether that fitted. A float is
    read as `money` reads it (its shortest decimal form): on the frame when every weight has one with at most
    `PLACES` decimals (`_decimal_weights`), else once per distinct value in Python."""
    if weights.dtype.is_integer():
        return weights.cast(pl.Int64), True
    fast = _decimal_weights(weights)
    if fast is not None:
        return fast
    ratios = {w: exact_ratio(w) for w in weights.unique().to_list() if w is not None}
    common = math.lcm(*(d for _, d in ratios.values())) if ratios else 1
    whole = {w: n * (common // d) for w, (n, d) in ratios.items()}
    if any(abs(v) >= LIMIT for v in whole.values()):
        return weights, False
    keys = list(whole)
    if not keys:
        return weights.cast(pl.Int64), True
    return weights.replace_strict(keys, [whole[k] for k in keys], return_dtype=pl.Int64), True


def _decimal_weights(weights: pl.Series) -> tuple[pl.Series, bool] | None:
    """Float weights as whole numbers over 10^k, k the most decimals any of them needs: a float's shortest
    decimal form has the fewest decimals k whose nearest n / 10^k reads back as the same float, and n / 10^k
    is then its exact value (`money.exact_ratio`'s). None when a weight needs more than `PLACES` decimals (or is
    not finite): the caller reads them one by one."""
    w = weights.cast(pl.Float64).to_numpy()
    places = np.full(len(w), -1, dtype=np.int64)
    numerator = np.zeros(len(w))
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(PLACES + 1):
            n = np.rint(w * float(10**k))
            reads_back = (places < 0) & (np.abs(n) < 2**53) & (n / float(10**k) == w)
            places[reads_back], numerator[reads_back] = k, n[reads_back]
    if not len(w) or (places < 0).any():
        return None
    top = int(places.max())
    if float(np.abs(numerator * 10.0 ** (top - places)).max()) >= LIMIT / 4:
        return weights, False
    whole = numerator.astype(np.int64) * (10 ** (top - places)).astype(np.int64)
    return pl.Series(weights.name, whole, dtype=pl.Int64), True


def split_pools(shares: pl.DataFrame, pool: str, weight: str, total: str) -> pl.DataFrame:
    """`shares`: one row per (pool, key), in tie order within each pool, with the key's `weight` (integer or
    float) and the pool's `total` in whole units (cents, Int64) on each of its rows. Returns the rows of
    positive weight with a `cents` column (Int64): the pool's total split by the weights, to the unit."""
    frame = shares.with_row_index("_i")
    positive = pl.col(weight) > 0
    frame = frame.filter(positive & ~pl.col(weight).is_nan() if frame[weight].dtype.is_float() else positive)
    whole, fits = _whole_weights(frame[weight])
    if fits:
        frame = frame.with_columns(_w=whole)
    if frame.is_empty():
        return frame.drop("_i", "_w", strict=False).with_columns(cents=pl.lit(0, pl.Int64)).clear()
    if fits:  # bounds in Python integers, before any Int64 sum or product could wrap
        totals, top_w = frame[total], int(frame["_w"].max())  # type: ignore[arg-type]
        top_a = max(abs(int(totals.max())), abs(int(totals.min())))  # type: ignore[arg-type]
        fits = top_w * frame.height < LIMIT and top_a * top_w < LIMIT
    if fits:
        sums = frame.group_by(pool).agg(_s=pl.col("_w").sum(), _a=pl.col(total).first().abs())
    if not fits:
        return _split_one_by_one(frame.drop("_w", strict=False), pool, weight, total)
    frame = frame.join(sums, on=pool, how="left").with_columns(_m=pl.col("_a") * pl.col("_w"))
    frame = frame.with_columns(_f=pl.col("_m") // pl.col("_s"), _r=pl.col("_m") % pl.col("_s"))
    frame = frame.sort([pool, "_r", "_m", "_i"], descending=[False, True, True, False], maintain_order=True)
    frame = frame.with_columns(
        _rank=pl.int_range(pl.len()).over(pool),
        _missing=pl.col("_a") - pl.col("_f").sum().over(pool),
    )
    part = pl.col("_f") + (pl.col("_rank") < pl.col("_missing")).cast(pl.Int64)
    cents = pl.when(pl.col(total) < 0).then(-part).otherwise(part)
    out = frame.with_columns(cents=cents).sort("_i")
    return out.drop("_i", "_w", "_s", "_a", "_m", "_f", "_r", "_rank", "_missing")


def _split_one_by_one(frame: pl.DataFrame, pool: str, weight: str, total: str) -> pl.DataFrame:
    """`split_pools` by `money.split_units`, pool by pool (for weights or totals too large for Int64)."""
    cents: dict[Any, int] = {}
    for (_,), rows in frame.group_by([pool], maintain_order=True):
        pairs = list(zip(rows["_i"].to_list(), rows[weight].to_list(), strict=True))
        cents.update(split_units(int(rows[total][0]), pairs))
    out = frame.with_columns(
        cents=pl.col("_i").replace_strict(list(cents), list(cents.values()), return_dtype=pl.Int64)
    )
    return out.drop("_i")
