"""Load test of the web app: 50 concurrent keep-alive clients over the main pages and API calls on the demo
company, 15 % of their requests writes (comments, each with its audit entry).

    python benchmarks/bench_web.py [WORKSPACE] [--clients 50] [--seconds 60] [--workers 2] [--writes 0.15]

WORKSPACE defaults to .bench/web-demo, built with `opsfin demo --scale demo --seed 42 --no-serve` when
missing. The script adds two users (an admin and a plant manager scoped to P1) and API tokens, starts
`opsfin serve --workers N` in a subprocess, waits until the server has warmed its result cache (one sequential pass
over every route, timed and printed as "first hit"), then runs the clients — each a thread with its own
httpx client (keep-alive: each client reuses its connections), logged in through the form for the pages
and using a bearer token for the API; a request is a write with probability --writes, else a read route
drawn at random — and prints requests, errors and p50/p95/p99 latency per route and overall.
Target: 50 clients for 60 s, p95 ≤ 300 ms, no errors.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WS = ROOT / ".bench" / "web-demo"
PERIOD = "2025-11"


def ensure_workspace(path: Path) -> None:
    if (path / "opsfin.yaml").exists() and (path / "warehouse.duckdb").exists():
        return
    print(f"building the demo company into {path} …", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "demo",
            "--dir",
            str(path),
            "--scale",
            "demo",
            "--seed",
            "42",
            "--no-serve",
        ],
        check=True,
    )


def people(path: Path) -> dict[str, str]:
    """Fresh bench users (new names each run) and their tokens; returns name/password/token strings."""
    import opsfin
    from opsfin.appdb import open_app_db

    db = open_app_db(opsfin.open(path))
    run = secrets.token_hex(3)
    out = {}
    for key, role, sites in (
        ("admin", "admin", None),
        ("plant", "controller", ("P1",)),
        ("analyst", "analyst", None),
    ):
        name, password = f"bench-{key}-{run}", secrets.token_urlsafe(12)
        db.add_user(name, role, password, sites=sites, actor="bench")
        out[f"{key}_name"], out[f"{key}_password"] = name, password
        out[f"{key}_token"] = db.create_token(f"bench-{key}-{run}", name, actor="bench")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login(client: httpx.Client, name: str, password: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"})
    if response.status_code >= 400 or "opsfin_session" not in client.cookies:
        raise SystemExit(f"login as {name} failed: {response.status_code}")


def routes(p: str) -> list[tuple[str, str, str, str]]:
    """(label, who, method, path): who is 'admin' (session), 'plant' (session), or 'api'/'plant-api'/'write'."""
    q = f"period={p}"
    return [
        ("page /", "admin", "GET", f"/?{q}"),
        ("page / (plant manager)", "plant", "GET", f"/?{q}"),
        ("page /operations", "admin", "GET", f"/operations?{q}"),
        ("page /unit-economics", "admin", "GET", f"/unit-economics?{q}"),
        ("page /variances", "admin", "GET", f"/variances?{q}"),
        ("page /variances (plant manager)", "plant", "GET", f"/variances?{q}"),
        ("page /alerts", "admin", "GET", f"/alerts?{q}"),
        ("page /kpis/oee", "admin", "GET", f"/kpis/oee?{q}"),
        ("page /data", "admin", "GET", f"/data?{q}"),
        ("api /kpis", "api", "GET", "/api/v1/kpis"),
        ("api /kpis/oee?by=site", "api", "GET", "/api/v1/kpis/oee?by=site"),
        ("api /kpis/oee?by=site (plant)", "plant-api", "GET", "/api/v1/kpis/oee?by=site"),
        ("api /alerts", "api", "GET", "/api/v1/alerts"),
        ("api /bottlenecks", "api", "GET", "/api/v1/bottlenecks"),
        ("api /variances", "api", "GET", f"/api/v1/variances?from={p}&to={p}"),
        ("api /unit-economics", "api", "GET", f"/api/v1/unit-economics?from={p}-01&to={p}-30"),
        ("api /loads", "api", "GET", "/api/v1/loads"),
        ("api /actions", "api", "GET", "/api/v1/actions"),
        ("api POST /comments", "write", "POST", "/api/v1/comments"),
    ]


class Clients:
    """One set of logged-in httpx clients (a thread's)."""

    def __init__(self, base: str, who: dict[str, str]):
        self.admin = httpx.Client(base_url=base, timeout=60)
        self.plant = httpx.Client(base_url=base, timeout=60)
        login(self.admin, who["admin_name"], who["admin_password"])
        login(self.plant, who["plant_name"], who["plant_password"])
        self.api = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {who['admin_token']}"})
        self.plant_api = httpx.Client(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {who['plant_token']}"}
        )
        self.write = httpx.Client(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {who['analyst_token']}"}
        )

    def send(self, who: str, method: str, path: str) -> httpx.Response:
        client = {
            "admin": self.admin,
            "plant": self.plant,
            "api": self.api,
            "plant-api": self.plant_api,
            "write": self.write,
        }[who]
        if method == "POST":
            # on a KPI whose page is not in the plan: the comments of a subject are loaded whole (the app
            # database has no paging yet), so a page read here would slow down run after run
            return client.post(
                path,
                json={
                    "subject_type": "kpi",
                    "subject_id": "picks_per_hour",
                    "site": "W1",
                    "body": "load test comment",
                },
            )
        return client.get(path)

    def close(self) -> None:
        for c in (self.admin, self.plant, self.api, self.plant_api, self.write):
            c.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workspace", nargs="?", default=str(DEFAULT_WS))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="opsfin serve --workers")
    parser.add_argument("--writes", type=float, default=0.15, help="share of requests that write a comment")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--period", default=PERIOD)
    args = parser.parse_args()
    ws = Path(args.workspace).resolve()
    ensure_workspace(ws)
    who = people(ws)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "opsfin", "serve", "-w", str(ws), "--port", str(port), "--workers", str(args.workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.2)
        plan = routes(args.period)
        reads = [r for r in plan if r[2] == "GET"]
        writes = [r for r in plan if r[2] != "GET"]
        first = Clients(base, who)
        print(f"server {base} over {ws}; first hit of each route (cache warming, sequential):")
        for label, kind, method, path in plan:
            t = time.perf_counter()
            r = first.send(kind, method, path)
            print(f"  {label:<34} {r.status_code}  {(time.perf_counter() - t) * 1000:8.0f} ms")
            if r.status_code >= 400:
                raise SystemExit(f"{label}: HTTP {r.status_code}: {r.text[:300]}")
        first.close()
        # every worker process keeps its own result cache: warm the others too (the kernel hands each new
        # connection to one worker), so the run measures the steady state, not N cold starts
        for _ in range(3 * (args.workers - 1)):
            again = Clients(base, who)
            for _label, kind, method, path in plan:
                again.send(kind, method, path)
            again.close()
        print(f"then {3 * (args.workers - 1)} more warm-up passes over fresh connections (the other workers)")

        samples: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds
        ready = threading.Barrier(args.clients)

        def client_loop(seed: int) -> None:
            rng = random.Random(seed)
            clients = Clients(base, who)
            ready.wait()
            while time.monotonic() < stop_at:
                label, kind, method, path = rng.choice(writes if rng.random() < args.writes else reads)
                t = time.perf_counter()
                try:
                    ok = clients.send(kind, method, path).status_code < 400
                except httpx.HTTPError:
                    ok = False
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    samples[label].append(ms)
                    if not ok:
                        errors[label] += 1
            clients.close()

        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        every = [ms for v in samples.values() for ms in v]
        n_writes = sum(len(samples[label]) for label, *_ in writes)
        print(
            f"\n{args.clients} concurrent keep-alive clients for {elapsed:.0f} s against {args.workers} worker "
            f"process(es): {len(every)} requests ({len(every) / elapsed:.1f}/s, {n_writes / max(1, len(every)):.0%} "
            f"writes), {sum(errors.values())} errors"
        )
        print(f"  {'route':<34} {'n':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for label, *_ in plan:
            v = samples[label]
            print(
                f"  {label:<34} {len(v):>6} {errors[label]:>4} {pct(v, 50):>8.0f} {pct(v, 95):>8.0f} {pct(v, 99):>8.0f}"
            )
        p95 = pct(every, 95)
        print(
            f"  {'overall':<34} {len(every):>6} {sum(errors.values()):>4} {pct(every, 50):>8.0f} {p95:>8.0f} "
            f"{pct(every, 99):>8.0f}   (mean {statistics.fmean(every):.0f} ms)"
        )
        verdict = "met" if p95 <= 300 and not sum(errors.values()) else "NOT met"
        print(f"target (50 clients, 60 s, keep-alive, writes included): p95 <= 300 ms and no errors: {verdict}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
