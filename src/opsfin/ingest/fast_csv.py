"""Vectorised reading and value checks of a CSV/TSV file in DuckDB (docs/ingest.md, "How validation runs").

`stage_csv` reads the file's lines into a temporary DuckDB table, splits them into fields and checks every
value in SQL (`fast_values`), into an Arrow table shown to DuckDB as `_opsfin_rows`: one row per record,
with its line number `n`, the canonical values, and `state` 0 (every value accepted) or 1 (refused). Rows
whose values SQL cannot decide alone (see `fast_values`) and records of the wrong number of fields are
checked by the value parser in Python, exactly as the row-by-row path does, and added to it.

It only takes files it reads exactly as `sources.read_csv` does: UTF-8 text without quote characters,
carriage returns, NUL or U+0001 characters (every line is then one record), read with the mapping's
default text forms. Otherwise it returns None and the row-by-row path loads the file.
"""

from __future__ import annotations

import codecs
import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..canonical import Table
from ..errors import UserError
from .fast_values import column_sql, plain_line, quote, typed_cast
from .mapping import Mapping, plan_columns
from .source_rows import SourceRow, check_header, raw_record
from .sources import csv_records, text_file_sha256
from .validate import Candidate, Invalid, check_row, value_checker

USE_FAST = True  # tests switch it off to compare with the row-by-row path
LINES, ROWS = "_opsfin_lines", "_opsfin_rows"
PENDING, ACCEPTED, REFUSED = 9, 0, 1
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\n"


@dataclass
class StagedCsv:
    """A CSV read and value-checked; `refused` holds the rows refused so far, by line.

    `checked` (an Arrow table: `n`, `state`, the canonical columns; shown to DuckDB as `_opsfin_rows`) holds
    the rows in line order as SQL checked them, `python` the rows SQL left PENDING as the value parser
    checked them (blank lines left out)."""

    table: Table
    source: str
    header: list[str]
    delimiter: str
    constants: dict[str, Any]
    ignored: list[str]
    refused: dict[int, Candidate] = field(default_factory=dict)
    plain: bool = False  # the file holds printable ASCII only: `fast_values.plain_line` tests the texts' ends
    checked: pa.Table | None = None
    python: pa.Table | None = None

    def raw(self, number: int, line: str) -> dict[str, Any]:
        return raw_record(self.header, SourceRow(number, line.split(self.delimiter)))


def applies(decl: Table, mapping: Mapping, kind: str) -> bool:
    """Whether the vectorised path may load this table from this kind of file with this mapping."""
    default_forms = (
        mapping.decimal_separator == "."
        and mapping.thousands_separator is None
        and mapping.date_format is None
        and not mapping.date_formats
        and mapping.timestamp_format is None
        and not mapping.timestamp_formats
        and mapping.time_format is None
    )
    utf8 = codecs.lookup(mapping.encoding).name in ("utf-8", "utf-8-sig")
    self_reference = any(fk.ref_table == decl.name for fk in decl.foreign_keys)
    return USE_FAST and kind in ("csv", "tsv") and default_forms and utf8 and not self_reference


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS temp.{LINES}")
    try:
        con.unregister(ROWS)
    except duckdb.Error:  # not registered: the file was not staged
        pass


def show_rows(con: duckdb.DuckDBPyConnection, staged: StagedCsv) -> None:
    """`_opsfin_rows` for DuckDB: the SQL-checked rows and the Python-checked ones (state PENDING rows of the
    first are stand-ins for the second and are left out by every query)."""
    parts = [t for t in (staged.checked, staged.python) if t is not None]
    con.register(ROWS, pa.concat_tables(parts) if len(parts) > 1 else parts[0])


def _header(path: Path, delimiter: str | None, encoding: str) -> tuple[str, list[str], int] | None:
    """(delimiter, header, its line number) as `sources.read_csv` finds them; None if it would not."""
    try:
        with path.open(encoding=encoding, newline="") as fh:
            delimiter, records = csv_records(fh, delimiter)
            for line, record in records:
                header = [h.strip() for h in record]
                check_header(path, header)
                return delimiter, header, line
    except (UnicodeDecodeError, csv.Error):
        return None
    return None


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Every line of the file in `_opsfin_lines` (rowid = line number - 1, an empty line NULL); False when
    DuckDB cannot read it (not UTF-8, ...)."""
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {LINES} AS SELECT line FROM read_csv({quote(str(path))}, "
            "columns={'line': 'VARCHAR'}, delim='\\x01', quote='', escape='', header=false, auto_detect=false, "
            "strict_mode=false, new_line='\\n')"
        )
    except duckdb.Error:
        return False
    return True


@dataclass(frozen=True)
class LinesRead:
    """`_opsfin_lines` holds the file's lines; `printable`: every byte of the file is printable ASCII, a line
    break or a tab, `tabs`: it holds a tab, and `quotes`: it holds a double quote (known for a printable file)."""

    printable: bool
    tabs: bool
    quotes: bool = False

    def lines_are_records(self) -> bool:
        """Whether every line is known to be one record from the bytes alone: no quote, carriage return, NUL
        or U+0001 (the bytes that `_lines_are_records` looks for)."""
        return self.printable and not self.quotes

    def plain(self, delimiter: str) -> bool:
        """Whether `fast_values.plain_line` can stand for the tests of every text's ends."""
        return self.printable and delimiter != " " and (not self.tabs or delimiter == "\t")


def _printable_ascii(path: Path) -> LinesRead:
    tabs = quotes = False
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            rest = chunk.translate(None, _PRINTABLE)
            if rest.count(b"\t") != len(rest):
                return LinesRead(False, tabs)
            tabs = tabs or bool(rest)
            quotes = quotes or b'"' in chunk
    return LinesRead(True, tabs, quotes)


def read_while_hashing(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, int, LinesRead | None]:
    """The file's SHA-256 and number of lines (`sources.text_file_sha256`) and which bytes it holds, in two more
    threads (hashlib lets go of the GIL), while DuckDB reads its lines into `_opsfin_lines` (`_read_lines`; None
    when it cannot). The hash alone would keep one core busy and the other idle."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashing, scanning = pool.submit(text_file_sha256, path), pool.submit(_printable_ascii, path)
        read = _read_lines(con, path)
        sha, lines = hashing.result()
        bytes_found = scanning.result()
    return sha, lines, bytes_found if read else None


def _lines_are_records(con: duckdb.DuckDBPyConnection, lines: int, lines_read: LinesRead | None = None) -> bool:
    """False when the file's lines are not its records (quotes, carriage returns, NUL or U+0001 characters), or
    when DuckDB did not give exactly one row per line (`lines`, counted while hashing). With `lines_read`
    saying the bytes hold none of those characters, only the count is asked for."""
    if lines_read is not None and lines_read.lines_are_records():
        return con.execute(f"SELECT count(*) FROM {LINES}").fetchall() == [(lines,)]
    found = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE contains(line, '\"') OR contains(line, chr(13)) "
        f"OR contains(line, chr(0)) OR contains(line, chr(1))) FROM {LINES}"
    ).fetchall()
    return found == [(lines, 0)]


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    lines: int,
    delimiter: str | None,
    decl: Table,
    mapping: Mapping,
    origin: str,
    lines_read: LinesRead | None = None,
) -> StagedCsv | None:
    """Read and value-check `path` (of `lines` lines) into `_opsfin_rows`, or None when the row-by-row path
    must read it; `lines_read`: `read_while_hashing` has read its lines already."""
    found = _header(path, delimiter, mapping.encoding)
    if found is None:
        return None
    delimiter, header, header_line = found
    read = lines_read is not None or (len(header) >= 2 and _read_lines(con, path))
    if len(header) < 2 or not read or not _lines_are_records(con, lines, lines_read):
        drop_staging(con)
        return None
    plan = plan_columns(decl, header, mapping, str(path), origin)
    constants: dict[str, Any] = {}
    for name, value in plan.constants.items():
        try:
            constants[name] = value_checker(decl.column(name), mapping)(value)
        except Invalid as exc:
            raise UserError(f"{origin}: key 'constants.{name}': {exc}") from None
    staged = StagedCsv(decl, str(path), header, delimiter, constants, plan.ignored)
    staged.plain = lines_read is not None and lines_read.plain(delimiter)
    _check_values(con, staged, plan.source_index, mapping, header_line)
    _check_in_python(con, staged, plan.source_index, mapping)
    show_rows(con, staged)
    return staged


def _literal_column(con: duckdb.DuckDBPyConnection, value: Any, arrow_type: pa.DataType) -> str:
    """A constant as a SQL expression of its column's type (through DuckDB, so every type is exact)."""
    if value is None:
        return "NULL"
    con.register("_opsfin_constant", pa.table({"v": pa.array([value], type=arrow_type)}))
    try:
        shown = con.execute("SELECT CAST(v AS VARCHAR), typeof(v) FROM _opsfin_constant").fetchall()[0]
    finally:
        con.unregister("_opsfin_constant")
    return f"CAST({quote(shown[0])} AS {shown[1]})"


def _check_values(
    con: duckdb.DuckDBPyConnection, staged: StagedCsv, index: dict[str, int], mapping: Mapping, header_line: int
) -> None:
    """`staged.checked` from `_opsfin_lines`: the values SQL accepts, state PENDING for the rows it cannot."""
    decl = staged.table
    values, cleans, quick = [], [f"len(f) = {len(staged.header)}"], [f"len(f) = {len(staged.header)}"]
    quick += ["_p"] if staged.plain else []  # the line's fields do not begin or end with a blank
    casts = ""  # each column's TRY_CAST, computed once for its clean test and its value
    for number, column in enumerate(decl.columns):
        name = f'"{column.name}"'
        if column.name in staged.constants:
            values.append(f"{_literal_column(con, staged.constants[column.name], column.arrow_type)} AS {name}")
        elif column.name in index:
            cast = typed_cast(column, f"f[{index[column.name] + 1}]")
            casts += f", {cast} AS _c{number}" if cast else ""
            sql = column_sql(column, f"_v{index[column.name]}", mapping.null_values, f"_c{number}" if cast else None)
            values.append(f"CAST({sql.value} AS {column.type}) AS {name}")
            cleans.append(sql.clean)
            quick.append(sql.on_plain_line if staged.plain else sql.fast)
        else:  # a nullable column the file does not have
            values.append(f"CAST(NULL AS {column.type}) AS {name}")
    clean = " AND ".join(f"({c})" for c in cleans)
    fast = " AND ".join(f"({c})" for c in quick)
    fields = "".join(f", f[{pos + 1}] AS _v{pos}" for pos in sorted(set(index.values())))
    fields += ", _p" if staged.plain else ""
    plain = f", {plain_line('line', staged.delimiter)} AS _p" if staged.plain else ""
    staged.checked = con.sql(
        f"SELECT n, CAST(CASE WHEN coalesce({fast}, FALSE) THEN {ACCEPTED} WHEN coalesce({clean}, FALSE) "
        f"THEN {ACCEPTED} ELSE {PENDING} END AS UTINYINT) AS state, "
        f"{', '.join(values)} FROM (SELECT n, f{fields}{casts} FROM (SELECT rowid + 1 AS n, "
        f"string_split(line, {quote(staged.delimiter)}) AS f{plain} FROM {LINES} WHERE rowid >= {header_line} "
        "AND line IS NOT NULL))"
    ).to_arrow_table()


def _check_in_python(
    con: duckdb.DuckDBPyConnection, staged: StagedCsv, index: dict[str, int], mapping: Mapping
) -> None:
    """The rows SQL left undecided, checked by the value parser row by row (as `batch_from_source` does)."""
    decl = staged.table
    assert staged.checked is not None
    con.register(ROWS, staged.checked)
    try:
        pending = con.execute(
            f"SELECT rowid + 1, line FROM {LINES} WHERE rowid + 1 IN (SELECT n FROM {ROWS} WHERE state = {PENDING}) "
            "ORDER BY 1"
        ).fetchall()
    finally:
        con.unregister(ROWS)
    if not pending:
        return
    checkers = {c.name: value_checker(c, mapping) for c in decl.columns if c.name not in staged.constants}
    width = len(staged.header)
    results: list[tuple[int, int, dict[str, Any]]] = []
    for number, line in pending:
        record = line.split(staged.delimiter)
        if len(record) == 1 and record[0].strip() == "":
            continue  # a blank line: not a row
        raw = staged.raw(number, line)
        if len(record) != width:
            cand = Candidate(number, {}, raw)
            cand.refuse(None, f"row has {len(record)} fields but the header has {width}")
        else:
            cand = check_row(checkers, {name: record[pos] for name, pos in index.items()}, number, raw)
            cand.typed.update(staged.constants)
        if cand.problems:
            staged.refused[number] = cand
        results.append((number, REFUSED if cand.problems else ACCEPTED, cand.typed))
    schema = staged.checked.schema
    arrays = [pa.array([r[0] for r in results], type=pa.int64()), pa.array([r[1] for r in results], type=pa.uint8())]
    arrays += [pa.array([r[2].get(c.name) for r in results], type=c.arrow_type) for c in decl.columns]
    table = pa.Table.from_arrays(arrays, names=schema.names)
    staged.python = table.cast(schema)
