"""Speed where a person waits: the value-stream and unit-economics commands and the first pages, cold and warm.

    python benchmarks/bench_pages.py [WORKSPACE] [--repeat 1]

WORKSPACE defaults to .bench/web-demo, built with `opsfin demo --scale demo --seed 42 --no-serve` when missing
(bench_web.py's helpers). Each measurement runs in a fresh Python process:

- a command, **cold**: `opsfin <command> --format csv` as a new process (imports, opening the workspace and the
  engine call: what a person at a terminal waits for); **warm**: the same Workspace method called a second time
  in one process (a notebook, a script, the server);
- a page, **cold**: a new process builds the web app without its start-up warm-up (`create_app(warm=False)`:
  an empty result cache), logs in, and asks for the page; **warm**: the same page asked again (the result
  cache serves it). The app's import and the login are not counted (they are printed apart).

Each line gives the wall time and the CPU time of the process (user + system, all threads), since on a shared
machine the wall time also measures the neighbours. Targets: warm ≤ 1 s, cold ≤ 3 s (wall).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_web import DEFAULT_WS, ensure_workspace  # noqa: E402 - beside this file

COLD, WARM = 3.0, 1.0
COMMANDS = [
    ("opsfin value-stream", ["value-stream"], "value_stream", {}),
    ("opsfin unit-economics", ["unit-economics"], "unit_economics", {}),
    (
        "opsfin unit-economics --by customer",
        ["unit-economics", "--by", "customer"],
        "unit_economics",
        {"by": "customer"},
    ),
]
PAGES = ["/", "/unit-economics", "/unit-economics?by=customer"]

WARM_CALL = """
import json, sys, time, opsfin
ws = opsfin.open(sys.argv[1])
method, kwargs = getattr(ws, sys.argv[2]), json.loads(sys.argv[3])
method(**kwargs)
t = time.perf_counter(); c = time.process_time()
method(**kwargs)
print(json.dumps([time.perf_counter() - t, time.process_time() - c]))
"""

PAGE_CALL = """
import json, sys, time, warnings
sys.path.insert(0, sys.argv[3])
warnings.simplefilter("ignore")
t0 = time.perf_counter()
from fastapi.testclient import TestClient
from bench_web import login, people
from opsfin.web.app import create_app
ws, page = sys.argv[1], sys.argv[2]
who = people(__import__("pathlib").Path(ws))
client = TestClient(create_app(ws, warm=False), follow_redirects=False)
login(client, who["admin_name"], who["admin_password"])
ready = time.perf_counter() - t0
out = [ready]
for _ in range(2):
    t = time.perf_counter(); c = time.process_time()
    r = client.get(page)
    if r.status_code != 200:
        raise SystemExit(f"{page}: HTTP {r.status_code}")
    out += [time.perf_counter() - t, time.process_time() - c]
print(json.dumps(out))
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cold_command(ws: Path, argv: list[str]) -> tuple[float, float]:
    cpu, t = _children_cpu(), time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "opsfin", *argv, "-w", str(ws), "--format", "csv"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t, _children_cpu() - cpu


def run_python(code: str, *args: str) -> list[float]:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(seconds: float, target: float) -> str:
    return "ok" if seconds <= target else "SLOW"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workspace", nargs="?", default=str(DEFAULT_WS))
    parser.add_argument("--repeat", type=int, default=1, help="measure each line N times, keep the fastest")
    args = parser.parse_args()
    ws = Path(args.workspace).resolve()
    ensure_workspace(ws)
    here = str(Path(__file__).resolve().parent)
    rows = []
    for label, argv, method, kwargs in COMMANDS:
        cold = min((run_cold_command(ws, argv) for _ in range(args.repeat)), key=lambda r: r[0])
        warm = min(run_python(WARM_CALL, str(ws), method, json.dumps(kwargs)) for _ in range(args.repeat))
        rows.append((label, cold, tuple(warm), None))
    for page in PAGES:
        got = min((run_python(PAGE_CALL, str(ws), page, here) for _ in range(args.repeat)), key=lambda r: r[1])
        rows.append((f"page {page}", (got[1], got[2]), (got[3], got[4]), got[0]))
    print(f"demo workspace {ws}; targets: cold <= {COLD:.0f} s, warm <= {WARM:.0f} s (wall)")
    print(f"  {'what':<38} {'cold wall':>9} {'cpu':>6} {'':4} {'warm wall':>9} {'cpu':>6} {'':4}  app+login")
    for label, (cw, cc), (ww, wc), ready in rows:
        extra = f"  {ready:6.2f} s" if ready is not None else ""
        print(
            f"  {label:<38} {cw:8.2f}s {cc:5.2f}s {verdict(cw, COLD):4} {ww:8.2f}s {wc:5.2f}s {verdict(ww, WARM):4}{extra}"
        )
    print("  (there is no value-stream page: value streams are a command and a Workspace method only)")
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: on a shared machine compare the cpu")
    print("   columns; the wall time measures the neighbours too, and the targets are quiet-machine wall times)")


if __name__ == "__main__":
    main()
