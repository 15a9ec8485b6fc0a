"""Time `opsfin plan build` for 18 months of the `demo` company and check that it ties to the books
(docs/planning.md "Speed" and "It ties to the books").

    python benchmarks/bench_plan.py                 # builds (once) and reuses ./.bench/demo
    python benchmarks/bench_plan.py /path/to/demo   # or OPSFIN_BENCH_DEMO=/path/to/demo
    python benchmarks/bench_plan.py --months 18 --volumes actual

Runs the command as a user does (a new process, so start-up is included) into a new version name
(`BENCH-<time>`), prints the seconds against the target, and checks every month built from actual volumes:
plan revenue = −Σ GL role `revenue` and plan COGS = Σ GL role `cogs`, to the cent, recomputed here with
plain SQL over gl_entries joined to accounts. Target: ≤ 10 s on 2 cores. The wall and the CPU seconds of the
command are both printed: on a shared machine the wall time includes the other processes' turns."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from timing import timed_run

import opsfin

DEFAULT_DIR = Path(".bench/demo")
TARGET_S = 10.0


def _workspace(path: Path):
    if not (path / "warehouse.duckdb").exists():
        from opsfin.demo import generate

        print(f"building the demo company in {path} (cached) …", flush=True)
        generate(path, scale="demo", seed=42)
    return opsfin.open(path)


def _last_month(ws) -> str:
    return f"{ws.sql('SELECT max(shipped_date) AS d FROM shipments')['d'][0]:%Y-%m}"


def _minus_months(month: str, n: int) -> str:
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + mon - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def tie_out(ws, version: str) -> list[str]:
    """The months whose plan revenue or COGS differ from the GL's, with both figures (empty: all tie)."""
    gl = ws.sql(
        "SELECT date_trunc('month', g.posting_date)::DATE AS period, a.role, sum(g.amount) AS gl "
        "FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id "
        "WHERE a.role IN ('revenue', 'cogs') GROUP BY ALL"
    )
    books = {(r["period"], r["role"]): (-r["gl"] if r["role"] == "revenue" else r["gl"]) for r in gl.to_dicts()}
    plan = ws.sql(
        "SELECT period, line, sum(amount) AS amount FROM plan_pnl WHERE version = ? AND line IN ('revenue', 'cogs') "
        "GROUP BY ALL ORDER BY period, line",
        [version],
    )
    bad = []
    for r in plan.to_dicts():
        expected = books.get((r["period"], r["line"]))
        if r["amount"] != expected:
            bad.append(f"{r['period']:%Y-%m} {r['line']}: plan {r['amount']} vs GL {expected}")
    if plan.is_empty():
        bad.append("no plan rows")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=os.environ.get("OPSFIN_BENCH_DEMO", str(DEFAULT_DIR)))
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument("--volumes", default="actual", help="actual (checked against the GL) or a version")
    args = ap.parse_args(argv)
    ws = _workspace(Path(args.path))
    last = _last_month(ws)
    first = _minus_months(last, args.months - 1)
    version = f"BENCH-{time.strftime('%Y%m%d-%H%M%S')}"
    command = [sys.executable, "-m", "opsfin", "plan", "build", "--version", version, "--volumes", args.volumes]
    command += ["--from", first, "--to", last, "--kind", "scenario", "--format", "json", "-w", str(ws.path)]
    run, seconds, cpu = timed_run(command)
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        return 1
    print(f"opsfin plan build --volumes {args.volumes} --from {first} --to {last}: {args.months} months")
    load = os.getloadavg()[0]
    print(
        f"{seconds:.1f} s wall, {cpu:.1f} s CPU (target ≤ {TARGET_S:.0f} s; load average {load:.1f} on {os.cpu_count()} cores)"
    )
    ok = True
    if args.volumes == "actual":
        bad = tie_out(ws, version)
        ok = not bad
        print(f"revenue and COGS tie to the GL in every month: {'yes' if ok else 'NO'}")
        for line in bad[:12]:
            print(f"  {line}")
    # on a shared machine the wall time counts the others' work too: the CPU time is what the build costs
    return 0 if ok and min(seconds, cpu) <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
