"""Conversion of the demo's integer amounts to Arrow decimals.

Amounts are held as int64 in units of 10^-scale (cents for money, 1e-4 for prices,
1e-8 for FX rates). Every rounding is half-even (core/money) and happens once, where stated."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..core.money import half_even_div

half_even_int = half_even_div  # the demo's name for core/money's integer division rounded half-even


def decimal_array(units: np.ndarray | list[int], scale: int, precision: int = 18) -> pa.Array:
    """int64 units of 10^-scale -> Arrow decimal128(precision, scale), exactly, without Python objects."""
    v = np.ascontiguousarray(np.asarray(units, dtype=np.int64))
    words = np.empty((len(v), 2), dtype=np.int64)
    words[:, 0] = v
    words[:, 1] = v >> 63  # sign extension to 128 bits (little endian)
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(v), [None, pa.py_buffer(words.tobytes())])
