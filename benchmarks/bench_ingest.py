"""Time a validated ingest of a large `gl_entries` CSV against DuckDB's own `read_csv` into a table.

    python benchmarks/bench_ingest.py                  # 10,000,000 rows in ./.bench/ingest
    python benchmarks/bench_ingest.py --rows 1000000   # a smaller file
    python benchmarks/bench_ingest.py --keep           # keep the generated CSV for the next run

The CSV holds balanced journals of four lines over 50 accounts and 20 cost centres, and a few bad rows of
every kind the checks know (too many decimals, an impossible date, an unknown account, a duplicate entry id,
a lower-case currency, an empty required cell, a wrong number of fields), so that the timed ingest runs every
check and quarantines a handful of journals. Both timings run in this process, in turns, on the same file:

- `ingest`: `opsfin.ingest.ingest_file(ws, csv, table="gl_entries")`, the path `opsfin ingest` takes, into a
  fresh workspace holding the accounts and cost centres (every check: values, keys, foreign keys, closed
  periods, journals balance, the atomic write, the quarantine and the `loads` row);
- `read_csv`: `CREATE TABLE t AS SELECT * FROM read_csv(csv)` into a fresh DuckDB file.

It prints rows/s of both and the ratio ingest/read_csv. Targets (docs/ingest.md): ≥ 1M rows/s and a
ratio ≤ 2."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb

import opsfin
from opsfin import ingest

DEFAULT_DIR = Path(".bench/ingest")
ACCOUNTS, COST_CENTERS, DAYS = 50, 20, 730

# one row per line i: journal i // 4 holds +x, +y, -x, -y (balanced); a few rows are spoiled on purpose
GL_SQL = """
COPY (
  SELECT
    CASE WHEN i % 2000033 = 7 THEN 'E' || (i - 1) ELSE 'E' || i END AS entry_id,
    'J' || (i // 4) AS journal_id,
    CASE WHEN i % 1500007 = 11 THEN '2024-02-30'
         ELSE strftime(DATE '2023-01-01' + CAST((i // 4) % {days} AS INTEGER), '%Y-%m-%d') END AS posting_date,
    CASE WHEN i % 3000017 = 13 THEN 'A999' ELSE 'A' || ((i // 4 * 7 + i % 4) % {accounts}) END AS account_id,
    CASE WHEN (i // 4) % 3 = 0 THEN '' ELSE 'CC' || ((i // 4) % {cost_centers}) END AS cost_center_id,
    CASE WHEN i % 1000003 = 17 THEN '12.345'
         ELSE printf('%.2f', (CASE WHEN i % 4 < 2 THEN 1 ELSE -1 END)
                             * (((i // 4) * 7919 + (i % 2) * 104729) % 1000000) / 100.0) END AS amount,
    CASE WHEN i % 4000037 = 19 THEN 'eur' ELSE 'EUR' END AS currency,
    CASE WHEN i % 5000011 = 23 THEN '' ELSE 'Journal line ' || (i % 4 + 1) END AS description,
    'DOC-' || (i // 4) AS source_doc
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',', QUOTE '')
"""


def write_gl_csv(path: Path, rows: int) -> None:
    """The benchmark's CSV, written by DuckDB (seconds for 10M rows); one line has a field too many."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    sql = GL_SQL.format(days=DAYS, accounts=ACCOUNTS, cost_centers=COST_CENTERS, rows=rows, path=path)
    con.execute(sql)
    con.close()
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"E{rows},J{rows},2023-01-01,A1,,1.00,EUR,extra field,DOC,oops\n")


def master_data(folder: Path) -> tuple[Path, Path, Path]:
    sites = folder / "sites.csv"
    sites.write_text("site_id,name,kind,region,std_energy_price\nS1,Plant 1,plant,EU,0.2000\n", encoding="utf-8")
    centers = folder / "cost_centers.csv"
    centers.write_text(
        "cost_center_id,site_id,name,kind,owner\n"
        + "".join(f"CC{k},S1,Centre {k},production,Owner\n" for k in range(COST_CENTERS)),
        encoding="utf-8",
    )
    accounts = folder / "accounts.csv"
    accounts.write_text(
        "account_id,name,type,role\n" + "".join(f"A{k},Account {k},expense,opex\n" for k in range(ACCOUNTS)),
        encoding="utf-8",
    )
    return sites, centers, accounts


def fresh_workspace(folder: Path) -> opsfin.Workspace:
    if folder.exists():
        shutil.rmtree(folder)
    ws = opsfin.init(folder)
    for path, name in zip(master_data(folder.parent), ("sites", "cost_centers", "accounts"), strict=True):
        result = ingest.ingest_file(ws, path, table=name)
        assert result.rows_quarantined == 0, result.first_problems
    return ws


def time_ingest(folder: Path, csv_path: Path) -> tuple[float, ingest.LoadResult]:
    ws = fresh_workspace(folder / "ws")
    start = time.perf_counter()
    result = ingest.ingest_file(ws, csv_path, table="gl_entries")
    return time.perf_counter() - start, result


def time_read_csv(folder: Path, csv_path: Path) -> tuple[float, int]:
    db = folder / "read_csv.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}', ignore_errors=true)")
    seconds = time.perf_counter() - start
    count = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()
    db.unlink(missing_ok=True)
    return seconds, int(count[0]) if count else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the generated CSV")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    csv_path = (args.dir / f"gl_entries_{args.rows}.csv").resolve()
    if not csv_path.exists():
        start = time.perf_counter()
        write_gl_csv(csv_path, args.rows)
        print(f"wrote {csv_path} ({csv_path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - start:.1f} s")
    base_seconds, base_rows = time_read_csv(args.dir, csv_path)
    seconds, result = time_ingest(args.dir, csv_path)
    rows = result.rows_read
    print(f"read_csv : {base_rows:>12,} rows in {base_seconds:7.2f} s = {base_rows / base_seconds:>12,.0f} rows/s")
    print(
        f"ingest   : {rows:>12,} rows in {seconds:7.2f} s = {rows / seconds:>12,.0f} rows/s "
        f"({result.rows_accepted:,} accepted, {result.rows_quarantined:,} quarantined)"
    )
    ratio = seconds / base_seconds
    print(f"ratio ingest/read_csv: {ratio:.2f} (target ≤ 2); ingest rows/s target ≥ 1,000,000")
    for note in result.first_problems:
        print(f"  row {note.source_row}: {note.reason[:110]}")
    if not args.keep:
        csv_path.unlink()
    return 0 if rows / seconds >= 1_000_000 and ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
