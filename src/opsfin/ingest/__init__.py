"""Ingest: bring source data into the warehouse, accepting or quarantining every row.

Public API (every function takes an opened `Workspace` or a workspace folder):

    ingest_file(ws, path, table=None, mapping=None, fmt=None, replace=False,
                add_missing_parties=False, sheet=None) -> LoadResult
    ingest_sql(ws, sql, source_url, table, mapping=None, replace=False) -> LoadResult
    list_quarantine(ws, load_id=None, table=None) -> polars.DataFrame
    close_period(ws, "YYYY-MM", closed_by) -> dict
    list_periods(ws) -> list[dict]

Tabular files (CSV/TSV, Parquet, Excel .xlsx, JSON Lines) fill one canonical `table` (argument,
else the mapping's `table:`), or the several tables of a `tables:` mapping; document formats (camt053, mt940, ubl; detected from the content
when `fmt` is None) know their tables. A user's mistake raises `UserError`. See docs/ingest.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from .. import readers
from ..canonical import MODEL_TABLE_NAMES, TABLE_BY_NAME, Table
from ..errors import UserError
from ..workspace import Workspace
from ..workspace import open as open_workspace
from . import fast_csv, multi_table, periods
from .binary_sources import excel_sheet
from .loader import (
    LoadResult,
    Progress,
    QuarantineNote,
    TableCounts,
    batch_from_source,
    batches_from_document,
    run_load,
)
from .mapping import Mapping, load_mapping, parse_mapping
from .sources import read_file, read_sql, source_sha256, tabular_kind, text_file_sha256

__all__ = [
    "LoadResult",
    "Mapping",
    "QuarantineNote",
    "TableCounts",
    "close_period",
    "ingest_file",
    "ingest_sql",
    "list_periods",
    "list_quarantine",
]

WorkspaceLike = Workspace | str | os.PathLike[str]


def _workspace(ws: WorkspaceLike | None) -> Workspace:
    """An opened workspace; None means $OPSFIN_WORKSPACE or the current folder."""
    return ws if isinstance(ws, Workspace) else open_workspace(ws)


@contextmanager
def _connect(ws: Workspace, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        con = ws.connect(read_only=read_only)
    except duckdb.IOException as exc:
        raise UserError(
            f"{ws.warehouse_path}: cannot open the warehouse ({' '.join(str(exc).split())[:200]}); "
            "is another opsfin process writing to it?"
        ) from None
    try:
        yield con
    finally:
        con.close()


def canonical_table(name: str) -> Table:
    """The declaration of a canonical (model) table; a `UserError` lists the known ones."""
    if name not in MODEL_TABLE_NAMES:
        raise UserError(f"unknown table {name!r}; the canonical tables are: {', '.join(MODEL_TABLE_NAMES)}")
    return TABLE_BY_NAME[name]


def _mapping(ws: Workspace, mapping: Any) -> tuple[Mapping, str]:
    if mapping is None:
        return Mapping(), "mapping"
    if isinstance(mapping, Mapping):
        return mapping, "mapping"
    if isinstance(mapping, dict):
        return parse_mapping(mapping), "mapping"
    found = load_mapping(mapping, ws.model_dir / "mappings")
    return found, str(mapping)


def _pick_table(table: str | None, mapping: Mapping, origin: str) -> str | None:
    if table and mapping.table and table != mapping.table:
        raise UserError(f"--table {table} differs from {origin} (table: {mapping.table}); drop one of them")
    return table or mapping.table


def _detect(path: Path) -> str | None:
    try:
        return readers.detect_format(path)
    except NotImplementedError:
        return None


def ingest_file(
    ws: WorkspaceLike | None,
    path: str | os.PathLike[str],
    table: str | None = None,
    mapping: Any = None,
    fmt: str | None = None,
    replace: bool = False,
    add_missing_parties: bool = False,
    *,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Load one file. `mapping` is a YAML path (a bare name is looked up in model/mappings/),
    a `Mapping`, or a dict. `fmt` forces a document format (camt053, mt940, ubl)."""
    ws = _workspace(ws)
    file = _existing_file(path)
    the_mapping, origin = _mapping(ws, mapping)
    table = _pick_table(table, the_mapping, origin)
    fmt, kind = _document_format_or_tabular_kind(file, fmt, table)
    if fmt is not None:
        if mapping is not None or sheet is not None:
            raise UserError(f"{file}: --mapping and --sheet apply to tabular files, not to {fmt} documents")
        return _ingest_document(ws, file, fmt, table, replace, add_missing_parties, progress)
    assert kind is not None
    if add_missing_parties:
        raise UserError(f"{file}: --add-missing-parties applies to UBL e-invoices, not to {kind} files")
    return _ingest_tabular(ws, file, kind, table, the_mapping, origin, sheet, replace, progress)


def _existing_file(path: str | os.PathLike[str]) -> Path:
    """The file at `path`, resolved; a `UserError` when it is missing or not a file."""
    file = Path(path).expanduser()
    if not file.exists():
        raise UserError(f"{file}: file not found")
    if not file.is_file():
        raise UserError(f"{file}: not a file")
    return file.resolve()


def _document_format_or_tabular_kind(file: Path, fmt: str | None, table: str | None) -> tuple[str | None, str | None]:
    """(document format, None) or (None, tabular kind) of `file`: the forced `fmt`, else the kind its
    name tells, else the document format its content tells; an unknown file is read as CSV when a
    `table` is named."""
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in readers.FORMATS:
            raise UserError(f"unknown document format {fmt!r}; known: {', '.join(readers.FORMATS)}")
    kind = None if fmt else tabular_kind(file)
    if fmt is None and kind is None:
        fmt = _detect(file)
        if fmt is None:
            if table is None:
                raise UserError(
                    f"{file}: cannot tell the format; expected .csv, .tsv, .parquet, .xlsx, .jsonl "
                    f"(with --table) or a bank/e-invoice document ({', '.join(readers.FORMATS)})"
                )
            kind = "csv"
    return fmt, kind


def _ingest_tabular(
    ws: Workspace,
    file: Path,
    kind: str,
    table: str | None,
    the_mapping: Mapping,
    origin: str,
    sheet: str | None,
    replace: bool,
    progress: Progress | None,
) -> LoadResult:
    """One atomic load of a tabular file into `table` (or the tables of a `tables:` mapping): read, check,
    quarantine and write in one transaction."""
    decl = _target_table(file, table, the_mapping, origin)
    sheet = sheet or the_mapping.sheet
    if sheet is not None and kind != "xlsx":
        raise UserError(f"{file}: --sheet applies to Excel .xlsx files only")
    if kind == "xlsx":
        sheet = excel_sheet(file, sheet)
    ignored: list[str] = []

    def prepare(_con: duckdb.DuckDBPyConnection) -> list:
        """Read and check the rows; only called when the content is not loaded already."""
        if progress:
            progress("reading", 0, None)
        data = read_file(file, kind, sheet=sheet, delimiter=the_mapping.delimiter, encoding=the_mapping.encoding)
        if decl is None:
            batches, unused = multi_table.table_batches(data, the_mapping, origin)
        else:
            batch, unused = batch_from_source(data, decl, the_mapping, origin, progress)
            batches = [batch]
        ignored.extend(unused)
        return batches

    def stage(con: duckdb.DuckDBPyConnection) -> fast_csv.StagedCsv | None:
        """The file read and value-checked in DuckDB, when the vectorised path can read it exactly."""
        if decl is None or not fast_csv.applies(decl, the_mapping, kind):
            return None
        if progress:
            progress("reading", 0, None)
        delimiter = the_mapping.delimiter or ("\t" if kind == "tsv" else None)
        staged = fast_csv.stage_csv(con, file, lines, delimiter, decl, the_mapping, origin, lines_read=lines_read)
        if staged is not None:
            ignored.extend(staged.ignored)
        return staged

    source = f"{file}#{sheet}" if kind == "xlsx" else str(file)
    lines_read: fast_csv.LinesRead | None = None
    with _connect(ws) as con:
        if decl is not None and fast_csv.applies(decl, the_mapping, kind):  # its lines are read while it is hashed
            sha, lines, lines_read = fast_csv.read_while_hashing(con, file)
        elif kind in ("csv", "tsv"):
            sha, lines = text_file_sha256(file)
        else:
            sha, lines = source_sha256(file, kind, sheet), 0
        result = run_load(
            con,
            sha256=sha,
            source=source,
            fmt=kind,
            tables=[decl.name] if decl is not None else [t.table for t in the_mapping.tables],
            prepare=prepare,
            replace=replace,
            noun="file",
            progress=progress,
            stage=stage,
        )
    result.ignored_columns = ignored
    return result


def _target_table(file: Path | str, table: str | None, the_mapping: Mapping, origin: str) -> Table | None:
    """The one table a tabular file fills; None when the mapping fills several (`tables:`)."""
    if the_mapping.tables:
        if table is not None:
            names = ", ".join(t.table for t in the_mapping.tables)
            raise UserError(f"--table {table}: {origin} fills several tables ({names}); drop --table")
        return None
    if table is None:
        raise UserError(
            f"{file}: say which table it fills (--table TABLE, or `table:` in a mapping); "
            f"the canonical tables are: {', '.join(MODEL_TABLE_NAMES)}"
        )
    return canonical_table(table)


def _ingest_document(
    ws: Workspace,
    file: Path,
    fmt: str,
    table: str | None,
    replace: bool,
    add_missing_parties: bool,
    progress: Progress | None,
) -> LoadResult:
    if progress:
        progress("reading", 0, None)
    try:
        doc = readers.read_document(file, fmt)
    except NotImplementedError:
        raise UserError(f"{file}: the {fmt} reader is not available in this version") from None
    if table is not None and table not in doc.tables:
        raise UserError(f"{file}: a {fmt} document fills {', '.join(doc.tables)}, not {table}; drop --table")
    for name in doc.tables:
        canonical_table(name)
    sha = source_sha256(file, fmt)
    with _connect(ws) as con:
        return run_load(
            con,
            sha256=sha,
            source=str(file),
            fmt=doc.format or fmt,
            tables=list(doc.tables),
            replace=replace,
            noun="document",
            progress=progress,
            prepare=lambda c: batches_from_document(
                c,
                doc,
                add_missing_parties=add_missing_parties,
                base_currency=ws.settings.base_currency,
            ),
        )


def ingest_sql(
    ws: WorkspaceLike | None,
    sql: str,
    source_url: str,
    table: str | None,
    mapping: Any = None,
    replace: bool = False,
    *,
    progress: Progress | None = None,
) -> LoadResult:
    """Load the rows of a SQL query (run through SQLAlchemy on `source_url`) into `table`.

    The content hash covers the query, the URL (without password) and every fetched row, so the
    same query returning the same rows is loaded once."""
    ws = _workspace(ws)
    if not source_url:
        raise UserError("--sql needs --source-url (a SQLAlchemy URL such as sqlite:///erp.db)")
    the_mapping, origin = _mapping(ws, mapping)
    table = _pick_table(table, the_mapping, origin)
    if table is None and not the_mapping.tables:
        raise UserError(
            f"say which table the query fills (--table TABLE); the canonical tables are: {', '.join(MODEL_TABLE_NAMES)}"
        )
    decl = _target_table("the query", table, the_mapping, origin)
    if progress:
        progress("querying", 0, None)
    data = read_sql(sql, source_url)
    if decl is None:
        batches, ignored = multi_table.table_batches(data, the_mapping, origin)
    else:
        batch, ignored = batch_from_source(data, decl, the_mapping, origin, progress)
        batches = [batch]
    with _connect(ws) as con:
        result = run_load(
            con,
            sha256=data.sha256,
            source=data.source,
            fmt="sql",
            tables=[b.table.name for b in batches],
            prepare=lambda _c: batches,
            replace=replace,
            noun="query result",
            progress=progress,
        )
    result.ignored_columns = ignored
    return result


def list_quarantine(ws: WorkspaceLike | None, load_id: str | None = None, table: str | None = None) -> pl.DataFrame:
    """Quarantined rows (optionally of one load and/or table), by load, table and source row."""
    ws = _workspace(ws)
    if table is not None:
        canonical_table(table)
    where, params = [], []
    with _connect(ws, read_only=True) as con:
        if load_id is not None:
            if not con.execute("SELECT 1 FROM loads WHERE load_id = ? LIMIT 1", [load_id]).fetchall():
                raise UserError(f"no load {load_id!r} in this warehouse")
            where.append("load_id = ?")
            params.append(load_id)
        if table is not None:
            where.append("table_name = ?")
            params.append(table)
        sql = (
            "SELECT load_id, table_name, source_row, column_name, reason, raw_record, source FROM quarantine"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY load_id, table_name, source_row"
        )
        return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())  # type: ignore[return-value]


def close_period(ws: WorkspaceLike | None, period: str, closed_by: str) -> dict:
    """Close a month ("YYYY-MM"): from now on, GL rows dated in it are quarantined."""
    ws = _workspace(ws)
    with _connect(ws) as con:
        return periods.close_period(con, period, closed_by)


def list_periods(ws: WorkspaceLike | None) -> list[dict]:
    """The closed months, oldest first."""
    ws = _workspace(ws)
    with _connect(ws, read_only=True) as con:
        return periods.list_periods(con)
