"""Exact money arithmetic on integer arrays, and conversion to Arrow decimals.

Amounts are held as int64 in units of 10^-scale (cents for money, 1e-4 for prices,
1e-8 for FX rates). Every rounding is half-even and happens once, where stated."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pyarrow as pa


def div_half_even(numerator: np.ndarray | int, denominator: int) -> np.ndarray:
    """Integer division rounded half to even, elementwise (denominator > 0)."""
    n = np.asarray(numerator, dtype=np.int64)
    q, r = np.divmod(n, denominator)          # floor division: 0 <= r < denominator
    twice = 2 * r
    up = (twice > denominator) | ((twice == denominator) & (q % 2 == 1))
    return q + up.astype(np.int64)


def half_even_int(numerator: int, denominator: int) -> int:
    q, r = divmod(numerator, denominator)
    if 2 * r > denominator or (2 * r == denominator and q % 2 == 1):
        q += 1
    return q


def decimal_array(units: np.ndarray | list[int], scale: int, precision: int = 18) -> pa.Array:
    """int64 units of 10^-scale -> Arrow decimal128(precision, scale), exactly, without Python objects."""
    v = np.ascontiguousarray(np.asarray(units, dtype=np.int64))
    words = np.empty((len(v), 2), dtype=np.int64)
    words[:, 0] = v
    words[:, 1] = v >> 63                     # sign extension to 128 bits (little endian)
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(v), [None, pa.py_buffer(words.tobytes())])


def to_decimal(units: int, scale: int) -> Decimal:
    return Decimal(int(units)).scaleb(-scale)


def from_decimal(value: Decimal | str | float, scale: int) -> int:
    q = Decimal(str(value)).scaleb(scale).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(q)
