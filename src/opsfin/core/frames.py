"""Typing of the Polars frames the engines build (docs/testing.md, "Static types")."""

from __future__ import annotations

from typing import TypeAlias

import polars as pl
from polars.datatypes import DataTypeClass

# A frame's columns and their types, as `pl.DataFrame(schema=...)` takes them: a type class (`pl.Utf8`) or
# an instance (`pl.Decimal(18, 2)`). Annotate a schema literal with it: a dict mixing both is otherwise
# inferred as `dict[str, object]`, which Polars' stubs refuse.
ColumnTypes: TypeAlias = dict[str, pl.DataType | DataTypeClass]
