"""Reading tabular sources into raw rows: CSV/TSV, Parquet, Excel .xlsx, JSON Lines and SQL queries.

Every reader returns a `SourceData`: the source's column names and its rows, each row with the
values exactly as the source gave them (text for CSV/TSV, the stored value for the others) and
the row number a person finds it at:
- CSV/TSV/JSON Lines: the line number in the file (a CSV header is line 1);
- Excel: the row number in the sheet (the header is row 1);
- Parquet and SQL: the 1-based position of the row in the result.

Blank lines and empty spreadsheet rows are skipped (not counted as read). A row the reader cannot
split into fields (wrong number of CSV fields, a line that is not a JSON object) is still returned,
with `problem` set, so that ingest can quarantine it. Nothing here converts types.

`sha256` identifies the content for idempotent loads: the file's bytes (Excel: plus the sheet
name), or for SQL the query, the URL (without password) and every fetched row.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import UserError

TABULAR_EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl",
}
_DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 20


@dataclass
class SourceRow:
    """One record of a source: its row number, its raw values (aligned with the source columns)."""

    number: int
    values: Sequence[Any]
    problem: str | None = None   # set when the record could not be split into the source's columns
    raw: dict[str, Any] | None = None  # the record as stored in quarantine, when not columns x values


@dataclass
class SourceData:
    kind: str                    # csv, tsv, parquet, xlsx, jsonl, sql
    source: str                  # what `loads.source` records: a path, or URL :: query
    columns: list[str]
    rows: list[SourceRow] = field(default_factory=list)
    sha256: str = ""
    sheet: str | None = None


def tabular_kind(path: Path) -> str | None:
    """The tabular kind a file's extension announces, or None."""
    return TABULAR_EXTENSIONS.get(path.suffix.lower())


def raw_record(columns: Sequence[str], row: SourceRow) -> dict[str, Any]:
    """The record as a person would recognise it: source column -> raw value."""
    if row.raw is not None:
        return row.raw
    record = dict(zip(columns, row.values, strict=False))
    if len(row.values) > len(columns):
        record["_extra_fields"] = list(row.values[len(columns):])
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


# ------------------------------------------------------------------ hashing
def file_sha256(path: Path, extra: bytes = b"") -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    if extra:
        digest.update(b"\0" + extra)
    return digest.hexdigest()


def excel_sheet(path: Path, sheet: str | None) -> str:
    """The name of the sheet to read: `sheet` if the workbook has it, else the first sheet."""
    wb = _open_workbook(path)
    try:
        names = list(wb.sheetnames)
    finally:
        wb.close()
    if not names:
        raise UserError(f"{path}: the workbook has no sheets")
    if sheet is None:
        return names[0]
    if sheet not in names:
        raise UserError(f"{path}: no sheet {sheet!r}; its sheets are: {', '.join(names)}")
    return sheet


def source_sha256(path: Path, kind: str, sheet: str | None = None) -> str:
    """The content hash of a file source (an Excel sheet is hashed with its sheet name)."""
    return file_sha256(path, f"sheet:{sheet}".encode() if kind == "xlsx" else b"")


# ------------------------------------------------------------------ files
def read_file(path: Path, kind: str, *, sheet: str | None = None, delimiter: str | None = None,
              encoding: str = "utf-8-sig") -> SourceData:
    """Read a tabular file of the given kind (see `TABULAR_EXTENSIONS`)."""
    if kind in ("csv", "tsv"):
        data = read_csv(path, delimiter or ("\t" if kind == "tsv" else None), encoding)
        data.kind = kind
    elif kind == "parquet":
        data = read_parquet(path)
    elif kind == "xlsx":
        data = read_xlsx(path, sheet)
    elif kind == "jsonl":
        data = read_jsonl(path, encoding)
    else:  # pragma: no cover - callers pass a known kind
        raise UserError(f"{path}: unknown source kind {kind!r}")
    data.sha256 = source_sha256(path, kind, data.sheet)
    return data


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: Path, delimiter: str | None = None, encoding: str = "utf-8-sig") -> SourceData:
    """CSV (delimiter detected from the header line unless given) or TSV. Values stay text."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    data = SourceData("csv", str(path), [])
    try:
        with path.open(encoding=encoding, newline="") as fh:
            if delimiter is None:
                delimiter = _sniff_delimiter(fh.readline())
                fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter)
            header: list[str] | None = None
            start = 1
            for record in reader:
                line, start = start, reader.line_num + 1
                if not record or (len(record) == 1 and record[0].strip() == ""):
                    continue
                if header is None:
                    header = [h.strip() for h in record]
                    _check_header(path, header)
                    data.columns = header
                    continue
                problem = None
                if len(record) != len(header):
                    problem = f"row has {len(record)} fields but the header has {len(header)}"
                data.rows.append(SourceRow(line, record, problem))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); "
                        "set `encoding:` in a mapping (e.g. latin-1)") from None
    except csv.Error as exc:
        raise UserError(f"{path}: not readable as CSV: {exc}") from None
    if header is None:
        raise UserError(f"{path}: the file is empty (no header line)")
    return data


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise UserError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)


def _open_workbook(path: Path):
    import zipfile

    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable Excel .xlsx workbook ({exc})") from None


def read_xlsx(path: Path, sheet: str | None = None) -> SourceData:
    """One sheet of an .xlsx workbook (default: the first). Row 1 holds the column titles.
    Formulas give their last computed value."""
    name = excel_sheet(path, sheet)
    wb = _open_workbook(path)
    try:
        ws = wb[name]
        data = SourceData("xlsx", f"{path}#{name}", [], sheet=name)
        header: list[str] | None = None
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if header is None:
                cells = list(values)
                while cells and cells[-1] is None:
                    cells.pop()
                header = ["" if v is None else str(v).strip() for v in cells]
                _check_header(path, header)
                data.columns = header
                continue
            row = list(values)
            problem = None
            if len(row) > len(header):
                if any(v is not None for v in row[len(header):]):
                    problem = "row has values to the right of the last titled column"
                else:
                    row = row[: len(header)]
            row += [None] * (len(header) - len(row))
            data.rows.append(SourceRow(number, row, problem))
    finally:
        wb.close()
    if header is None:
        raise UserError(f"{path}: sheet {name!r} is empty (no title row)")
    return data


def read_parquet(path: Path) -> SourceData:
    """A Parquet file, read in batches; values keep their stored types (decimals stay Decimal)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UserError(f"{path}: not a readable Parquet file ({exc})") from None
    data = SourceData("parquet", str(path), list(pf.schema_arrow.names))
    number = 0
    for batch in pf.iter_batches(batch_size=65536):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for values in zip(*columns, strict=True):
            number += 1
            data.rows.append(SourceRow(number, values))
    return data


def read_jsonl(path: Path, encoding: str = "utf-8-sig") -> SourceData:
    """JSON Lines: one object per line. Numbers with a fraction are read as exact decimals.
    The columns are the keys, in order of first appearance."""
    parsed: list[tuple[int, dict[str, Any] | None, str | None, str]] = []
    columns: dict[str, None] = {}
    try:
        with path.open(encoding=encoding) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    parsed.append((number, None, f"line is not valid JSON: {exc.msg} (column {exc.colno})", line))
                    continue
                if not isinstance(obj, dict):
                    parsed.append((number, None, "line is not a JSON object ({...})", line))
                    continue
                columns.update(dict.fromkeys(obj))
                parsed.append((number, obj, None, line))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not {encoding} text ({exc.reason} at byte {exc.start})") from None
    data = SourceData("jsonl", str(path), list(columns))
    for number, obj, problem, line in parsed:
        if obj is None:
            data.rows.append(SourceRow(number, [], problem, raw={"_line": line.rstrip("\n")}))
        else:
            data.rows.append(SourceRow(number, [obj.get(c) for c in data.columns], raw=obj))
    return data


# ------------------------------------------------------------------ SQL
def redact_url(source_url: str) -> str:
    """The URL as recorded: without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(source_url).render_as_string(hide_password=True)
    except ArgumentError:
        raise UserError(f"--source-url {source_url.split('@')[-1]!r} is not a database URL "
                        "(e.g. sqlite:///erp.db, postgresql+psycopg://user@host/db)") from None


def read_sql(sql: str, source_url: str) -> SourceData:
    """Run a query through SQLAlchemy and fetch its rows (values as the database driver gives them)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

    shown = redact_url(source_url)
    if not sql.strip():
        raise UserError("--sql is empty")
    try:
        engine = create_engine(source_url)
    except (NoSuchModuleError, ImportError) as exc:
        raise UserError(f"{shown}: no database driver for this URL ({exc})") from None
    digest = hashlib.sha256()
    digest.update(b"sql\0" + sql.encode() + b"\0url\0" + shown.encode() + b"\0")
    data = SourceData("sql", f"{shown} :: {' '.join(sql.split())}"[:1000], [])
    try:
        with engine.connect() as conn:
            result = conn.exec_driver_sql(sql)
            if not result.returns_rows:
                raise UserError(f"{shown}: the query returns no rows (is it a SELECT?)")
            data.columns = [str(k) for k in result.keys()]
            _check_header(Path(shown), data.columns)
            for number, row in enumerate(result, start=1):
                values = tuple(row)
                digest.update(json.dumps(values, default=json_default).encode() + b"\n")
                data.rows.append(SourceRow(number, values))
    except SQLAlchemyError as exc:
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise UserError(f"{shown}: query failed: {detail}") from None
    finally:
        engine.dispose()
    data.sha256 = digest.hexdigest()
    return data
