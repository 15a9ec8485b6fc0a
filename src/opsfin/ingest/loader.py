"""One load: idempotence, validation and an all-or-nothing write of rows, quarantine and `loads`.

Contract:
- A load is identified by the SHA-256 of its source content (see `sources`). If a load with the
  same sha256 and table is recorded with status 'loaded', nothing is added and the result says
  `already_loaded` with the earlier load_id. With `replace`, the earlier load's rows (found by
  `_load_id`, in every table it filled) and its quarantine rows are deleted, its `loads` rows are
  marked 'superseded', and the source is loaded again.
- Everything one load writes — accepted rows with `_load_id`, quarantine rows, one `loads` row
  per table — is written in ONE DuckDB transaction. An error, or a killed process, leaves the
  warehouse exactly as it was.
- Every row read is accepted or quarantined: rows_accepted + rows_quarantined == rows_read.
- load_id: "L" + UTC time to the millisecond + "-" + 6 random hex digits, e.g.
  "L20250105T142233123-a7f3c2": short, sortable by time, unique.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from .. import warehouse
from ..canonical import Table, table
from ..readers import ParsedDocument
from .fast_csv import StagedCsv, drop_staging
from .fast_load import check_across_rows, insert_accepted, refused_in_order, rows_read
from .mapping import Mapping, checked_constants, plan_columns
from .parties import resolve_parties
from .periods import closed_periods
from .source_rows import SourceData, json_default, raw_record
from .validate import Candidate, TableBatch, check_row, validate_load, value_checker

Progress = Callable[[str, int, int | None], None]
FIRST_PROBLEMS = 5
_LIVE_STATUSES = ("loaded", "replaced")


@dataclass
class TableCounts:
    table: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int


@dataclass
class QuarantineNote:
    table: str
    source_row: int
    column_name: str | None
    reason: str


@dataclass
class LoadResult:
    """What one ingest did. For `already_loaded`, the counts are zero: this run added nothing."""

    load_id: str
    table: str  # the table, or the document's tables joined by ","
    source: str
    sha256: str
    tables: list[TableCounts]
    already_loaded: bool = False
    format: str = ""  # csv, tsv, parquet, xlsx, jsonl, sql, camt053, mt940, ubl
    replaced_load_ids: list[str] = field(default_factory=list)
    first_problems: list[QuarantineNote] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def rows_accepted(self) -> int:
        return sum(t.rows_accepted for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `opsfin ingest --format json`."""
        return {
            "load_id": self.load_id,
            "table": self.table,
            "source": self.source,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "already_loaded": self.already_loaded,
            "tables": [asdict(t) for t in self.tables],
            "format": self.format,
            "replaced_load_ids": self.replaced_load_ids,
            "ignored_columns": self.ignored_columns,
            "first_problems": [asdict(p) for p in self.first_problems],
        }


def new_load_id() -> str:
    now = dt.datetime.now(dt.UTC)
    return f"L{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}-{secrets.token_hex(3)}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class DuckLookup:
    """The warehouse as `validate.WarehouseLookup` sees it (inside the load's transaction)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def existing_keys(self, table: Table, columns: tuple[str, ...], keys: set[tuple]) -> dict[tuple, str | None]:
        if not keys:
            return {}
        ordered = list(keys)
        arrays = [pa.array([k[i] for k in ordered], type=table.column(c).arrow_type) for i, c in enumerate(columns)]
        names = [f"k{i}" for i in range(len(columns))]
        self.con.register("_opsfin_keys", pa.Table.from_arrays(arrays, names=names))
        try:
            on = " AND ".join(f't."{c}" = k.{n}' for c, n in zip(columns, names, strict=True))
            lineage = "min(t._load_id)" if table.lineage else "NULL"
            keys_sql = ", ".join(f"k.{n}" for n in names)
            rows = self.con.execute(
                f'SELECT {keys_sql}, {lineage} FROM _opsfin_keys k JOIN "{table.name}" t ON {on} GROUP BY {keys_sql}'
            ).fetchall()
        finally:
            self.con.unregister("_opsfin_keys")
        return {tuple(r[:-1]): r[-1] for r in rows}

    def closed_periods(self) -> set[dt.date]:
        return closed_periods(self.con)


def earlier_loads(con: duckdb.DuckDBPyConnection, sha256: str, tables: list[str]) -> list[str]:
    """Live loads of the same content into any of `tables`, oldest first."""
    marks = ", ".join("?" for _ in tables)
    statuses = ", ".join(f"'{s}'" for s in _LIVE_STATUSES)
    rows = con.execute(
        f"SELECT DISTINCT load_id FROM loads WHERE sha256 = ? AND table_name IN ({marks}) "
        f"AND status IN ({statuses}) ORDER BY load_id",
        [sha256, *tables],
    ).fetchall()
    return [r[0] for r in rows]


def supersede(con: duckdb.DuckDBPyConnection, load_ids: list[str]) -> None:
    """Delete what earlier loads brought (rows and quarantine) and mark them 'superseded'."""
    for load_id in load_ids:
        for (name,) in con.execute("SELECT DISTINCT table_name FROM loads WHERE load_id = ?", [load_id]).fetchall():
            if table(name).lineage:
                con.execute(f'DELETE FROM "{name}" WHERE _load_id = ?', [load_id])
        con.execute("DELETE FROM quarantine WHERE load_id = ?", [load_id])
        con.execute("UPDATE loads SET status = 'superseded' WHERE load_id = ?", [load_id])


def already_loaded_result(
    con: duckdb.DuckDBPyConnection, load_id: str, source: str, sha256: str, fmt: str
) -> LoadResult:
    names = [
        r[0]
        for r in con.execute("SELECT table_name FROM loads WHERE load_id = ? ORDER BY table_name", [load_id]).fetchall()
    ]
    return LoadResult(
        load_id,
        ",".join(names),
        source,
        sha256,
        [TableCounts(n, 0, 0, 0) for n in names],
        already_loaded=True,
        format=fmt,
    )


def accepted_arrow(decl: Table, rows: list[Candidate], load_id: str) -> pa.Table:
    """The accepted rows as an Arrow table of the table's schema, `_load_id` included."""
    arrays = [pa.array([c.typed.get(col.name) for c in rows], type=col.arrow_type) for col in decl.columns]
    arrays.append(pa.array([load_id] * len(rows), type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=decl.arrow_schema(with_lineage=True))


def quarantine_record(load_id: str, table_name: str, source: str, cand: Candidate) -> dict[str, Any]:
    columns = list(dict.fromkeys(p.column for p in cand.problems if p.column))
    reason = "; ".join(dict.fromkeys(p.reason for p in cand.problems))
    if cand.location:
        reason = f"{cand.location}: {reason}"
    return {
        "load_id": load_id,
        "table_name": table_name,
        "source": source,
        "source_row": cand.number,
        "column_name": ", ".join(columns) or None,
        "reason": reason,
        "raw_record": json.dumps(cand.raw, default=json_default, ensure_ascii=False),
    }


def run_load(
    con: duckdb.DuckDBPyConnection,
    *,
    sha256: str,
    source: str,
    fmt: str,
    tables: list[str],
    prepare: Callable[[duckdb.DuckDBPyConnection], list[TableBatch]],
    replace: bool = False,
    noun: str = "file",
    progress: Progress | None = None,
    stage: Callable[[duckdb.DuckDBPyConnection], StagedCsv | None] | None = None,
) -> LoadResult:
    """Load once: `prepare(con)` (called inside the transaction) returns the row-checked batches.

    `tables` are the tables this source fills, for the already-loaded check. `stage(con)`, when given, reads
    the source into temporary tables first (before the transaction: it writes nothing to the warehouse); if
    it returns a `StagedCsv`, the load is checked and written from there in SQL, else `prepare` runs."""
    earlier = earlier_loads(con, sha256, tables)
    if earlier and not replace:
        return already_loaded_result(con, earlier[0], source, sha256, fmt)
    load_id = new_load_id()
    started = _utcnow()
    try:
        staged = stage(con) if stage is not None else None
        with warehouse.transaction(con):
            if earlier:
                supersede(con, earlier)
            if staged is not None:
                result = write_staged(con, staged, load_id, sha256, started, noun, progress)
            else:
                batches = prepare(con)
                if progress:
                    progress("checking keys", 0, None)
                ordered = validate_load(batches, DuckLookup(con), noun)
                if progress:
                    progress("writing", 0, None)
                result = write_load(con, load_id, source, sha256, ordered, started)
    finally:
        if stage is not None:
            drop_staging(con)
    result.format, result.replaced_load_ids = fmt, earlier
    return result


def write_load(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    source: str,
    sha256: str,
    batches: list[TableBatch],
    started: dt.datetime,
) -> LoadResult:
    counts: list[TableCounts] = []
    notes: list[QuarantineNote] = []
    refused: list[dict[str, Any]] = []
    for batch in batches:
        accepted, quarantined = batch.accepted, batch.quarantined
        if accepted:
            warehouse.insert_arrow(con, batch.table, accepted_arrow(batch.table, accepted, load_id))
        for cand in quarantined:
            record = quarantine_record(load_id, batch.table.name, source, cand)
            refused.append(record)
            if len(notes) < FIRST_PROBLEMS:
                notes.append(QuarantineNote(batch.table.name, cand.number, record["column_name"], record["reason"]))
        counts.append(TableCounts(batch.table.name, len(batch.rows), len(accepted), len(quarantined)))
    return record_load(con, load_id, source, sha256, counts, refused, notes, started)


def write_staged(
    con: duckdb.DuckDBPyConnection,
    staged: StagedCsv,
    load_id: str,
    sha256: str,
    started: dt.datetime,
    noun: str,
    progress: Progress | None,
) -> LoadResult:
    """Check a staged CSV across its rows and write it (the SQL counterpart of `validate_load` + `write_load`)."""
    if progress:
        progress("checking keys", 0, None)
    check_across_rows(con, staged, noun)
    if progress:
        progress("writing", 0, None)
    name = staged.table.name
    quarantined = refused_in_order(con, staged)
    accepted = insert_accepted(con, staged, load_id)
    read = rows_read(con)
    assert read == accepted + len(quarantined), (read, accepted, len(quarantined))
    refused = [quarantine_record(load_id, name, staged.source, cand) for cand in quarantined]
    notes = [QuarantineNote(name, r["source_row"], r["column_name"], r["reason"]) for r in refused[:FIRST_PROBLEMS]]
    counts = [TableCounts(name, read, accepted, len(quarantined))]
    return record_load(con, load_id, staged.source, sha256, counts, refused, notes, started)


def record_load(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    source: str,
    sha256: str,
    counts: list[TableCounts],
    refused: list[dict[str, Any]],
    notes: list[QuarantineNote],
    started: dt.datetime,
) -> LoadResult:
    """Write a load's quarantine rows and its `loads` rows (one per table)."""
    if refused:
        decl = table("quarantine")
        warehouse.insert_arrow(con, decl, pa.Table.from_pylist(refused, schema=decl.arrow_schema()))
    finished = _utcnow()
    loads = [
        {
            "load_id": load_id,
            "table_name": c.table,
            "source": source,
            "sha256": sha256,
            "rows_read": c.rows_read,
            "rows_accepted": c.rows_accepted,
            "rows_quarantined": c.rows_quarantined,
            "started_at": started,
            "finished_at": finished,
            "status": "loaded",
        }
        for c in counts
    ]
    decl = table("loads")
    warehouse.insert_arrow(con, decl, pa.Table.from_pylist(loads, schema=decl.arrow_schema()))
    return LoadResult(load_id, ",".join(c.table for c in counts), source, sha256, counts, first_problems=notes)


# ------------------------------------------------------------------ turning sources into checked rows
def batch_from_source(
    data: SourceData,
    decl: Table,
    mapping: Mapping,
    mapping_origin: str = "mapping",
    progress: Progress | None = None,
) -> tuple[TableBatch, list[str]]:
    """Map and check every row of a tabular source; returns the batch and the unused source columns."""
    plan = plan_columns(decl, data.columns, mapping, data.source, mapping_origin)
    checkers = {c.name: value_checker(c, mapping) for c in decl.columns if c.name not in plan.constants}
    constants = checked_constants(plan, mapping, mapping_origin)
    index = list(plan.source_index.items())
    rows: list[Candidate] = []
    total = len(data.rows)
    for i, row in enumerate(data.rows):
        raw = raw_record(data.columns, row)
        if row.problem:
            cand = Candidate(row.number, {}, raw)
            cand.refuse(None, row.problem)
        else:
            values = {name: row.values[pos] for name, pos in index}
            cand = check_row(checkers, values, row.number, raw)
            cand.typed.update(constants)
        rows.append(cand)
        if progress and i % 10000 == 0:
            progress("checking rows", i, total)
    if progress:
        progress("checking rows", total, total)
    return TableBatch(decl, rows), plan.ignored


def batches_from_document(
    con: duckdb.DuckDBPyConnection,
    doc: ParsedDocument,
    *,
    add_missing_parties: bool,
    base_currency: str,
) -> list[TableBatch]:
    """Check every row of a parsed document; UBL sellers are resolved against `suppliers` first."""
    rows_by_table = {name: arrow.to_pylist() for name, arrow in doc.tables.items()}
    locations = {name: list(doc.locations.get(name) or []) for name in rows_by_table}
    refused: dict[str, str] = {}
    if doc.parties and "ap_invoices" in rows_by_table:
        found = resolve_parties(
            con,
            rows_by_table["ap_invoices"],
            doc.parties,
            add_missing=add_missing_parties,
            base_currency=base_currency,
        )
        refused = found.refused_invoices
        if found.new_suppliers:
            rows_by_table.setdefault("suppliers", []).extend(found.new_suppliers)
            locations.setdefault("suppliers", []).extend(found.new_supplier_locations)
    batches = []
    for name, rows in rows_by_table.items():
        decl = table(name)
        checkers = {c.name: value_checker(c) for c in decl.columns}
        locs = locations.get(name, [])
        checked = []
        for i, values in enumerate(rows, start=1):
            loc = locs[i - 1] if i - 1 < len(locs) else f"{name}[{i}]"
            cand = check_row(checkers, values, i, {**values, "_location": loc}, loc)
            if name == "ap_invoices" and values.get("invoice_id") in refused:
                cand.refuse("supplier_id", refused[values["invoice_id"]])
            checked.append(cand)
        batches.append(TableBatch(decl, checked))
    return batches
