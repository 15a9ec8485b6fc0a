"""The raw rows every tabular reader returns (`SourceData` of `SourceRow`s), and how a raw record
is kept for quarantine. See `sources` for the contract of the readers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import UserError


@dataclass
class SourceRow:
    """One record of a source: its row number, its raw values (aligned with the source columns)."""

    number: int
    values: Sequence[Any]
    problem: str | None = None  # set when the record could not be split into the source's columns
    raw: dict[str, Any] | None = None  # the record as stored in quarantine, when not columns x values


@dataclass
class SourceData:
    kind: str  # csv, tsv, parquet, xlsx, jsonl, sql
    source: str  # what `loads.source` records: a path, or URL :: query
    columns: list[str]
    rows: list[SourceRow] = field(default_factory=list)
    sha256: str = ""
    sheet: str | None = None


def raw_record(columns: Sequence[str], row: SourceRow) -> dict[str, Any]:
    """The record as a person would recognise it: source column -> raw value."""
    if row.raw is not None:
        return row.raw
    record = dict(zip(columns, row.values, strict=False))
    if len(row.values) > len(columns):
        record["_extra_fields"] = list(row.values[len(columns) :])
    return record


def json_default(value: Any) -> Any:
    """JSON for raw values: decimals as exact text, dates in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def check_header(path: Path, header: list[str]) -> None:
    """A column named twice is an error for the whole source."""
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise UserError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
