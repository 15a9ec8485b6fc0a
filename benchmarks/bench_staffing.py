"""Time `opsfin plan staffing` for 4 weeks of the `demo` company and print what the roster saves
(docs/predict.md "Staffing roster").

    python benchmarks/bench_staffing.py                 # builds (once) and reuses ./.bench/demo
    python benchmarks/bench_staffing.py /path/to/demo   # or OPSFIN_BENCH_DEMO=/path/to/demo
    python benchmarks/bench_staffing.py --from 2025-11-03 --weeks 4

Runs the command as a user does (a new process). By default the roster starts on the Monday four weeks
before the last timesheet, so the baseline is the company's own timesheets of those weeks. Prints the
wall and CPU seconds against the target (≤ 60 s on 2 cores), CP-SAT's status and gap, the roster's cost
beside the baseline's, and the overtime and idle hours avoided."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from bench_plan import DEFAULT_DIR, _workspace
from timing import timed_run

TARGET_S = 60.0


def _default_start(ws, weeks: int) -> str:
    last = ws.sql("SELECT max(work_date) AS d FROM timesheets")["d"][0]
    first = last - dt.timedelta(days=7 * weeks - 1)
    return str(first - dt.timedelta(days=first.weekday()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=os.environ.get("OPSFIN_BENCH_DEMO", str(DEFAULT_DIR)))
    ap.add_argument("--from", dest="start", default=None, help="the roster's first day (default: see above)")
    ap.add_argument("--weeks", type=int, default=4)
    args = ap.parse_args(argv)
    ws = _workspace(Path(args.path))
    start = args.start or _default_start(ws, args.weeks)
    command = [sys.executable, "-m", "opsfin", "plan", "staffing", "--from", start, "--weeks", str(args.weeks)]
    command += ["--format", "json", "-w", str(ws.path)]
    run, seconds, cpu = timed_run(command)
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        return 1
    result = json.loads(run.stdout)
    solver, saving = result["solver"], result["saving"]
    print(f"opsfin plan staffing --from {start} --weeks {args.weeks}: {solver['employees']} employees, "
          f"{len(result['roster'])} shifts, {len(result['coverage'])} work-centre shifts to cover")  # fmt: skip
    print(f"{seconds:.1f} s wall, {cpu:.1f} s CPU (target ≤ {TARGET_S:.0f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); CP-SAT {solver['status']}, gap {solver['gap']:.1%}")  # fmt: skip
    for key in ("total", "regular", "overtime", "uncovered_hours", "idle_hours"):
        print(f"  {key:<16} roster {result['cost'][key]:>12}   baseline {result['baseline'][key]:>12}")
    print(f"saving {saving['cost']}; overtime hours avoided {saving['overtime_hours_avoided']}; "
          f"idle hours avoided {saving['idle_hours_avoided']}; uncovered hours avoided {saving['uncovered_hours_avoided']}")  # fmt: skip
    return 0 if seconds <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
