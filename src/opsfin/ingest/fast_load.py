"""The checks across rows of a staged CSV (`fast_csv`), found in SQL and worded as `validate` words them.

In the order of `validate.validate_load`, each check is a set-based query over `_opsfin_rows` that finds the
few rows it refuses (duplicate keys, keys already in the warehouse, unknown foreign keys, GL rows in a closed
period, journals that do not balance or lost a row); the reasons are then written in Python, for those rows
only, with the same words and row numbers as the row-by-row path. The accepted rows go from the staged Arrow
table into their table in one insert, refused ones into `quarantine`, in the load's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from .. import warehouse
from .fast_csv import ACCEPTED, LINES, PENDING, ROWS, StagedCsv
from .validate import Candidate, describe_key

_CHUNK_ROWS = 100_000
_MAX_CUTS = 10_000  # more rows left out: filter and sort instead of cutting


def _register_numbers(con: duckdb.DuckDBPyConnection, name: str, numbers: Sequence[int]) -> None:
    con.register(name, pa.table({"n": pa.array(sorted(numbers), type=pa.int64())}))


def _alive(staged: StagedCsv, number: int) -> bool:
    return number not in staged.refused


def _refuse(staged: StagedCsv, number: int, column: str | None, reason: str) -> None:
    cand = Candidate(number, {}, {})
    cand.refuse(column, reason)
    staged.refused[number] = cand


def _cols(columns: Sequence[str], alias: str = "r") -> str:
    return ", ".join(f'{alias}."{c}"' for c in columns)


def _not_null(columns: Sequence[str], alias: str = "r") -> str:
    return " AND ".join(f'{alias}."{c}" IS NOT NULL' for c in columns)


def _repeated_hashes(con: duckdb.DuckDBPyConnection, pk: Sequence[str], alive: str) -> np.ndarray:
    """The hashes that more than one row's key has (a superset of the repeated keys). Sorting the hashes (in
    Polars, on every core) costs less than a GROUP BY over millions of distinct keys."""
    hashes = con.execute(f"SELECT hash({_cols(pk)}) AS h FROM {ROWS} r WHERE {alive}").fetchnumpy()["h"]
    ordered = pl.Series(np.asarray(hashes, dtype=np.uint64)).sort().to_numpy()
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


def _unique_in_file(con: duckdb.DuckDBPyConnection, staged: StagedCsv, noun: str) -> None:
    pk = staged.table.primary_key
    alive = f"r.state = {ACCEPTED} AND {_not_null(pk)}"
    repeated = _repeated_hashes(con, pk, alive)
    if not len(repeated):
        return
    # the rows whose key hash repeats; Python then compares the keys
    con.register("_opsfin_repeated", pa.table({"h": pa.array(repeated, type=pa.uint64())}))
    try:
        rows = con.execute(
            f"SELECT r.n, {_cols(pk)} FROM {ROWS} r WHERE {alive} "
            f"AND hash({_cols(pk)}) IN (SELECT h FROM _opsfin_repeated) ORDER BY r.n"
        ).fetchall()
    finally:
        con.unregister("_opsfin_repeated")
    column = pk[0] if len(pk) == 1 else None
    first: dict[tuple, int] = {}
    for number, *values in rows:
        key = tuple(values)
        if not _alive(staged, number):
            continue
        if key in first:
            _refuse(staged, number, column, f"{describe_key(pk, key)} duplicates row {first[key]} of this {noun}")
        else:
            first[key] = number


def _new_to_warehouse(con: duckdb.DuckDBPyConnection, staged: StagedCsv) -> None:
    decl = staged.table
    pk = decl.primary_key
    on = " AND ".join(f't."{c}" = r."{c}"' for c in pk)
    lineage = "min(t._load_id)" if decl.lineage else "NULL"
    found = con.execute(
        f'SELECT r.n, {_cols(pk)}, {lineage} FROM {ROWS} r JOIN "{decl.name}" t ON {on} '
        f"WHERE r.state = {ACCEPTED} GROUP BY ALL ORDER BY r.n"
    ).fetchall()
    column = pk[0] if len(pk) == 1 else None
    for number, *key, load in found:
        if _alive(staged, number):
            by = f" (load {load})" if load else ""
            _refuse(staged, number, column, f"{describe_key(pk, tuple(key))} is already in {decl.name}{by}")


def _references_exist(
    con: duckdb.DuckDBPyConnection,
    staged: StagedCsv,
    columns: Sequence[str],
    ref_table: str,
    ref_columns: Sequence[str],
) -> None:
    on = " AND ".join(f't."{rc}" = r."{c}"' for c, rc in zip(columns, ref_columns, strict=True))
    missing = con.execute(
        f"SELECT r.n, {_cols(columns)} FROM {ROWS} r WHERE r.state = {ACCEPTED} AND {_not_null(columns)} "
        f'AND NOT EXISTS (SELECT 1 FROM "{ref_table}" t WHERE {on}) ORDER BY r.n'
    ).fetchall()
    column = columns[0] if len(columns) == 1 else None
    for number, *key in missing:
        if _alive(staged, number):
            _refuse(staged, number, column, f"{describe_key(columns, tuple(key))} is not in {ref_table}; load it first")


def _outside_closed_periods(con: duckdb.DuckDBPyConnection, staged: StagedCsv) -> None:
    found = con.execute(
        f"SELECT r.n, r.posting_date FROM {ROWS} r WHERE r.state = {ACCEPTED} "
        "AND date_trunc('month', r.posting_date) IN (SELECT period FROM closed_periods) ORDER BY r.n"
    ).fetchall()
    for number, day in found:
        if _alive(staged, number):
            _refuse(
                staged,
                number,
                "posting_date",
                f"posting_date {day.isoformat()} is in the closed period {day:%Y-%m}; nothing posts into a closed period",
            )


def _journals_balance(con: duckdb.DuckDBPyConnection, staged: StagedCsv) -> None:
    """Journals with a refused row, or whose rows do not sum to 0, checked as `validate._journals_balance` does."""
    _register_numbers(con, "_opsfin_refused", list(staged.refused))
    try:
        rows = con.execute(
            f"WITH affected AS ("
            f"  SELECT journal_id FROM {ROWS} WHERE state = {ACCEPTED} GROUP BY journal_id HAVING sum(amount) <> 0"
            f"  UNION SELECT r.journal_id FROM {ROWS} r JOIN _opsfin_refused x ON x.n = r.n"
            f"  WHERE r.journal_id IS NOT NULL AND r.state <> {PENDING}) "
            f"SELECT r.n, r.journal_id, r.amount FROM {ROWS} r WHERE r.state <> {PENDING} "
            "AND r.journal_id IN (SELECT journal_id FROM affected) ORDER BY r.n"
        ).fetchall()
    finally:
        con.unregister("_opsfin_refused")
    journals: dict[str, list[tuple[int, Decimal]]] = {}
    for number, jid, amount in rows:
        journals.setdefault(jid, []).append((number, amount))
    for jid, members in journals.items():
        bad = [n for n, _ in members if not _alive(staged, n)]
        good = [(n, a) for n, a in members if _alive(staged, n)]
        if not good:
            continue
        total = sum((a for _, a in good), Decimal("0.00"))
        if bad:
            shown = ", ".join(f"row {n}" for n in bad[:3])
            reason = (
                f"journal {jid!r} is refused as a whole: {len(bad)} of its {len(members)} rows "
                f"({shown}{', ...' if len(bad) > 3 else ''}) were refused, "
                f"and its other rows sum to {total}, not 0"
            )
        elif total != 0:
            reason = f"journal {jid!r} does not balance: its {len(members)} rows sum to {total}, not 0"
        else:
            continue
        for number, _ in good:
            _refuse(staged, number, "journal_id", reason)


def check_across_rows(con: duckdb.DuckDBPyConnection, staged: StagedCsv, noun: str) -> None:
    """The checks of `validate.validate_load` for one table, in its order, over the staged rows."""
    decl = staged.table
    _unique_in_file(con, staged, noun)
    _new_to_warehouse(con, staged)
    for fk in decl.foreign_keys:
        _references_exist(con, staged, fk.columns, fk.ref_table, fk.ref_columns)
    if decl.name == "gl_entries":
        if con.execute("SELECT count(*) FROM closed_periods").fetchall() != [(0,)]:
            _outside_closed_periods(con, staged)
        _journals_balance(con, staged)


def refused_in_order(con: duckdb.DuckDBPyConnection, staged: StagedCsv) -> list[Candidate]:
    """Every refused row, by line, each with its raw record."""
    missing_raw = [n for n, c in staged.refused.items() if not c.raw]
    for start in range(0, len(missing_raw), _CHUNK_ROWS):
        chunk = missing_raw[start : start + _CHUNK_ROWS]
        _register_numbers(con, "_opsfin_wanted", chunk)
        try:
            lines = con.execute(
                f"SELECT l.rowid + 1, l.line FROM {LINES} l WHERE l.rowid + 1 IN (SELECT n FROM _opsfin_wanted)"
            ).fetchall()
        finally:
            con.unregister("_opsfin_wanted")
        for number, line in lines:
            staged.refused[number].raw = staged.raw(number, line)
    return [staged.refused[n] for n in sorted(staged.refused)]


def _left_out(state: pa.ChunkedArray, numbers: np.ndarray, refused: Collection[int]) -> np.ndarray:
    """Positions, ascending, of the rows the table leaves out: those SQL did not accept, and the refused ones
    (found in the ascending row `numbers` by binary search: a few rows among millions)."""
    not_accepted, offset = [], 0
    for chunk in state.chunks:
        flags = chunk.to_numpy(zero_copy_only=False)
        not_accepted.append(np.flatnonzero(flags != ACCEPTED) + offset)
        offset += len(flags)
    wanted = np.fromiter(refused, dtype=np.int64, count=len(refused))
    if len(numbers) > 1 and not bool((numbers[1:] > numbers[:-1]).all()):  # never seen; kept exact regardless
        at = np.flatnonzero(pc.is_in(pa.array(numbers), pa.array(wanted)).to_numpy(zero_copy_only=False))
    else:
        at = np.searchsorted(numbers, wanted)
        inside = at < len(numbers)
        at = at[inside][numbers[at[inside]] == wanted[inside]]
    return np.union1d(np.concatenate([np.empty(0, np.int64), *not_accepted]), at)


def _accepted_rows(staged: StagedCsv) -> pa.Table:
    """The accepted rows in line order: the SQL-checked table cut around the rows it does not accept (zero
    copy), with the rows the value parser accepted put back in their places."""
    checked = staged.checked
    assert checked is not None
    python = staged.python
    if python is not None:
        python = python.filter(pc.equal(python.column("state"), ACCEPTED))
        python = python.filter(pc.invert(pc.is_in(python.column("n"), pa.array(list(staged.refused), pa.int64()))))
    numbers = checked.column("n").to_numpy()  # ascending: the rows are in line order
    cuts = _left_out(checked.column("state"), numbers, staged.refused)
    if len(cuts) > _MAX_CUTS:
        kept = np.ones(len(numbers), dtype=bool)
        kept[cuts] = False
        parts = [checked.filter(pa.array(kept))] + ([python] if python is not None else [])
        table = pa.concat_tables(parts)
        return table.sort_by("n") if python is not None and python.num_rows else table
    back = {} if python is None else {n: i for i, n in enumerate(python.column("n").to_pylist())}
    pieces, start = [], 0
    for cut in cuts.tolist():
        pieces.append(checked.slice(start, cut - start))
        if python is not None and int(numbers[cut]) in back:
            pieces.append(python.slice(back[int(numbers[cut])], 1))
        start = cut + 1
    pieces.append(checked.slice(start))
    return pa.concat_tables(pieces)


def insert_accepted(con: duckdb.DuckDBPyConnection, staged: StagedCsv, load_id: str) -> int:
    """The accepted rows, in line order, into their table with the load's id (through Arrow, as every
    ingest writes); returns how many."""
    decl = staged.table
    rows = _accepted_rows(staged).select(decl.column_names)
    if decl.lineage:
        ids = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows.num_rows, np.int8)), pa.array([load_id]))
        rows = rows.append_column("_load_id", ids)
    return warehouse.insert_arrow(con, decl, rows) if rows.num_rows else 0


def rows_read(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(f"SELECT count(*) FROM {ROWS} WHERE state <> {PENDING}").fetchall()[0][0])
