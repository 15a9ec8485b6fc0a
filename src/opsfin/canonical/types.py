"""Building blocks for declaring the canonical model: columns, foreign keys and tables.

A `Table` is a plain, immutable description. The warehouse DDL, ingest validation,
the generated `docs/data-model.md` and the demo generator's Arrow schemas are all
derived from these declarations, so the model is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

MONEY = "DECIMAL(18,2)"
PRICE = "DECIMAL(18,4)"
RATE = "DECIMAL(18,8)"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "TIME": pa.time64("us"),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    MONEY: pa.decimal128(18, 2),
    PRICE: pa.decimal128(18, 4),
    RATE: pa.decimal128(18, 8),
}


@dataclass(frozen=True)
class Column:
    """One column: its DuckDB type, whether it may be null, and the values it may take."""

    name: str
    type: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    description: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.type]

    @property
    def decimal_scale(self) -> int | None:
        if self.type.startswith("DECIMAL"):
            return int(self.type.split(",")[1].rstrip(")"))
        return None


@dataclass(frozen=True)
class ForeignKey:
    """`columns` of this table reference `ref_columns` of `ref_table`. Null values are not checked."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    group: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    lineage: bool = True  # carries `_load_id`

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def all_column_names(self) -> list[str]:
        return self.column_names + (["_load_id"] if self.lineage else [])

    def arrow_schema(self, with_lineage: bool = True) -> pa.Schema:
        fields = [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns]
        if with_lineage and self.lineage:
            fields.append(pa.field("_load_id", pa.string()))
        return pa.schema(fields)

    def ddl(self) -> str:
        """CREATE TABLE statement. Keys are enforced by ingest validation and `opsfin check`,
        not by DuckDB constraints, which would make bulk loads far slower."""
        cols = [f'    "{c.name}" {c.type}{"" if c.nullable else " NOT NULL"}' for c in self.columns]
        if self.lineage:
            cols.append('    "_load_id" VARCHAR')
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (\n' + ",\n".join(cols) + "\n)"


def col(
    name: str,
    type_: str = "VARCHAR",
    *,
    null: bool = False,
    allowed: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    pattern: str | None = None,
    doc: str = "",
) -> Column:
    return Column(name, type_, null, allowed, minimum, maximum, pattern, doc)


def fk(columns: str | tuple[str, ...], ref_table: str, ref_columns: str | tuple[str, ...] | None = None) -> ForeignKey:
    cols = (columns,) if isinstance(columns, str) else tuple(columns)
    if ref_columns is None:
        ref_columns = cols
    refs = (ref_columns,) if isinstance(ref_columns, str) else tuple(ref_columns)
    return ForeignKey(cols, ref_table, refs)
