"""Time `opsfin variance` (the engine behind it) for a full year on the `large` demo company.

    python benchmarks/bench_variance.py                  # builds (once) and reuses ./.bench/large
    python benchmarks/bench_variance.py /path/to/large   # or OPSFIN_BENCH_LARGE=/path/to/large
    python benchmarks/bench_variance.py --year 2024 --runs 3

Times the company bridge and the `--by machine` split (the largest split) for the year, each the median of N
runs after an untimed warm-up, including the fetch into Polars. Also checks that the parts add to the total
and that nothing is left in `other_manufacturing`. Target: ≤ 30 s for the year on 2 cores."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import opsfin

DEFAULT_DIR = Path(".bench/large")
TARGET_S = 30.0


def _workspace(path: Path):
    if not (path / "warehouse.duckdb").exists():
        from opsfin.demo import generate

        print(f"building the large demo company in {path} (several minutes, cached) …", flush=True)
        generate(path, scale="large", seed=42)
    return opsfin.open(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=os.environ.get("OPSFIN_BENCH_LARGE", str(DEFAULT_DIR)))
    ap.add_argument("--year", type=int, default=None, help="default: the last full plan year")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args(argv)
    ws = _workspace(Path(args.path))
    if args.year is None:
        last = ws.sql("SELECT max(period) AS p FROM volume_plan")["p"][0]
        args.year = last.year if last.month == 12 else last.year - 1
    lo, hi = f"{args.year}-01", f"{args.year}-12"
    ok = True
    for label, by in (("company", None), ("--by machine", "machine")):
        ws.variance(lo, hi, by=by) if args.runs > 1 else None  # warm-up only when taking a median
        times, result = [], None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = ws.variance(lo, hi, by=by)
            times.append(time.perf_counter() - t0)
        assert result is not None
        rows = result.to_dicts()
        total = next(r["amount"] for r in rows if r["category"] == "total")
        parts = sum(r["amount"] for r in rows if r["category"] != "total")
        other = sum(r["amount"] for r in rows if r["category"] == "other_manufacturing")
        t = statistics.median(times)
        ok &= parts == total and t <= TARGET_S
        print(
            f"variance {args.year} {label:<13} {t:7.2f} s  (target ≤ {TARGET_S:.0f} s)  rows={len(rows)}  "
            f"total={total}  parts add: {parts == total}  other_manufacturing={other}",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
