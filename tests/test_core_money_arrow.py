"""Half-even rounding of Arrow decimal columns agrees with the Python rule (docs/accounting-rules.md)."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsfin.core.money import half_even_arrow, round_half_even


def test_halves_go_to_the_even_cent():
    column = pa.array(
        [
            Decimal("0.125"),
            Decimal("0.135"),
            Decimal("-0.125"),
            Decimal("2.675"),
            Decimal("-2.665"),
            None,
        ],
        type=pa.decimal128(18, 3),
    )
    rounded = half_even_arrow(column)
    assert rounded.type == pa.decimal128(18, 2)
    assert rounded.to_pylist() == [
        Decimal("0.12"),
        Decimal("0.14"),
        Decimal("-0.12"),
        Decimal("2.68"),
        Decimal("-2.66"),
        None,
    ]


def test_four_places_and_chunked_columns():
    column = pa.chunked_array([pa.array([Decimal("1.00005"), Decimal("1.00015")], type=pa.decimal128(18, 5))])
    assert half_even_arrow(column, places=4).to_pylist() == [Decimal("1.0000"), Decimal("1.0002")]


def test_floats_are_refused():
    with pytest.raises(TypeError, match="decimal"):
        half_even_arrow(pa.array([0.125]))


@given(
    st.lists(
        st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False),
        min_size=1,
        max_size=30,
    )
)
def test_agrees_with_python_half_even(values):
    column = pa.array(values, type=pa.decimal128(18, 4))
    assert half_even_arrow(column).to_pylist() == [round_half_even(v, 2) for v in values]
