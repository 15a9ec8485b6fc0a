"""Reading a file of series for `opsfin forecast series` (docs/forecasting.md "Forecasting a file").

A CSV, TSV, Parquet, Excel or JSON Lines file with the columns `unique_id, ds, y` is read by the ingest
readers (`sources`) and every value is parsed by the one value parser (opsfin.values); nothing is
written to the warehouse. A row that cannot be used is skipped and counted, with its place
(`file:row:column`) and why; a series with a gap at the frequency is skipped as a whole. An unreadable
file, a missing column or a file with no usable row is a UserError."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..canonical import Column
from ..errors import UserError
from ..values.parser import Invalid, value_checker
from .sources import TABULAR_EXTENSIONS, read_file, tabular_kind

SERIES_COLUMNS = ("unique_id", "ds", "y")
_CHECKERS = {
    "unique_id": value_checker(Column("unique_id", "VARCHAR")),
    "ds": value_checker(Column("ds", "DATE")),
    "y": value_checker(Column("y", "DOUBLE")),
}
FREQ_WORDS = {"MS": "the first day of a month", "QS": "the first day of a quarter", "W": "a Sunday", "D": "a day"}


@dataclass(frozen=True)
class Skipped:
    """A row (or a whole series, `row` None) left out, where and why."""

    row: int | None
    column: str | None
    reason: str


@dataclass
class SeriesFile:
    """The usable series of a file (unique_id, ds, y), how many rows were read, and what was skipped."""

    path: Path
    series: pd.DataFrame
    rows_read: int
    skipped: list[Skipped] = field(default_factory=list)
    rows_in_skipped_series: int = 0

    @property
    def rows_skipped(self) -> int:
        """Rows left out: skipped one by one, or with their series."""
        return sum(1 for s in self.skipped if s.row is not None) + self.rows_in_skipped_series

    def warnings(self, most: int = 5) -> list[str]:
        """One line per skip, the first `most` of them, then how many more."""
        lines = [
            f"{self.path.name}:{s.row}:{s.column}: {s.reason}" if s.row is not None else f"{self.path.name}: {s.reason}"
            for s in self.skipped[:most]
        ]
        if len(self.skipped) > most:
            lines.append(f"… and {len(self.skipped) - most} more")
        return lines


def _open(path: Path) -> Any:
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if not path.is_file():
        raise UserError(f"{path}: not a file")
    kind = tabular_kind(path)
    if kind is None:
        known = ", ".join(sorted(TABULAR_EXTENSIONS))
        raise UserError(f"{path}: unknown file type {path.suffix or '(none)'!r}; use one of {known}")
    data = read_file(path, kind)
    missing = [c for c in SERIES_COLUMNS if c not in data.columns]
    if missing:
        raise UserError(
            f"{path}: no column {', '.join(missing)}; a series file has the columns unique_id, ds, y "
            f"(found: {', '.join(data.columns) or 'none'})"
        )
    return data


def _parse_rows(data: Any, freq: str) -> tuple[list[tuple[str, dt.date, float, int]], list[Skipped]]:
    """The rows whose three values parse and whose date falls on the frequency; the others skipped."""
    where = {c: data.columns.index(c) for c in SERIES_COLUMNS}
    offset = pd.tseries.frequencies.to_offset("W-SUN" if freq == "W" else freq)
    good, skipped = [], []
    for row in data.rows:
        if row.problem:
            skipped.append(Skipped(row.number, None, row.problem))
            continue
        values: dict[str, Any] = {}
        for name, i in where.items():
            try:
                values[name] = _CHECKERS[name](row.values[i] if i < len(row.values) else None)
            except Invalid as exc:
                skipped.append(Skipped(row.number, name, str(exc).removeprefix(f"column '{name}': ")))
                break
        else:
            if not offset.is_on_offset(pd.Timestamp(values["ds"])):
                skipped.append(Skipped(row.number, "ds", f"{values['ds']} is not {FREQ_WORDS[freq]} (--freq {freq})"))
                continue
            good.append((values["unique_id"], values["ds"], values["y"], row.number))
    return good, skipped


def _without_duplicates(rows: list[tuple[str, dt.date, float, int]]) -> tuple[list[tuple], list[Skipped]]:
    seen: dict[tuple[str, dt.date], int] = {}
    kept, skipped = [], []
    for uid, ds, y, number in rows:
        first = seen.setdefault((uid, ds), number)
        if first != number:
            skipped.append(Skipped(number, "ds", f"duplicate of row {first} (series {uid!r}, {ds})"))
        else:
            kept.append((uid, ds, y, number))
    return kept, skipped


def _without_gaps(frame: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, list[Skipped], int]:
    """Series with a row for every period between their first and last date; the others left out."""
    skipped, dropped, keep = [], 0, []
    for uid, part in frame.groupby("unique_id", sort=True):
        expected = pd.date_range(part["ds"].min(), part["ds"].max(), freq="W-SUN" if freq == "W" else freq)
        if len(expected) != len(part):
            missing = expected.difference(pd.DatetimeIndex(part["ds"]))[0]
            skipped.append(Skipped(None, None, f"series {uid!r} skipped: no row for {missing:%Y-%m-%d} (a gap)"))
            dropped += len(part)
        else:
            keep.append(uid)
    return frame[frame["unique_id"].isin(keep)], skipped, dropped


def read_series_file(path: str | Path, freq: str = "MS") -> SeriesFile:
    """The series of a file of `unique_id, ds, y` rows at frequency `freq` (MS, QS, W, D)."""
    path = Path(path)
    data = _open(path)
    rows, skipped = _parse_rows(data, freq)
    rows, duplicates = _without_duplicates(rows)
    frame = pd.DataFrame([r[:3] for r in rows], columns=list(SERIES_COLUMNS))
    frame = frame.astype({"unique_id": str, "ds": "datetime64[ns]", "y": float})
    frame, gaps, dropped = _without_gaps(frame, freq) if len(frame) else (frame, [], 0)
    skipped = sorted(skipped + duplicates, key=lambda s: s.row or 0) + gaps
    if frame.empty:
        reason = f"; first: {SeriesFile(path, frame, 0, skipped).warnings(1)[0]}" if skipped else ""
        raise UserError(f"{path}: no usable row ({len(data.rows)} read, {len(data.rows)} skipped{reason})")
    frame = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    return SeriesFile(path, frame, len(data.rows), skipped, dropped)
