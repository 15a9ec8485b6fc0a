"""Every canonical table to one Parquet file each (`opsfin export parquet DIR`, and the Spark cache).

The files are written by DuckDB (`COPY ... TO ... (FORMAT parquet)`) and keep the warehouse types:
DECIMAL stays DECIMAL, DATE stays DATE, naive TIMESTAMP stays a naive timestamp (Spark reads it
as TIMESTAMP_NTZ). One exception, so that Spark 4.0 (the `spark` extra) can read every file:
Parquet TIME is not readable by Spark 4.0, so a TIME column (`shifts.start_time`) is written as a
naive TIMESTAMP on 1970-01-01 by default; `keep_time=True` writes it as Parquet TIME instead.
This is exactly what the Spark scale path (`spark.py`) reads.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..canonical import MODEL_TABLE_NAMES, MODEL_VERSION

TIME_EPOCH = "DATE '1970-01-01'"


@dataclass(frozen=True)
class Written:
    table: str
    rows: int
    path: Path
    bytes: int


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {_quote(table)}").fetchall()]


def _select_list(columns: list[tuple[str, str]], keep_time: bool) -> str:
    out = []
    for name, dtype in columns:
        if dtype.upper() == "TIME" and not keep_time:
            out.append(f"CAST({TIME_EPOCH} + {_quote(name)} AS TIMESTAMP) AS {_quote(name)}")
        else:
            out.append(_quote(name))
    return ", ".join(out)


def export_tables(
    con,
    dest: Path,
    tables: tuple[str, ...] | list[str] = MODEL_TABLE_NAMES,
    keep_time: bool = False,
) -> list[Written]:
    """Write each table to `dest/<table>.parquet` from an open DuckDB connection."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in tables:
        path = dest / f"{name}.parquet"
        select = _select_list(_columns(con, name), keep_time)
        con.execute(f"COPY (SELECT {select} FROM {_quote(name)}) TO {_literal(str(path))} (FORMAT parquet)")
        rows = int(con.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0])  # type: ignore[index]
        written.append(Written(name, rows, path, path.stat().st_size))
    return written


def export_parquet(ws, dest: str | os.PathLike[str], keep_time: bool = False) -> list[Written]:
    """Every canonical table of the workspace's warehouse to `dest/<table>.parquet`."""
    dest = Path(dest).expanduser().resolve()
    with ws.connect(read_only=True) as con:
        return export_tables(con, dest, MODEL_TABLE_NAMES, keep_time)


def warehouse_fingerprint(ws) -> str:
    """A short hash of what the warehouse holds: its loads, the row count and columns of every
    canonical table and the model version. Any ingest, replace or demo rebuild changes it."""
    h = hashlib.sha256()
    with ws.connect(read_only=True) as con:
        loads = con.execute(
            "SELECT load_id, table_name, source, sha256, rows_accepted, status, CAST(finished_at AS VARCHAR) "
            "FROM loads ORDER BY load_id, table_name"
        ).fetchall()
        counts = {
            t: int(con.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0])  # type: ignore[index]
            for t in MODEL_TABLE_NAMES
        }
        columns = {t: _columns(con, t) for t in MODEL_TABLE_NAMES}
    payload = {"model": MODEL_VERSION, "loads": loads, "counts": counts, "columns": columns}
    h.update(json.dumps(payload, default=str, sort_keys=True).encode())
    return h.hexdigest()[:16]
