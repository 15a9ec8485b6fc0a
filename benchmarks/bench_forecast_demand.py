"""Time `opsfin forecast demand` on the `demo` company (docs/forecasting.md "Demand forecasts from the warehouse").

    python benchmarks/bench_forecast_demand.py                 # builds (once) and reuses ./.bench/demo
    python benchmarks/bench_forecast_demand.py /path/to/demo   # or OPSFIN_BENCH_DEMO=/path/to/demo
    python benchmarks/bench_forecast_demand.py --as-of 2025-06 --horizon 18 --models auto

Runs the command as a user does (a new process, so start-up is included) with a new version name each time
(`BENCH-<time>`: every run stores a version in the benchmark's workspace), prints the seconds and the target,
and checks that the stored total p50 equals the sum of the product × site p50 of every month.
Target: ≤ 60 s on 2 cores."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import opsfin

DEFAULT_DIR = Path(".bench/demo")
TARGET_S = 60.0


def _workspace(path: Path):
    if not (path / "warehouse.duckdb").exists():
        from opsfin.demo import generate

        print(f"building the demo company in {path} (cached) …", flush=True)
        generate(path, scale="demo", seed=42)
    return opsfin.open(path)


def _adds_up(ws, version: str) -> bool:
    rows = ws.sql(
        "SELECT period, level, p50 FROM forecast_values WHERE version = ? AND level IN ('total', 'product_site')",
        [version],
    ).rows()
    totals: dict = {}
    for period, level, p50 in rows:
        totals.setdefault(period, {"total": Decimal(0), "product_site": Decimal(0)})[level] += Decimal(repr(p50))
    return bool(totals) and all(t["total"] == t["product_site"] for t in totals.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=os.environ.get("OPSFIN_BENCH_DEMO", str(DEFAULT_DIR)))
    ap.add_argument("--as-of", default=None, help="default: the last month with shipments")
    ap.add_argument("--horizon", default="18")
    ap.add_argument("--models", default="auto")
    args = ap.parse_args(argv)
    ws = _workspace(Path(args.path))
    as_of = args.as_of or f"{ws.sql('SELECT max(shipped_date) AS d FROM shipments')['d'][0]:%Y-%m}"
    version = f"BENCH-{time.strftime('%Y%m%d-%H%M%S')}"
    command = [sys.executable, "-m", "opsfin", "forecast", "demand", "--as-of", as_of, "--horizon", args.horizon]
    command += ["--version", version, "--models", args.models, "--format", "csv", "-w", str(ws.path)]
    t0 = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        return 1
    rows = len(run.stdout.splitlines()) - 1
    ok = _adds_up(ws, version)
    print(f"opsfin forecast demand --as-of {as_of} --horizon {args.horizon} --models {args.models}: {rows} rows")
    print(f"{seconds:.1f} s (target ≤ {TARGET_S:.0f} s); levels add up: {'yes' if ok else 'NO'}")
    return 0 if ok and seconds <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
