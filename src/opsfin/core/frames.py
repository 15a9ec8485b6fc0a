"""Typing of the Polars frames the engines build (docs/testing.md, "Static types")."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import polars as pl
from polars.datatypes import DataTypeClass

if TYPE_CHECKING:
    import ibis.expr.types as ir

# A frame's columns and their types, as `pl.DataFrame(schema=...)` takes them: a type class (`pl.Utf8`) or
# an instance (`pl.Decimal(18, 2)`). Annotate a schema literal with it: a dict mixing both is otherwise
# inferred as `dict[str, object]`, which Polars' stubs refuse.
ColumnTypes: TypeAlias = dict[str, pl.DataType | DataTypeClass]


def polars_frame(expr: ir.Table) -> pl.DataFrame:
    """The rows of an Ibis table expression as a Polars frame, through Arrow (a DECIMAL stays a Decimal)."""
    got = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(got, pl.DataFrame)  # an Arrow table always gives a frame
    return got
