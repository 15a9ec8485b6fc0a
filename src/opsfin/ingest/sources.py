"""Reading tabular sources into raw rows: CSV/TSV, JSON Lines and SQL queries here; Excel .xlsx
and Parquet in `binary_sources`.

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
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ..errors import UserError
from .binary_sources import read_parquet, read_xlsx
from .source_rows import SourceData, SourceRow, check_header, json_default

TABULAR_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 20


def tabular_kind(path: Path) -> str | None:
    """The tabular kind a file's extension announces, or None."""
    return TABULAR_EXTENSIONS.get(path.suffix.lower())


# ------------------------------------------------------------------ hashing
def file_sha256(path: Path, extra: bytes = b"") -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    if extra:
        digest.update(b"\0" + extra)
    return digest.hexdigest()


def text_file_sha256(path: Path) -> tuple[str, int]:
    """The SHA-256 of a text file's bytes (as `file_sha256`) and its number of lines (a last line without a
    line break counts), in one pass."""
    digest, breaks, last = hashlib.sha256(), 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            breaks += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), breaks + (1 if last not in (b"", b"\n") else 0)


def source_sha256(path: Path, kind: str, sheet: str | None = None) -> str:
    """The content hash of a file source (an Excel sheet is hashed with its sheet name)."""
    return file_sha256(path, f"sheet:{sheet}".encode() if kind == "xlsx" else b"")


# ------------------------------------------------------------------ files
def read_file(
    path: Path,
    kind: str,
    *,
    sheet: str | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
) -> SourceData:
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


def csv_records(fh: TextIO, delimiter: str | None) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    """The delimiter of an open CSV file (detected from its first line unless given) and its records that
    are not blank, each with the line it starts on (the header is line 1). Reading may raise
    `UnicodeDecodeError` or `csv.Error`."""
    if delimiter is None:
        delimiter = _sniff_delimiter(fh.readline())
        fh.seek(0)
    reader = csv.reader(fh, delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[str]]]:
        start = 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if record and not (len(record) == 1 and record[0].strip() == ""):
                yield line, record

    return delimiter, records()


def read_csv(path: Path, delimiter: str | None = None, encoding: str = "utf-8-sig") -> SourceData:
    """CSV (delimiter detected from the header line unless given) or TSV. Values stay text."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    data = SourceData("csv", str(path), [])
    try:
        with path.open(encoding=encoding, newline="") as fh:
            delimiter, records = csv_records(fh, delimiter)
            header: list[str] | None = None
            for line, record in records:
                if header is None:
                    header = [h.strip() for h in record]
                    check_header(path, header)
                    data.columns = header
                    continue
                problem = None
                if len(record) != len(header):
                    problem = f"row has {len(record)} fields but the header has {len(header)}"
                data.rows.append(SourceRow(line, record, problem))
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); "
            "set `encoding:` in a mapping (e.g. latin-1)"
        ) from None
    except csv.Error as exc:
        raise UserError(f"{path}: not readable as CSV: {exc}") from None
    if header is None:
        raise UserError(f"{path}: the file is empty (no header line)")
    return data


_JSON_DEPTH = 64  # a record nests no deeper; deeper lines are quarantined
_BIG_INT_DIGITS = 1000  # longer integers are kept as Decimal (int() refuses > 4300)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # how a lone surrogate is written in JSON text


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _BIG_INT_DIGITS else Decimal(text)


def _json_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            if deepest > _JSON_DEPTH:
                break
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _json_object(line: str) -> tuple[dict[str, Any] | None, str | None]:
    """One JSON Lines record, or None and why the line cannot be a record."""
    try:
        obj = json.loads(line, parse_float=Decimal, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        return None, f"line is not valid JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, f"line nests lists or objects deeper than {_JSON_DEPTH} levels"
    if not isinstance(obj, dict):
        return None, "line is not a JSON object ({...})"
    if line.count("[") + line.count("{") > _JSON_DEPTH and _json_depth(obj) > _JSON_DEPTH:
        return None, f"line nests lists or objects deeper than {_JSON_DEPTH} levels"
    if _SURROGATE_ESCAPE.search(line):
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return (
                None,
                "line holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), which is not text",
            )
    return obj, None


def read_jsonl(path: Path, encoding: str = "utf-8-sig") -> SourceData:
    """JSON Lines: one object per line. Numbers with a fraction, and integers of more than 1000
    digits, are read as exact decimals. The columns are the keys, in order of first appearance.
    A line that is no JSON object, nests deeper than 64 levels or holds a lone surrogate is a
    problem row (quarantined with its line as text)."""
    parsed: list[tuple[int, dict[str, Any] | None, str | None, str]] = []
    columns: dict[str, None] = {}
    try:
        with path.open(encoding=encoding) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                obj, problem = _json_object(line)
                if obj is not None:
                    columns.update(dict.fromkeys(obj))
                parsed.append((number, obj, problem, line))
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
        raise UserError(
            f"--source-url {source_url.split('@')[-1]!r} is not a database URL "
            "(e.g. sqlite:///erp.db, postgresql+psycopg://user@host/db)"
        ) from None


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
            check_header(Path(shown), data.columns)
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
